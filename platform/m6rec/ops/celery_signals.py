"""Celery integration: request ids travel with tasks; workers can expose a metrics port.

- A task published while handling a request carries the request id in a message header; the
  worker sets it for the task's duration, so the task's JSON logs share the request's id.
- ``M6REC_WORKER_METRICS_PORT`` (e.g. 9808): the worker's main process serves Prometheus
  metrics there (all pool processes summed through ``PROMETHEUS_MULTIPROC_DIR``).
- Workers train models: TensorFlow, absl, CUDA, tf2onnx and onnxruntime log noise is
  silenced in the main process and in every pool process (``M6REC_VERBOSE=1`` keeps it).
"""

from __future__ import annotations

import logging
import os

from celery import signals

from .request_id import get_request_id, reset_request_id, set_request_id

HEADER = "m6rec_request_id"
logger = logging.getLogger(__name__)
_tokens: dict[str, object] = {}


def add_request_id_header(headers=None, **kwargs) -> None:
    request_id = get_request_id()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


def task_started(task_id=None, task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    request_id = getattr(request, HEADER, None) or (task_id and f"task-{task_id}")
    if task_id:
        _tokens[task_id] = set_request_id(request_id)


def task_finished(task_id=None, **kwargs) -> None:
    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            reset_request_id(token)
        except ValueError:  # reset from another context: clear instead
            set_request_id(None)


def start_worker_metrics(**kwargs) -> None:
    port = os.environ.get("M6REC_WORKER_METRICS_PORT")
    if not port:
        return
    from prometheus_client import start_http_server

    from .metrics import scrape_registry

    start_http_server(int(port), registry=scrape_registry())
    logger.info("worker metrics on port %s", port)


def worker_process_exit(**kwargs) -> None:
    from .metrics import mark_process_dead

    mark_process_dead(os.getpid())


def quiet_worker(**kwargs) -> None:
    """Third-party log noise off before a task can import TensorFlow (engine.quiet)."""
    from engine.quiet import quiet_third_party

    quiet_third_party()


def connect() -> None:
    signals.worker_init.connect(quiet_worker, weak=False, dispatch_uid=HEADER)
    signals.worker_process_init.connect(quiet_worker, weak=False, dispatch_uid=HEADER)
    signals.before_task_publish.connect(add_request_id_header, weak=False, dispatch_uid=HEADER)
    signals.task_prerun.connect(task_started, weak=False, dispatch_uid=HEADER)
    signals.task_postrun.connect(task_finished, weak=False, dispatch_uid=HEADER)
    signals.worker_ready.connect(start_worker_metrics, weak=False, dispatch_uid=HEADER)
    signals.worker_process_shutdown.connect(worker_process_exit, weak=False, dispatch_uid=HEADER)
    from .worker_limits import apply_worker_limits

    signals.worker_init.connect(apply_worker_limits, weak=False, dispatch_uid="m6rec-limits")
    signals.worker_process_init.connect(
        apply_worker_limits, weak=False, dispatch_uid="m6rec-limits-child"
    )
