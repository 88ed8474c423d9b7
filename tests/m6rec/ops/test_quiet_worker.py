"""Celery workers train models: third-party log noise is silenced in the main process and in
every pool process, before a task can import TensorFlow."""

import weakref

from celery import signals

from engine import quiet
from m6rec.ops import celery_signals


def _receivers(signal) -> list:
    refs = [r for _, r in signal.receivers]
    return [r() if isinstance(r, weakref.ReferenceType) else r for r in refs]


def test_quiet_runs_at_worker_start_and_in_each_pool_process(monkeypatch):
    for signal in (signals.worker_init, signals.worker_process_init):
        assert celery_signals.quiet_worker in _receivers(signal), signal
    calls = []
    monkeypatch.setattr(quiet, "quiet_third_party", lambda **kw: calls.append(kw) or True)
    celery_signals.quiet_worker(sender=None)
    assert calls == [{}]
