"""Training workers yield to web processes (issue 14, item 6): niceness and thread caps applied
by the Celery worker signals, and the engine's thread count from the same setting. The
niceness of a real worker is checked in tests/integration/test_worker_killed.py; the effect
on web latency is measured by benchmarks/shared_host.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import weakref
from pathlib import Path
from types import SimpleNamespace

from celery import signals

from m6rec.ops.worker_limits import apply_worker_limits
from m6rec.training.services import train_config_for

REPO = Path(__file__).resolve().parents[3]
PROBE = """
import json, os
import numpy  # a BLAS already loaded before the limits, as in a forked pool process
import django
django.setup()
from threadpoolctl import threadpool_info
from m6rec.ops.worker_limits import apply_worker_limits
apply_worker_limits()
apply_worker_limits()  # idempotent: the pool process applies it again after the fork
print(json.dumps({
    "nice": os.nice(0),
    "idle_class": os.sched_getscheduler(0) == os.SCHED_IDLE,
    "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                           "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")},
    "pools": sorted({p["num_threads"] for p in threadpool_info()}),
}))
"""


def probe(**env: str) -> dict:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "m6rec.settings.test",
        "PYTHONPATH": os.pathsep.join([str(REPO / "platform"), str(REPO)]),
        **env,
    }
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_worker_process_is_niced_and_its_threads_capped():
    start = os.nice(0)
    seen = probe(M6REC_WORKER_NICE="7", M6REC_WORKER_THREADS="1")
    assert seen["nice"] == max(start, 7)
    assert seen["env"] == {
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
    }
    assert seen["pools"] in ([], [1])  # numpy's BLAS, loaded before, capped too


def test_defaults_nice_10_and_library_thread_defaults():
    seen = probe()
    assert seen["nice"] == max(os.nice(0), 10)
    assert seen["env"]["TF_NUM_INTRAOP_THREADS"] is None  # 0: left to the libraries
    assert seen["idle_class"] is False


def test_idle_scheduling_class_on_request():
    assert probe(M6REC_WORKER_SCHED_IDLE="True")["idle_class"] is True


def test_receivers_are_connected_to_worker_start_and_pool_processes():
    for signal in (signals.worker_init, signals.worker_process_init):
        receivers = [r() if isinstance(r, weakref.ref) else r for _, r in signal.receivers]
        assert apply_worker_limits in receivers, signal.name


def test_engine_threads_follow_the_worker_setting(settings):
    tenant = SimpleNamespace(config={})
    settings.M6REC_TRAIN_CONFIG = {}
    settings.M6REC_WORKER_THREADS = 0
    default = train_config_for(tenant=tenant).num_threads
    settings.M6REC_WORKER_THREADS = 2
    assert train_config_for(tenant=tenant).num_threads == 2
    settings.M6REC_TRAIN_CONFIG = {"num_threads": 3}  # an explicit engine setting wins
    assert train_config_for(tenant=tenant).num_threads == 3
    assert default == 0
