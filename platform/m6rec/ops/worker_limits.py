"""Training workers yield to web processes on a shared host (issue 14, item 6).

Applied to every Celery worker (``worker_init`` in the main process, before the pool forks, and
``worker_process_init`` in each pool process), never to web processes:

* **Niceness** ``M6REC_WORKER_NICE`` (10; 0 leaves it): the kernel's scheduler then gives a
  runnable web process about 10x the CPU share of a training process and lets it preempt
  one at once, so requests wait less behind training on shared cores. Raising niceness needs
  no privilege (it works as the image's unprivileged user and under Pod Security
  ``restricted``); it is never lowered.
* **Idle scheduling class** ``M6REC_WORKER_SCHED_IDLE`` (off): ``SCHED_IDLE`` instead, the
  weakest class the kernel has (a CPU share of ~0.3% against each busy web process, preempted
  at every wake-up); needs no privilege either. Training then runs only on cores web leaves
  idle, so on a host whose web processes keep every core busy it barely progresses.
* **Thread caps** ``M6REC_WORKER_THREADS`` (0 = each library's default, about one thread per
  core): at most this many threads in BLAS/OpenMP (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
  ``MKL_NUM_THREADS``, and through threadpoolctl for libraries already loaded), TensorFlow
  (``TF_NUM_INTRAOP_THREADS``/``TF_NUM_INTEROP_THREADS`` and the engine's ``num_threads``) and
  implicit. The engine's onnxruntime sessions use one thread already. A shared host sets it
  to leave cores to the web processes (the launcher and the compose file default to 1);
  containers set it to their CPU limit divided by the pool's concurrency.

In Kubernetes the worker pods' CPU requests and limits (cgroups) do the isolating; niceness
only orders processes within one container.
"""

from __future__ import annotations

import contextlib
import logging
import os

from django.conf import settings

logger = logging.getLogger(__name__)

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
TF_THREAD_ENV = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def worker_niceness() -> int:
    return max(0, min(19, int(settings.M6REC_WORKER_NICE)))


def worker_threads() -> int:
    """Threads per numeric library in a worker process (0 = the libraries' defaults)."""
    return max(0, int(settings.M6REC_WORKER_THREADS))


def raise_niceness(target: int) -> int:
    """Make this process at least ``target`` nice (never lowers it); returns the niceness."""
    current = os.nice(0)
    if target > current:
        with contextlib.suppress(OSError):
            current = os.nice(target - current)
    return current


def use_idle_class() -> bool:
    return bool(settings.M6REC_WORKER_SCHED_IDLE)


def enter_idle_class() -> bool:
    """Move this process (and the threads it starts from now on) to ``SCHED_IDLE``."""
    if not hasattr(os, "SCHED_IDLE"):  # pragma: no cover - not Linux
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError:
        return False
    return True


def cap_threads(threads: int) -> None:
    """Environment for libraries loaded from now on, threadpoolctl for those already loaded."""
    if threads <= 0:
        return
    for name in THREAD_ENV:
        os.environ[name] = str(threads)
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(min(threads, 2))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of the numeric stack
        return
    threadpool_limits(limits=threads)  # not as a context manager: stays in force


def apply_worker_limits(**_signal_kwargs) -> None:
    """The worker's niceness and thread caps (a Celery signal receiver; idempotent)."""
    niceness = raise_niceness(worker_niceness())
    idle = use_idle_class() and enter_idle_class()
    threads = worker_threads()
    cap_threads(threads)
    logger.info(
        "worker process %s: niceness %s%s, threads per library %s",
        os.getpid(),
        niceness,
        ", SCHED_IDLE" if idle else "",
        threads or "library default",
    )
