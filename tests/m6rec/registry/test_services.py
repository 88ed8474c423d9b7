"""Registry services: the gate, the one-active constraint, promote / rollback / pin / fail."""

import pytest
from django.db import IntegrityError, transaction

from m6rec.registry import selectors, services
from m6rec.registry.errors import NothingToRollBackError, VersionConflictError
from m6rec.registry.models import AuditLog, ModelVersion

pytestmark = pytest.mark.django_db


def statuses(tenant):
    return dict(ModelVersion.objects.filter(tenant=tenant).values_list("number", "status"))


def test_gate_decide_pure_logic(tenant, make_version):
    active = make_version(tenant, 0.30, status="active")
    decide = services.gate_decide
    assert decide(candidate_metric=0.2, active=None, margin=0.0).promoted  # first version
    assert not decide(candidate_metric=0.29, active=active, margin=0.0).promoted
    assert not decide(candidate_metric=0.30, active=active, margin=0.0).promoted  # tie: keep
    assert decide(candidate_metric=0.31, active=active, margin=0.0).promoted
    assert not decide(candidate_metric=0.31, active=active, margin=0.02).promoted
    assert decide(candidate_metric=0.33, active=active, margin=0.02).promoted
    assert not decide(candidate_metric=None, active=active, margin=0.0).promoted


def test_first_version_is_auto_promoted(tenant, make_version):
    v1 = make_version(tenant, 0.2)
    decision = services.version_apply_gate(version=v1)
    assert decision.promoted
    assert selectors.version_get_active(tenant=tenant) == v1
    log = AuditLog.objects.get(tenant=tenant)
    assert log.action == "auto_promote" and log.to_version == v1 and log.actor == "system"


def test_worse_candidate_is_never_auto_promoted(tenant, make_version):
    v1 = make_version(tenant, 0.40, status="active")
    v2 = make_version(tenant, 0.35)
    decision = services.version_apply_gate(version=v2)
    assert not decision.promoted
    assert "does not beat" in decision.reason
    assert statuses(tenant) == {1: "active", 2: "candidate"}
    assert selectors.version_get_active(tenant=tenant) == v1
    assert AuditLog.objects.filter(tenant=tenant, action="gate_reject", to_version=v2).exists()


def test_better_candidate_promoted_subject_to_margin(tenant, make_version, settings):
    make_version(tenant, 0.40, status="active")
    settings.M6REC_PROMOTION_MARGIN = 0.05
    v2 = make_version(tenant, 0.43)
    assert not services.version_apply_gate(version=v2).promoted
    v3 = make_version(tenant, 0.46)
    assert services.version_apply_gate(version=v3).promoted
    assert statuses(tenant) == {1: "retired", 2: "candidate", 3: "active"}
    assert ModelVersion.objects.get(pk=v3.pk).previous_active.number == 1


def test_pinned_tenant_is_not_auto_promoted(tenant, make_version):
    v1 = make_version(tenant, 0.30, status="active")
    services.version_pin(version=v1, actor="ops", reason="freeze for the sale")
    v2 = make_version(tenant, 0.90)
    decision = services.version_apply_gate(version=v2)
    assert not decision.promoted and "pinned" in decision.reason
    assert selectors.version_get_active(tenant=tenant).number == 1
    services.version_unpin(tenant=tenant, actor="ops")
    v3 = make_version(tenant, 0.95)
    assert services.version_apply_gate(version=v3).promoted


def test_database_allows_one_active_version_per_tenant(tenant, other_tenant, make_version):
    v1 = make_version(tenant, 0.3, status="active")
    v2 = make_version(tenant, 0.3)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=v2.pk).update(status="active")
    # another tenant's active version is independent
    make_version(other_tenant, 0.3, status="active")
    assert ModelVersion.objects.filter(status="active").count() == 2
    assert ModelVersion.objects.get(pk=v1.pk).status == "active"


def test_version_numbers_unique_per_tenant(tenant, other_tenant, make_version):
    assert make_version(tenant).number == 1
    assert make_version(tenant).number == 2
    assert make_version(other_tenant).number == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(tenant=tenant, number=2, bundle_uri="x", bundle_sha256="0")


def test_promote_rollback_pin_are_audited(tenant, make_version, django_user_model):
    admin_user = django_user_model.objects.create_user("alice", password="pw")
    v1 = make_version(tenant, 0.3, status="active")
    v2 = make_version(tenant, 0.2)
    services.version_promote(version=v2, actor=admin_user, reason="A/B winner")
    assert statuses(tenant) == {1: "retired", 2: "active"}
    back = services.version_rollback(tenant=tenant, actor=admin_user, reason="regression")
    assert back == v1 and statuses(tenant) == {1: "active", 2: "retired"}
    services.version_pin(version=v2, actor="apikey:ops", reason="pin it")
    assert statuses(tenant) == {1: "retired", 2: "active"}
    assert ModelVersion.objects.get(pk=v2.pk).pinned
    rows = list(
        AuditLog.objects.filter(tenant=tenant)
        .order_by("id")
        .values_list("action", "actor", "from_version__number", "to_version__number", "reason")
    )
    assert rows[-3:] == [
        ("promote", "user:alice", 1, 2, "A/B winner"),
        ("rollback", "user:alice", 2, 1, "regression"),
        ("pin", "apikey:ops", 1, 2, "pin it"),
    ]
    assert AuditLog.objects.filter(actor_user=admin_user).count() == 2


def test_rollback_pops_the_promotion_stack(tenant, make_version):
    for ndcg in (0.1, 0.2, 0.3):
        services.version_apply_gate(version=make_version(tenant, ndcg))
    assert selectors.version_get_active(tenant=tenant).number == 3
    assert services.version_rollback(tenant=tenant).number == 2
    assert services.version_rollback(tenant=tenant).number == 1
    with pytest.raises(NothingToRollBackError):
        services.version_rollback(tenant=tenant)
    assert selectors.version_get_active(tenant=tenant).number == 1


def test_rollback_without_history_is_a_conflict(tenant, make_version):
    with pytest.raises(NothingToRollBackError):
        services.version_rollback(tenant=tenant)
    make_version(tenant, status="active")
    with pytest.raises(NothingToRollBackError):
        services.version_rollback(tenant=tenant)


def test_failed_version_cannot_be_promoted(tenant, make_version):
    v1 = make_version(tenant)
    services.version_mark_failed(version=v1, reason="checksum mismatch")
    with pytest.raises(VersionConflictError):
        services.version_promote(version=v1)
    with pytest.raises(VersionConflictError):
        services.version_pin(version=v1)


def test_mark_failed_active_rolls_back_to_previous_good(tenant, make_version):
    services.version_apply_gate(version=make_version(tenant, 0.1))
    services.version_apply_gate(version=make_version(tenant, 0.2))
    v3 = make_version(tenant, 0.3)
    services.version_apply_gate(version=v3)
    # v2 fails while retired: skipped by the rollback that follows v3's failure
    services.version_mark_failed(
        version=ModelVersion.objects.get(tenant=tenant, number=2), reason="x"
    )
    services.version_mark_failed(version=v3, reason="sha256 mismatch", actor="serving")
    assert statuses(tenant) == {1: "active", 2: "failed", 3: "failed"}
    actions = list(
        AuditLog.objects.filter(tenant=tenant).order_by("id").values_list("action", flat=True)
    )
    assert actions[-3:] == ["fail", "fail", "rollback"]
    # idempotent
    services.version_mark_failed(version=v3, reason="again")
    assert AuditLog.objects.filter(tenant=tenant, action="fail").count() == 2


def test_mark_failed_only_version_leaves_no_active(tenant, make_version):
    v1 = make_version(tenant, status="active")
    services.version_mark_failed(version=v1, reason="broken")
    assert selectors.version_get_active(tenant=tenant) is None


def test_active_change_signal_after_commit(
    tenant, make_version, django_capture_on_commit_callbacks
):
    from m6rec.registry.signals import active_version_changed

    seen = []

    def handler(sender, tenant_id, version_number, **kwargs):
        seen.append((tenant_id, version_number))

    active_version_changed.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            make_version(tenant, status="active")
    finally:
        active_version_changed.disconnect(handler)
    assert seen == [(tenant.pk, 1)]
