"""Worker hooks: lost training attempts are swept at start-up and then every
``M6REC_TRAINING_SWEEP_INTERVAL`` seconds by the worker's main process itself.

Beat sends the same sweep as a task, but a task waits for a free pool process of its queue;
the main process's sweeper does not, so a lost attempt is re-queued within the bound (lock
timeout + sweep interval, see :mod:`m6rec.training.services.recovery`) even while every pool
process trains, and each worker host collects the staging directories of its own dead attempts.
"""

from __future__ import annotations

import logging
import threading

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings

logger = logging.getLogger(__name__)


def sweep_interval() -> float:
    return float(settings.M6REC_TRAINING_SWEEP_INTERVAL)


def _sweep() -> None:
    from django.db import connection

    from m6rec.training.services import training_run_sweep_stuck

    try:
        training_run_sweep_stuck()
    except Exception:  # noqa: BLE001 - a database or broker outage: try again next time
        logger.exception("sweep of lost training attempts failed")
    finally:
        connection.close()  # this thread's connection; a new one next time


class Sweeper(threading.Thread):
    """Daemon thread of the worker's main process: :func:`_sweep` every ``interval`` s."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="training-sweeper", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            _sweep()

    def stop(self) -> None:
        self.stopped.set()


_sweeper: Sweeper | None = None


@worker_ready.connect
def _sweep_on_worker_start(**_kwargs) -> None:
    global _sweeper
    try:
        _sweep()  # runs left by a worker that died, at once
    except Exception:  # noqa: BLE001 - never stop a worker from starting
        logger.exception("sweep of stuck training runs failed at worker start-up")
    interval = sweep_interval()
    if interval > 0 and _sweeper is None:
        _sweeper = Sweeper(interval)
        _sweeper.start()


@worker_shutdown.connect
def _stop_sweeper(**_kwargs) -> None:
    global _sweeper
    if _sweeper is not None:
        _sweeper.stop()
        _sweeper = None
