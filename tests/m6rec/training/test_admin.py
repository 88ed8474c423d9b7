"""Admin: version list with metrics + chart, actions (through services, audited), run admin."""

import pytest
from django.urls import reverse

from m6rec.registry.models import AuditLog, ModelVersion
from m6rec.training.models import TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "a@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def versions(tenant, ingest, fake_engine):
    """Two trained versions: v1 (0.2) then v2 (0.3, auto-promoted)."""
    from m6rec.training import services

    ingest(tenant)
    for ndcg in (0.2, 0.3):
        fake_engine.ndcg = ndcg
        run = services.training_run_create(tenant=tenant, trigger="api", dispatch=False)
        services.training_run_execute(run_id=run.pk)
    return list(ModelVersion.objects.filter(tenant=tenant).order_by("number"))


def test_version_changelist_shows_metrics_and_chart(staff, tenant, versions):
    url = reverse("admin:registry_modelversion_changelist") + f"?tenant__id__exact={tenant.pk}"
    response = staff.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "0.3000" in html and "0.2000" in html
    assert "<svg" in html and "<polyline" in html and "Validation nDCG@10" in html


def test_rollback_action_is_audited(staff, tenant, versions):
    url = reverse("admin:registry_modelversion_changelist")
    response = staff.post(
        url,
        {"action": "rollback_tenants", "_selected_action": [versions[1].pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "v1 is now active" in response.content.decode()
    assert ModelVersion.objects.get(pk=versions[0].pk).status == "active"
    log = AuditLog.objects.filter(tenant=tenant).order_by("-id").first()
    assert (log.action, log.actor) == ("rollback", "user:admin")


def test_promote_and_pin_actions(staff, tenant, versions):
    url = reverse("admin:registry_modelversion_changelist")
    staff.post(url, {"action": "promote_selected", "_selected_action": [versions[0].pk]})
    assert ModelVersion.objects.get(pk=versions[0].pk).status == "active"
    staff.post(url, {"action": "pin_selected", "_selected_action": [versions[1].pk]})
    v2 = ModelVersion.objects.get(pk=versions[1].pk)
    assert v2.status == "active" and v2.pinned


def test_train_now_from_run_admin(staff, tenant, monkeypatch):
    from m6rec.training import services

    monkeypatch.setattr(services.runs, "training_run_dispatch", lambda *, run_id: None)
    response = staff.post(reverse("admin:training_trainingrun_add"), {"tenant": tenant.pk})
    assert response.status_code == 302
    run = TrainingRun.objects.get(tenant=tenant)
    assert (run.status, run.trigger, run.requested_by_label) == ("queued", "admin", "user:admin")
    # a second one is refused with a form error
    response = staff.post(reverse("admin:training_trainingrun_add"), {"tenant": tenant.pk})
    assert response.status_code == 200
    assert "already has a training run in progress" in response.content.decode()
    changelist = staff.get(reverse("admin:training_trainingrun_changelist")).content.decode()
    assert "<progress" in changelist


def test_train_now_action_on_tenant_admin(staff, tenant, monkeypatch):
    from django.contrib import admin

    from m6rec.tenants.models import Tenant
    from m6rec.training import services

    assert admin.site.is_registered(Tenant)
    monkeypatch.setattr(services.runs, "training_run_dispatch", lambda *, run_id: None)
    staff.post(
        reverse("admin:tenants_tenant_changelist"),
        {"action": "train_now", "_selected_action": [tenant.pk]},
    )
    assert TrainingRun.objects.get(tenant=tenant).trigger == "admin"


def test_audit_log_is_read_only(staff, tenant, versions):
    log = AuditLog.objects.filter(tenant=tenant).first()
    assert staff.get(reverse("admin:registry_auditlog_changelist")).status_code == 200
    assert staff.get(reverse("admin:registry_auditlog_add")).status_code == 403
    response = staff.post(reverse("admin:registry_auditlog_change", args=[log.pk]), {})
    assert response.status_code == 403
