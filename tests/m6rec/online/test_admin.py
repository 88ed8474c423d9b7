"""Experiments in Django admin: start (audited as the user), results, stop, promote winner."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(factory, worse_bundle):
    tenant = factory.tenant()
    factory.version(tenant)
    factory.version(tenant, promote=False, bundle=worse_bundle)
    return tenant


def test_start_follow_and_stop_an_experiment_in_admin(admin_client, tenant):
    from m6rec.online.models import Experiment
    from m6rec.registry.models import AuditLog

    r = admin_client.post(
        "/admin/online/experiment/add/",
        {
            "tenant": tenant.pk,
            "name": "admin ab",
            "candidates": "2",
            "shares": "0.5, 0.5",
            "metric": "conversion",
            "min_impressions_per_arm": 100,
            "confidence": 0.95,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    experiment = Experiment.objects.get(tenant=tenant)
    assert experiment.status == "running" and experiment.arms[1]["version"] == 2
    audit = AuditLog.objects.get(tenant=tenant, action="experiment_start")
    assert audit.actor.startswith("user:")
    page = admin_client.get(f"/admin/online/experiment/{experiment.pk}/change/").content.decode()
    assert "m6rec-experiment-results" in page and "collecting" in page
    listing = admin_client.get("/admin/online/experiment/").content.decode()
    assert "v1 50%, v2 50%" in listing
    r = admin_client.post(
        "/admin/online/experiment/",
        {"action": "stop_selected", "_selected_action": [experiment.pk]},
    )
    assert r.status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == "stopped"
    assert AuditLog.objects.filter(tenant=tenant, action="experiment_stop").count() == 1


def test_an_invalid_start_is_refused_with_a_message(admin_client, tenant):
    from m6rec.online.models import Experiment

    r = admin_client.post(
        "/admin/online/experiment/add/",
        {
            "tenant": tenant.pk,
            "name": "bad",
            "candidates": "7",
            "shares": "",
            "metric": "conversion",
            "min_impressions_per_arm": 100,
            "confidence": 0.95,
        },
        follow=True,
    )
    assert "Version 7 not found" in r.content.decode()
    assert not Experiment.objects.exists()


def test_the_online_chart_renders_rates_with_axes_and_legend():
    from m6rec.online.charts import online_rates_svg

    day = {
        "impressions": 100,
        "ctr": {"rate": 0.1, "low": 0.05, "high": 0.17},
        "conversion_rate": {"rate": 0.02, "low": 0.005, "high": 0.07},
    }
    svg = str(
        online_rates_svg(
            {"version": 3, "days": [{"day": "2026-11-28", **day}, {"day": "2026-11-29", **day}]}
        )
    )
    assert "rate per impression" in svg and "day of the recommendation" in svg
    assert "click-through rate" in svg and "conversion rate" in svg
    assert "No impressions yet" in str(online_rates_svg({"version": 3, "days": []}))


def test_the_version_page_shows_online_metrics_next_to_offline_ones(admin_client, tenant):
    from m6rec.registry.models import ModelVersion

    version = ModelVersion.objects.get(tenant=tenant, number=1)
    page = admin_client.get(f"/admin/registry/modelversion/{version.pk}/change/").content.decode()
    assert "Online metrics (last 30 days)" in page
    assert "No impressions yet" in page and "goal types: like, share, rating" in page
