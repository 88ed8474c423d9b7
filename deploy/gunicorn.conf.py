"""gunicorn configuration for M6-Rec (``gunicorn -c deploy/gunicorn.conf.py m6rec.wsgi``).

Everything can be overridden from the environment (GUNICORN_* and WEB_CONCURRENCY), see
docs/production.md. Prometheus multiprocess mode: PROMETHEUS_MULTIPROC_DIR must be set in the
environment before gunicorn starts; the directory is emptied here when the master starts.
"""

import os
import shutil

_env = os.environ.get


def _int(name: str, default: int) -> int:
    return int(_env(name) or default)


bind = _env("GUNICORN_BIND", "0.0.0.0:8000")
# Serving is CPU-bound (model scoring in every request) and threads of one process share the
# GIL: one thread per process, one process per core plus one (to use a core while another
# process waits on PostgreSQL or Redis); each process keeps its own model cache. Measured with
# benchmarks/serve_load.py on 2 cores: 3 × 1 served as many requests/s as 2 × 2 with half the
# p99 latency at 200 requests/s (about 25 against 35-55 ms); 2 × 4 served ~30% less.
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
workers = _int("WEB_CONCURRENCY", min((_cores or 1) + 1, 9))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycling guards against slow leaks, but a new worker reloads and re-verifies every model it
# serves and starts with cold caches: at a few hundred requests/s, 5,000 would mean a reload
# every few seconds.
max_requests = _int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 10_000)
# Heartbeat files on tmpfs when there is one (containers); the default elsewhere.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
forwarded_allow_ips = _env("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Limits on the request line and headers; bodies are limited by Django (M6REC_MAX_BODY_BYTES).
# The request line is limited by Django too (M6REC_MAX_URL_BYTES, 8190 by default: a JSON 414
# in the API's error shape); 0 lifts gunicorn's own limit (its parser still stops at 1 MiB),
# whose 414 would be a text/html page.
limit_request_line = 0
limit_request_fields = 100
pidfile = _env("GUNICORN_PIDFILE") or None

# Logs: JSON lines to stderr like the application's; access log off unless asked for (the
# request-latency histogram and the application logs cover it). The production LOGGING
# (m6rec.ops.jsonlog.build_logging), applied in each worker after this, keeps it so.
_access = _env("GUNICORN_ACCESS_LOG", "0") == "1"
accesslog = "-" if _access else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"
loglevel = _env("GUNICORN_LOG_LEVEL", "info")
if _env("M6REC_LOG_JSON", "1") != "0":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "m6rec.ops.jsonlog.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json"},
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {
                "handlers": ["console"],
                "level": "INFO" if _access else "WARNING",
                "propagate": False,
            },
        },
    }


def on_starting(server) -> None:
    """Empty the Prometheus multiprocess directory: samples of a previous run must not count."""
    path = _env("PROMETHEUS_MULTIPROC_DIR")
    if path and _env("M6REC_KEEP_METRICS_DIR", "0") != "1":
        shutil.rmtree(path, ignore_errors=True)
    if path:
        os.makedirs(path, exist_ok=True)


def child_exit(server, worker) -> None:
    """Prometheus multiprocess clean-up for a worker that exited."""
    if _env("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:
    """Import every view now and keep what the worker loaded out of the garbage collector's
    full passes (m6rec.ops.gcfreeze; model loads freeze again with M6REC_GC_FREEZE)."""
    from django.conf import settings

    if not getattr(settings, "M6REC_GC_FREEZE", False):
        return
    from django.urls import get_resolver

    from m6rec.ops.gcfreeze import freeze_long_lived

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and the views
    freeze_long_lived()
