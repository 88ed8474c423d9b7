"""Experiments: validation (clear 4xx, nothing changes), sticky assignment, arms in responses,
candidate load failure, interaction with the registry, the decision and promote-winner."""

from __future__ import annotations

from collections import Counter

import pytest

pytestmark = pytest.mark.django_db

EXPERIMENTS = "/api/v1/models/experiments"
RECS = "/api/v1/users/{}/recommendations"


@pytest.fixture
def tenant(factory, worse_bundle):
    tenant = factory.tenant()
    factory.version(tenant)  # v1 active: the control
    factory.version(tenant, promote=False, bundle=worse_bundle)  # v2 candidate
    return tenant


@pytest.fixture
def admin(factory, tenant, api):
    scopes = ("admin", "recommend", "ingest")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant, scopes=scopes)}")
    return api


def _start(admin, **body):
    payload = {"name": "ab", "candidates": [2], "min_impressions_per_arm": 50, **body}
    return admin.post(EXPERIMENTS, payload, format="json")


def _count():
    from m6rec.online.models import Experiment
    from m6rec.registry.models import AuditLog

    return Experiment.objects.count(), AuditLog.objects.count()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shares": [0.7, 0.7]}, "shares"),
        ({"shares": [1.0]}, "shares"),
        ({"candidates": []}, "candidates"),
        ({"candidates": [99]}, "candidates[0]"),
        ({"candidates": [1]}, "candidates[0]"),  # the active version itself
        ({"metric": "revenue"}, "metric"),
        ({"confidence": 2}, "confidence"),
    ],
)
def test_invalid_experiments_are_400_and_change_nothing(admin, body, field):
    before = _count()
    r = _start(admin, **body)
    assert r.status_code == 400, r.content
    assert field in str(r.json()["error"]["details"])
    assert _count() == before


def test_retired_failed_and_foreign_versions_cannot_be_arms(admin, tenant, factory, worse_bundle):
    from m6rec.registry.services import version_mark_failed

    failed = factory.version(tenant, promote=False, bundle=worse_bundle)  # v3
    version_mark_failed(version=failed, reason="test")
    other = factory.tenant()
    factory.version(other)
    factory.version(other, promote=False)  # the other tenant's v2 and v3 exist...
    factory.version(other, promote=False)
    before = _count()
    r = _start(admin, candidates=[3])
    assert r.status_code == 400 and "failed" in r.content.decode()
    r = _start(admin, candidates=[4])  # ...but this tenant has no v4: as not found
    assert r.status_code == 400 and "Version 4 not found" in r.content.decode()
    assert _count() == before


def test_one_experiment_at_a_time_and_audited(admin, tenant):
    from m6rec.registry.models import AuditLog

    first = _start(admin)
    assert first.status_code == 201, first.content
    assert first.json()["arms"][0]["version"] == 1
    second = _start(admin, name="again")
    assert second.status_code == 409
    audit = AuditLog.objects.filter(tenant=tenant, action="experiment_start")
    assert audit.count() == 1 and "v1 50%" in audit.get().reason


def test_assignment_is_sticky_and_split_by_share(admin, tenant):
    from m6rec.online.assignment import arm_for
    from m6rec.serving.snapshot import snapshot_for

    assert _start(admin, shares=[0.5, 0.5]).status_code == 201
    experiment = snapshot_for(tenant).experiment
    arms = Counter(arm_for(experiment, f"user-{n}").index for n in range(4000))
    assert 1800 < arms[1] < 2200
    assert all(arm_for(experiment, "u7") == arm_for(experiment, "u7") for _ in range(5))
    seen = {}
    for user in ("u0", "u1", "u2", "u3", "u4", "u5"):
        for _ in range(2):
            body = admin.get(RECS.format(user), {"k": 3}).json()
            exp = body["experiment"]
            assert exp["id"] == experiment.id
            assert body["model_version"] == experiment.arms[exp["arm"]].version
            assert seen.setdefault(user, exp["arm"]) == exp["arm"]  # sticky


def test_a_candidate_that_fails_to_load_ends_its_arm_and_the_control_serves(admin, tenant, factory):
    from m6rec.online.models import Experiment

    broken = factory.version(tenant, promote=False, tamper=True)  # v3, fails verification
    assert _start(admin, candidates=[3], shares=[0.01, 0.99]).status_code == 201
    bodies = [admin.get(RECS.format(f"u{n}"), {"k": 3}).json() for n in range(6)]
    assert all(b["model_version"] == 1 for b in bodies)
    experiment = Experiment.objects.get(tenant=tenant)
    assert experiment.arms[1]["ended"]
    broken.refresh_from_db()
    assert broken.status == "failed"


def test_auto_promotion_waits_while_an_experiment_runs(admin, tenant, factory):
    from m6rec.registry.services import version_apply_gate

    assert _start(admin).status_code == 201
    new = factory.version(tenant, promote=False)
    new.metrics = {"validation": {"ndcg@10": 0.99}}  # would pass the gate on its own
    new.save(update_fields=["metrics"])
    decision = version_apply_gate(version=new)
    assert not decision.promoted and "experiment" in decision.reason


def test_a_promotion_outside_the_experiment_stops_it(
    admin, tenant, django_capture_on_commit_callbacks
):
    from m6rec.online.models import Experiment

    assert _start(admin).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        r = admin.post("/api/v1/models/versions/2/promote", {}, format="json")
    assert r.status_code == 200, r.content
    experiment = Experiment.objects.get(tenant=tenant)
    assert experiment.status == "stopped" and "v2" in experiment.stop_reason


def _counts(tenant, experiment_id, arm, *, impressions, conversions, version):
    """Record impressions and attributed goal interactions for one arm, as traffic would."""
    from datetime import UTC, datetime

    from m6rec.catalog.models import EndUser, Interaction, Item
    from m6rec.online.models import ImpressionCount

    row, _ = ImpressionCount.objects.get_or_create(
        tenant=tenant,
        day=datetime.now(UTC).date(),
        model_version=version,
        strategy="model",
        surface="user",
        experiment_id=experiment_id,
        arm=arm,
    )
    row.impressions += impressions
    row.responses += impressions // 5
    row.save()
    item = Item.objects.filter(tenant=tenant).first()
    _calls[arm] += 1
    c = _calls[arm]
    now = datetime.now(UTC)
    Interaction.objects.bulk_create(
        Interaction(
            tenant=tenant,
            user=EndUser.objects.get_or_create(tenant=tenant, external_id=f"x{arm}-{n}-{c}")[0],
            item=item,
            type="like",
            timestamp=now,
            attributed_version=version,
            attributed_experiment=experiment_id,
            attributed_arm=arm,
            attributed_position=0,
            attributed_strategy="model",
            recommended_at=now,
        )
        for n in range(conversions)
    )


_calls = Counter()


def test_results_decide_only_at_the_horizon_and_promote_the_winner(admin, tenant):
    from m6rec.registry.models import AuditLog, ModelVersion

    experiment = _start(admin, min_impressions_per_arm=1000).json()
    _counts(tenant, experiment["id"], 0, impressions=400, conversions=40, version=1)
    _counts(tenant, experiment["id"], 1, impressions=400, conversions=80, version=2)
    early = admin.get(f"{EXPERIMENTS}/{experiment['id']}").json()["results"]
    assert early["decision"]["status"] == "collecting"  # p-values shown, nothing decided
    assert early["arms"][1]["vs_control"]["p_value"] < 0.01
    refused = admin.post(f"{EXPERIMENTS}/{experiment['id']}/promote-winner")
    assert refused.status_code == 409
    _counts(tenant, experiment["id"], 0, impressions=700, conversions=70, version=1)
    _counts(tenant, experiment["id"], 1, impressions=700, conversions=140, version=2)
    results = admin.get(f"{EXPERIMENTS}/{experiment['id']}").json()["results"]
    assert results["decision"]["status"] == "winner"
    assert results["decision"]["winner_version"] == 2
    arm1 = results["arms"][1]
    assert (arm1["impressions"], arm1["conversions"]) == (1100, 220)
    assert arm1["vs_control"]["low"] > 0
    r = admin.post(f"{EXPERIMENTS}/{experiment['id']}/promote-winner")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "stopped"
    assert ModelVersion.objects.get(tenant=tenant, number=2).status == "active"
    actions = list(AuditLog.objects.filter(tenant=tenant).values_list("action", flat=True)[:2])
    assert actions == ["promote", "experiment_stop"]
    frozen = admin.get(f"{EXPERIMENTS}/{experiment['id']}").json()["results"]
    assert frozen["arms"][1]["conversions"] == 220


def test_other_tenants_experiments_are_not_found(admin, factory):
    other = factory.tenant()
    factory.version(other)
    from rest_framework.test import APIClient

    other_admin = APIClient()
    other_admin.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(other, scopes=('admin',))}")
    mine = _start(admin).json()
    assert other_admin.get(f"{EXPERIMENTS}/{mine['id']}").status_code == 404
    assert other_admin.post(f"{EXPERIMENTS}/{mine['id']}/stop").status_code == 404
    assert other_admin.get(f"{EXPERIMENTS}/999999").status_code == 404
    assert admin.get(EXPERIMENTS, {"bogus": 1}).status_code == 400
    assert len(admin.get(EXPERIMENTS).json()["results"]) == 1


def test_recommend_scope_cannot_start_experiments(factory, tenant, api):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factory.key(tenant, scopes=('recommend',))}")
    assert _start(api).status_code == 403
