"""The online loop end to end: real PostgreSQL, Redis, a Celery worker and gunicorn.

A tenant serves a deliberately worse model (v1: trained on the same users with their items
drawn at random; pinned, so the worker's model does not replace it), the worker trains the real
one (v2, a candidate), an experiment splits users 50/50, ``manage.py simulate_traffic`` sends
synthetic users with hidden preferences through gunicorn; then the experiment names v2 the
winner at the documented confidence, the impression counters reach the database through the
worker's ``flush_impressions`` task, the online metrics and the experiment's results in the API
agree with counts taken from the database (and with what the simulator saw), and
promote-winner makes v2 the active version.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest

from m6rec.common.testing import api_client, make_key, make_tenant
from tests.m6rec.serving._data import N_ITEMS, synthetic_pairs
from tests.m6rec.serving.conftest import TenantFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
# The impression counters in a Redis database of their own: other suites clear theirs.
IMPRESSIONS_DB = os.environ.get("M6REC_IT_IMPRESSIONS_DB", "13")
SIM_REQUESTS = 400
MIN_IMPRESSIONS = 1000


def _impressions_url(redis_url: str) -> str:
    parts = urlsplit(redis_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{IMPRESSIONS_DB}", "", ""))


def _database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db.get('USER') or 'postgres'}{password}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}"
    )


class Gunicorn:
    """deploy/gunicorn.conf.py with production settings on a free loopback port."""

    def __init__(self, log: Path, env: dict[str, str]) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GUNICORN_", "PROMETHEUS_")) and k != "WEB_CONCURRENCY"
        }
        self.env = {
            **base,
            "DJANGO_SETTINGS_MODULE": "m6rec.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "False",
            "DJANGO_LOG_LEVEL": "WARNING",
            "M6REC_GC_FREEZE": "False",
            "PYTHONPATH": os.pathsep.join([str(REPO / "platform"), str(REPO)]),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "2",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            **env,
        }
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy/gunicorn.conf.py"),
             "m6rec.wsgi:application"],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        import http.client

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited:\n{log.read_text()[-4000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"gunicorn did not answer /healthz:\n{log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()


@pytest.fixture(scope="module")
def impressions_url(redis_url):
    import redis

    url = _impressions_url(redis_url)
    client = redis.Redis.from_url(url)
    for key in client.scan_iter("m6rec:impressions:*"):
        client.delete(key)
    yield url
    for key in client.scan_iter("m6rec:impressions:*"):
        client.delete(key)


@pytest.fixture(scope="module")
def worker(start_worker, impressions_url):
    return start_worker(env={"M6REC_IMPRESSIONS_REDIS_URL": impressions_url})


@pytest.fixture(scope="module")
def worse_bundle(tmp_path_factory) -> Path:
    """A real bundle that learned nothing useful: every user's items drawn at random."""
    from engine.data import InteractionData
    from engine.pipeline import TrainConfig, train_bundle

    rng = np.random.default_rng(11)
    pairs = [(u, f"i{rng.integers(N_ITEMS)}") for u, _ in synthetic_pairs()]
    data = InteractionData.from_arrays([u for u, _ in pairs], [i for _, i in pairs])
    out = tmp_path_factory.mktemp("worse-bundle") / "bundle"
    train_bundle(data, out, config=TrainConfig(time_budget_s=20, use_fusion=False))
    return out


@pytest.fixture
def server(worker, impressions_url, redis_url, tmp_path):
    web = Gunicorn(
        tmp_path / "web.log",
        {
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url,
            "M6REC_IMPRESSIONS_REDIS_URL": impressions_url,
            "M6REC_IMPRESSIONS_FLUSH_S": "0.5",
            "M6REC_MEDIA_ROOT": str(worker.media_root),
        },
    )
    yield web
    web.stop()


def _db_counts(tenant, goals: list[str]) -> dict:
    """Impressions (flushed rows) and distinct attributed engagements, from the database."""
    from m6rec.catalog.models import Interaction
    from m6rec.online.models import ImpressionCount

    out = {
        "version": defaultdict(lambda: defaultdict(int)),
        "arm": defaultdict(lambda: defaultdict(int)),
    }
    for row in ImpressionCount.objects.filter(tenant=tenant):
        out["version"][row.model_version]["impressions"] += row.impressions
        out["version"][row.model_version]["responses"] += row.responses
        if row.experiment_id:
            out["arm"][row.arm]["impressions"] += row.impressions
            out["arm"][row.arm]["responses"] += row.responses
    engagements: dict[tuple, set] = defaultdict(set)
    for r in Interaction.objects.filter(tenant=tenant, attributed_strategy__isnull=False).values(
        "user_id", "item_id", "recommended_at", "attributed_version", "attributed_arm", "type"
    ):
        key = (r["user_id"], r["item_id"], r["recommended_at"])
        engagements[(key, r["attributed_version"], r["attributed_arm"])].add(r["type"])
    for (_, version, arm), types in engagements.items():
        goal = int(bool(types & set(goals)))
        for bucket, k in (("version", version), ("arm", arm)):
            out[bucket][k]["clicks"] += 1
            out[bucket][k]["conversions"] += goal
    return out


def _same(api_counts: dict, db_counts: dict, what: str) -> None:
    for field in ("impressions", "responses", "clicks", "conversions"):
        assert api_counts[field] == db_counts.get(field, 0), (what, field, api_counts, db_counts)


def test_experiment_finds_the_better_model_and_metrics_agree_with_the_database(
    worker, server, worse_bundle, impressions_url, settings, loop, tmp_path
):
    from django.core.management import call_command

    from m6rec.online import impressions
    from m6rec.online.models import ImpressionCount
    from m6rec.online.selectors import goal_types
    from m6rec.registry.services import version_pin

    settings.M6REC_IMPRESSIONS_REDIS_URL = impressions_url
    tenant = make_tenant("online-it", domain="content")
    admin = api_client(make_key(tenant)[1])
    half = N_ITEMS // 2
    items = [
        {
            "item_id": f"i{j}",
            "properties": {"title": f"Item {j}"},
            "categories": ["low" if j < half else "high"],
        }
        for j in range(N_ITEMS)
    ]
    assert admin.post("/api/v1/items", {"items": items}, format="json").status_code in (200, 201)
    history = [
        {"user_id": u, "item_id": i, "type": "view", "timestamp": 1_700_000_000 + n}
        for n, (u, i) in enumerate(synthetic_pairs())
    ]
    loop.ingest(admin, history)

    # v1: the worse model, active and pinned; v2: trained by the worker, kept a candidate
    v1 = TenantFactory(worse_bundle).version(tenant, bundle=worse_bundle)
    version_pin(version=v1, reason="online loop test: the control")
    run = admin.post("/api/v1/models/train", {}, format="json")
    assert run.status_code == 202, run.content
    done = loop.wait_for_run(admin, run.json()["id"], worker=worker)
    assert done["status"] == "succeeded" and done["version"] == 2, done
    versions = admin.get("/api/v1/models/versions").json()
    assert versions["active"] == 1

    started = admin.post(
        "/api/v1/models/experiments",
        {
            "name": "trained vs shuffled",
            "candidates": [2],
            "shares": [0.5, 0.5],
            "metric": "ctr",
            "min_impressions_per_arm": MIN_IMPRESSIONS,
            "confidence": 0.95,
        },
        format="json",
    )
    assert started.status_code == 201, started.content
    experiment = started.json()["id"]
    time.sleep(2.5)  # the running experiment reaches every gunicorn worker (memo TTL 2 s)

    out = tmp_path / "sim.json"
    call_command(
        "simulate_traffic",
        tenant=tenant.slug,
        users=120,
        minutes=1.5,
        requests=SIM_REQUESTS,
        rate=0,
        concurrency=4,
        base_url=server.base_url,
        json=out,
        no_progress=True,
        seed=3,
    )
    sim = json.loads(out.read_text())
    assert sim["errors"] == 0, sim["error_samples"]
    assert sim["requests"] == SIM_REQUESTS
    assert sim["attributed"] == sim["clicks"] + sim["conversions"]  # every row attributed
    arms = {label: c for label, c in sim["arms"].items() if label.startswith(f"exp {experiment}")}
    assert sum(c["requests"] for c in arms.values()) == SIM_REQUESTS, sim["arms"]

    # impressions: gunicorn's buffers → Redis (0.5 s), then the worker's beat task → database
    deadline = time.monotonic() + 20
    while sum(v[0] for v in impressions.pending(tenant.pk).values()) < sim["impressions"]:
        assert time.monotonic() < deadline, "impressions did not reach Redis"
        time.sleep(0.3)
    results_before_flush = admin.get(f"/api/v1/models/experiments/{experiment}").json()
    from m6rec.celery import app

    app.send_task("m6rec.online.tasks.flush_impressions")
    deadline = time.monotonic() + 30
    while sum(
        ImpressionCount.objects.filter(tenant=tenant).values_list("impressions", flat=True)
    ) < sim["impressions"] or impressions.pending(tenant.pk):
        assert time.monotonic() < deadline, "the worker did not flush the impressions"
        time.sleep(0.3)

    goals = goal_types(tenant)
    db = _db_counts(tenant, goals)
    total_db = sum(c["impressions"] for c in db["version"].values())
    assert total_db == sim["impressions"]

    # the experiment: v2 wins at the documented confidence; its counts are the database's
    body = admin.get(f"/api/v1/models/experiments/{experiment}").json()
    results = body["results"]
    assert results["decision"]["status"] == "winner", results
    assert results["decision"]["winner_version"] == 2, results
    assert results["decision"]["alpha_per_comparison"] == pytest.approx(0.05)
    assert results["arms"][1]["vs_control"]["p_value"] < 0.05
    assert results["arms"][1]["ctr"]["rate"] > results["arms"][0]["ctr"]["rate"]
    rate = [a["conversion_rate"]["rate"] for a in results["arms"]]
    assert rate[1] > rate[0]  # the trained model converts more too
    for arm in results["arms"]:
        assert arm["impressions"] >= MIN_IMPRESSIONS
        _same(arm, db["arm"][arm["arm"]], f"arm {arm['arm']}")
        label = f"exp {experiment} arm {arm['arm']} (v{arm['version']})"
        for field in ("impressions", "clicks", "conversions"):
            assert arm[field] == arms[label][field], (label, field, arm, arms[label])
    # the same figures whether the counters sat in Redis or in the database
    for before, after in zip(results_before_flush["results"]["arms"], results["arms"], strict=True):
        for field in ("impressions", "responses", "clicks", "conversions"):
            assert before[field] == after[field], (field, before, after)

    # online metrics per version agree with the database
    for number in (1, 2):
        metrics = admin.get(f"/api/v1/models/versions/{number}/online-metrics").json()
        assert metrics["goal_types"] == goals
        _same(metrics["totals"], db["version"][number], f"v{number}")
        assert sum(d["impressions"] for d in metrics["days"]) == metrics["totals"]["impressions"]

    # promote the winner: v2 active, the experiment stopped with frozen results, audited
    promoted = admin.post(f"/api/v1/models/experiments/{experiment}/promote-winner")
    assert promoted.status_code == 200, promoted.content
    assert promoted.json()["status"] == "stopped"
    assert promoted.json()["results"]["decision"]["winner_version"] == 2
    assert admin.get("/api/v1/models/versions").json()["active"] == 2
    from m6rec.registry.models import AuditLog

    actions = list(
        AuditLog.objects.filter(tenant=tenant).order_by("id").values_list("action", flat=True)
    )
    assert actions[-4:] == ["gate_reject", "experiment_start", "experiment_stop", "promote"], (
        actions
    )

    # and gunicorn serves it, outside any experiment, with properties and explanations
    import http.client

    token = make_key(tenant, scopes=["recommend"])[1]
    deadline = time.monotonic() + 10
    served = {}
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request(
            "GET",
            "/api/v1/users/u0/recommendations?k=5&include=properties&explain=true",
            headers={"Authorization": f"Bearer {token}"},
        )
        served = json.loads(conn.getresponse().read())
        conn.close()
        if served.get("model_version") == 2 and served.get("experiment") is None:
            break
        time.sleep(0.3)
    assert served["model_version"] == 2 and served["experiment"] is None, served
    assert served["items"][0]["properties"]["title"].startswith("Item ")
    assert "explanation" in served["items"][0]
