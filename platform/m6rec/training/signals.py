"""Worker start-up hook: fail runs left ``running`` by a worker that died (see services)."""

from __future__ import annotations

import logging

from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@worker_ready.connect
def _sweep_on_worker_start(**_kwargs) -> None:
    from m6rec.training.services import training_run_sweep_stuck

    try:
        training_run_sweep_stuck()
    except Exception:  # noqa: BLE001 - never stop a worker from starting
        logger.exception("sweep of stuck training runs failed at worker start-up")
