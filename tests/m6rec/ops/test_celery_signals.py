"""Request ids travel with Celery tasks; workers can serve metrics on a port."""

import socket
import types
import urllib.request

from m6rec.ops import celery_signals
from m6rec.ops.request_id import get_request_id, reset_request_id, set_request_id


def test_published_tasks_carry_the_request_id():
    headers = {}
    token = set_request_id("rid-publish")
    try:
        celery_signals.add_request_id_header(headers=headers)
    finally:
        reset_request_id(token)
    assert headers == {celery_signals.HEADER: "rid-publish"}
    untouched = {}
    celery_signals.add_request_id_header(headers=untouched)  # outside a request
    assert untouched == {}


def test_worker_sets_and_resets_the_id_around_a_task():
    task = types.SimpleNamespace(request=types.SimpleNamespace(m6rec_request_id="rid-task"))
    celery_signals.task_started(task_id="t1", task=task)
    assert get_request_id() == "rid-task"
    celery_signals.task_finished(task_id="t1")
    assert get_request_id() is None


def test_task_without_header_gets_an_id_from_its_task_id():
    task = types.SimpleNamespace(request=types.SimpleNamespace())
    celery_signals.task_started(task_id="abc", task=task)
    assert get_request_id() == "task-abc"
    celery_signals.task_finished(task_id="abc")
    assert get_request_id() is None


def test_signals_are_connected_once():
    from celery import signals

    receivers = [r for r in signals.task_prerun.receivers if r[0][0] == celery_signals.HEADER]
    assert len(receivers) == 1


def test_worker_metrics_port(monkeypatch, settings):
    settings.CELERY_BROKER_URL = "memory://"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("M6REC_WORKER_METRICS_PORT", str(port))
    celery_signals.start_worker_metrics()
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    assert b"m6rec_model_cache_hits_total" in body


def test_no_metrics_port_by_default(monkeypatch):
    monkeypatch.delenv("M6REC_WORKER_METRICS_PORT", raising=False)
    assert celery_signals.start_worker_metrics() is None
