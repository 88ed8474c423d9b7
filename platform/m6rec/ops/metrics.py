"""Prometheus metrics for M6-Rec, and the helpers the serving and training code call.

Labels never carry tenant ids, user ids or raw paths: endpoints are labelled by route name,
recommendations by strategy and model version, training by outcome and queue.

Multiprocess mode (gunicorn with several workers, Celery prefork): set
``PROMETHEUS_MULTIPROC_DIR`` to an empty, writable directory in the environment of every
process *before it starts* (deploy/ does this); each process writes its samples there and a
scrape of ``/metrics`` (or of a worker's metrics port) sums them.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from m6rec.common.redis_clients import redis_client

from .queues import QUEUES


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


if multiprocess_dir():  # must exist before the first sample is written
    os.makedirs(multiprocess_dir(), exist_ok=True)

REQUEST_LATENCY = Histogram(
    "m6rec_http_request_duration_seconds",
    "HTTP request latency by route name (not raw path), method and status class.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RECOMMENDATIONS = Counter(
    "m6rec_recommendations_served",
    "Recommendation responses served, by strategy (model|popularity) and model version.",
    ["strategy", "model_version"],
)
TRAINING_DURATION = Histogram(
    "m6rec_training_duration_seconds",
    "Wall time of training runs, by outcome and Celery queue.",
    ["outcome", "queue"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800),
)
TRAINING_RUNS = Counter(
    "m6rec_training_runs",
    "Training runs finished, by outcome (succeeded|failed|rejected|...) and queue.",
    ["outcome", "queue"],
)
IMPRESSIONS = Counter(
    "m6rec_impressions",
    "Items shown in recommendation responses (no tenant label).",
    ["surface", "strategy"],
)
ATTRIBUTED = Counter(
    "m6rec_attributed_interactions",
    "Interactions ingested with a valid recommendation_id (no tenant label).",
)
CACHE_HITS = Counter("m6rec_model_cache_hits", "Model bundle cache hits (serving).")
CACHE_MISSES = Counter("m6rec_model_cache_misses", "Model bundle cache misses (serving).")

_LABEL_CHARS = re.compile(r"[^A-Za-z0-9_.:\-]")


def _label(value: object, *, default: str = "none", max_len: int = 64) -> str:
    """A bounded, safe label value: never raises, never long."""
    if value is None or value == "":
        return default
    return _LABEL_CHARS.sub("_", str(value))[:max_len]


def observe_request(*, endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(
        endpoint=_label(endpoint, default="unmatched", max_len=120),
        method=_label(method.upper(), max_len=10),
        status=f"{int(status) // 100}xx",
    ).observe(max(seconds, 0.0))


def observe_recommendation(
    *, strategy: str, model_version: int | str | None, count: int = 1
) -> None:
    """Count ``count`` recommendation responses served with ``strategy`` by ``model_version``.

    ``model_version`` is the version number (or None for popularity); never pass tenant ids.
    """
    RECOMMENDATIONS.labels(strategy=_label(strategy), model_version=_label(model_version)).inc(
        count
    )


def observe_impressions(*, surface: str, strategy: str, count: int) -> None:
    """Count ``count`` items shown on ``surface`` (user, session, similar, popular)."""
    IMPRESSIONS.labels(surface=_label(surface), strategy=_label(strategy)).inc(count)


def observe_attributed(*, count: int) -> None:
    """Count ``count`` interactions written with an attribution."""
    ATTRIBUTED.inc(count)


def observe_training(*, seconds: float, outcome: str, queue: str | None = None) -> None:
    """Record one finished training run: its wall time in seconds and its outcome."""
    labels = {"outcome": _label(outcome), "queue": _label(queue)}
    TRAINING_DURATION.labels(**labels).observe(max(float(seconds), 0.0))
    TRAINING_RUNS.labels(**labels).inc()


@contextmanager
def track_training(*, queue: str | None = None) -> Iterator[None]:
    """Time the block; outcome ``succeeded`` when it returns, ``failed`` when it raises."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        yield
        outcome = "succeeded"
    finally:
        observe_training(seconds=time.perf_counter() - started, outcome=outcome, queue=queue)


def cache_hit() -> None:
    CACHE_HITS.inc()


def cache_miss() -> None:
    CACHE_MISSES.inc()


def redis_for_metrics(url: str):
    """The client the queue-depth collector and the readiness check use (short timeouts)."""
    return redis_client(url, socket_timeout=0.5, socket_connect_timeout=0.5)


class QueueDepthCollector:
    """Celery queue depth, read from the Redis broker at scrape time (LLEN of each queue)."""

    def __init__(self, broker_url: str | None = None, queues: tuple[str, ...] = QUEUES):
        self._broker_url = broker_url
        self._queues = queues

    def _broker(self) -> str:
        if self._broker_url is not None:
            return self._broker_url
        from django.conf import settings

        return settings.CELERY_BROKER_URL or ""

    def collect(self):
        depth = GaugeMetricFamily(
            "m6rec_celery_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        up = GaugeMetricFamily(
            "m6rec_celery_broker_up", "1 when the broker answered the queue-depth query."
        )
        url = self._broker()
        if not url.startswith(("redis://", "rediss://", "unix://")):
            return  # memory:// (eager local mode) or another broker: nothing to report
        try:
            pipe = redis_for_metrics(url).pipeline()
            for queue in self._queues:
                pipe.llen(queue)
            for queue, length in zip(self._queues, pipe.execute(), strict=True):
                depth.add_metric([queue], float(length))
            up.add_metric([], 1.0)
            yield depth
        except Exception:  # noqa: BLE001 - a scrape must not fail because the broker is down
            up.add_metric([], 0.0)
        yield up


class _Delegate:
    """Collects another registry (the default one) inside a scrape registry."""

    def __init__(self, registry: CollectorRegistry):
        self._registry = registry

    def collect(self):
        return self._registry.collect()


def scrape_registry(broker_url: str | None = None) -> CollectorRegistry:
    """A registry for one scrape: this process's (or all processes') metrics + queue depth."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Delegate(REGISTRY))
    registry.register(QueueDepthCollector(broker_url))
    return registry


def render(broker_url: str | None = None) -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(scrape_registry(broker_url)), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Multiprocess clean-up for a process that exited (gunicorn ``child_exit`` hook)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
