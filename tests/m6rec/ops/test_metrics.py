"""Prometheus metrics: helpers, request latency by route name, exposition, multiprocess mode."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from prometheus_client import REGISTRY

from m6rec.ops import metrics

ROOT = Path(__file__).resolve().parents[3]


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_observe_recommendation_counts_by_strategy_and_version():
    before = value("m6rec_recommendations_served_total", strategy="model", model_version="7")
    metrics.observe_recommendation(strategy="model", model_version=7)
    metrics.observe_recommendation(strategy="model", model_version="7", count=2)
    after = value("m6rec_recommendations_served_total", strategy="model", model_version="7")
    assert after - before == 3


def test_popularity_without_version_is_labelled_none():
    labels = {"strategy": "popularity", "model_version": "none"}
    before = value("m6rec_recommendations_served_total", **labels)
    metrics.observe_recommendation(strategy="popularity", model_version=None)
    after = value("m6rec_recommendations_served_total", **labels)
    assert after - before == 1


def test_labels_are_sanitised_and_bounded():
    metrics.observe_recommendation(strategy="we ird{}\n" + "x" * 200, model_version="1")
    text = metrics.render(broker_url="memory://")[0].decode()
    line = next(ln for ln in text.splitlines() if "we_ird" in ln)
    label = line.split('strategy="')[1].split('"')[0]
    assert len(label) == 64 and "\n" not in label and "{" not in label


def test_observe_training_duration_and_outcome():
    labels = {"outcome": "succeeded", "queue": "small"}
    count = value("m6rec_training_duration_seconds_count", **labels)
    total = value("m6rec_training_duration_seconds_sum", **labels)
    runs = value("m6rec_training_runs_total", **labels)
    metrics.observe_training(seconds=42.5, outcome="succeeded", queue="small")
    assert value("m6rec_training_duration_seconds_count", **labels) - count == 1
    assert value("m6rec_training_duration_seconds_sum", **labels) - total == pytest.approx(42.5)
    assert value("m6rec_training_runs_total", **labels) - runs == 1


def test_track_training_marks_exceptions_as_failed():
    labels = {"outcome": "failed", "queue": "large"}
    before = value("m6rec_training_runs_total", **labels)
    with pytest.raises(RuntimeError), metrics.track_training(queue="large"):
        raise RuntimeError("boom")
    assert value("m6rec_training_runs_total", **labels) - before == 1
    ok = value("m6rec_training_runs_total", outcome="succeeded", queue="none")
    with metrics.track_training():
        pass
    assert value("m6rec_training_runs_total", outcome="succeeded", queue="none") - ok == 1


def test_cache_hits_and_misses():
    hits, misses = value("m6rec_model_cache_hits_total"), value("m6rec_model_cache_misses_total")
    metrics.cache_hit()
    metrics.cache_hit()
    metrics.cache_miss()
    assert value("m6rec_model_cache_hits_total") - hits == 2
    assert value("m6rec_model_cache_misses_total") - misses == 1


@pytest.mark.django_db
def test_request_latency_is_labelled_by_route_name_never_by_raw_path(client):
    from django.urls import resolve

    secret_id = "user-8c1f2a-secret"
    route_name = resolve(f"/api/v1/users/{secret_id}").view_name  # e.g. catalog:user-detail
    assert secret_id not in route_name
    labels = {"endpoint": route_name, "method": "GET", "status": "4xx"}
    before = value("m6rec_http_request_duration_seconds_count", **labels)
    client.get(f"/api/v1/users/{secret_id}")  # 401 without a key: still observed
    assert value("m6rec_http_request_duration_seconds_count", **labels) - before == 1
    client.get(f"/no/such/{secret_id}")
    assert value(
        "m6rec_http_request_duration_seconds_count",
        endpoint="unmatched",
        method="GET",
        status="4xx",
    )
    text = client.get("/metrics").content.decode()
    assert secret_id not in text


def test_metrics_endpoint_exposition(client, settings):
    settings.CELERY_BROKER_URL = "memory://"
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for name in (
        "m6rec_http_request_duration_seconds",
        "m6rec_recommendations_served",
        "m6rec_training_duration_seconds",
        "m6rec_model_cache_hits_total",
    ):
        assert f"# TYPE {name}" in text or name in text


def test_metrics_token(client, settings):
    settings.M6REC_METRICS_TOKEN = "s3cret"
    settings.CELERY_BROKER_URL = "memory://"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


def test_metrics_not_served_through_a_proxy_without_token(client, settings):
    settings.M6REC_METRICS_TOKEN = ""
    settings.CELERY_BROKER_URL = "memory://"
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
    assert client.get("/metrics").status_code == 200


def _redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def test_queue_depth_from_redis_broker(redis_url):
    import redis

    broker = _redis_db(redis_url, 15)  # a db of its own: no worker consumes these
    client = redis.Redis.from_url(broker)
    client.delete("small", "large")
    client.rpush("small", "a", "b", "c")
    try:
        text = metrics.render(broker_url=broker)[0].decode()
    finally:
        client.delete("small", "large")
    assert 'm6rec_celery_queue_depth{queue="small"} 3.0' in text
    assert 'm6rec_celery_queue_depth{queue="large"} 0.0' in text
    assert "m6rec_celery_broker_up 1.0" in text


def test_queue_depth_broker_down_does_not_break_the_scrape():
    text = metrics.render(broker_url="redis://127.0.0.1:1/0")[0].decode()
    assert "m6rec_celery_broker_up 0.0" in text
    assert "m6rec_celery_queue_depth{" not in text


def test_multiprocess_mode_sums_all_processes(tmp_path):
    """gunicorn workers / Celery pool processes write to PROMETHEUS_MULTIPROC_DIR; a scrape
    from any process sums them."""
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
        "PYTHONPATH": str(ROOT / "platform"),
    }
    writer = textwrap.dedent(
        """
        from m6rec.ops import metrics
        metrics.observe_recommendation(strategy="model", model_version=3)
        metrics.cache_miss()
        metrics.observe_training(seconds=5, outcome="succeeded", queue="small")
        """
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", writer], env=env, check=True, timeout=60)
    reader = textwrap.dedent(
        """
        from m6rec.ops import metrics
        print(metrics.render(broker_url="memory://")[0].decode())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", reader],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    assert 'm6rec_recommendations_served_total{model_version="3",strategy="model"} 2.0' in out
    assert "m6rec_model_cache_misses_total 2.0" in out
    assert 'm6rec_training_runs_total{outcome="succeeded",queue="small"} 2.0' in out
