"""Structured logs: one JSON object per line with time, level, logger, message, request_id."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from m6rec.ops.jsonlog import JsonFormatter, RequestIdFilter, build_logging
from m6rec.ops.request_id import reset_request_id, set_request_id

ROOT = Path(__file__).resolve().parents[3]


def _capture(fn):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("m6rec.tests.jsonlog")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        fn(logger)
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_object_per_line_with_the_fields():
    def emit(logger):
        token = set_request_id("rid-1")
        try:
            logger.info("hello %s", "world", extra={"tenant_slug": "acme", "n": 3})
        finally:
            reset_request_id(token)
        logger.warning("multi\nline")

    first, second = _capture(emit)
    assert first["message"] == "hello world"
    assert first["level"] == "INFO"
    assert first["logger"] == "m6rec.tests.jsonlog"
    assert first["request_id"] == "rid-1"
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert first["tenant_slug"] == "acme" and first["n"] == 3
    assert second["request_id"] is None and second["message"] == "multi\nline"


def test_exceptions_are_included_and_unserialisable_extras_stringified():
    def emit(logger):
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed", extra={"obj": object()})

    (record,) = _capture(emit)
    assert "ValueError: boom" in record["exc_info"]
    assert record["obj"].startswith("<object object")


def test_build_logging_is_a_valid_dictconfig():
    """Applied in a fresh interpreter (dictConfig reconfigures process-wide loggers)."""
    code = (
        "import logging, logging.config\n"
        "from m6rec.ops.jsonlog import build_logging\n"
        "from m6rec.ops.request_id import set_request_id\n"
        "logging.config.dictConfig(build_logging('INFO'))\n"
        "set_request_id('dict-rid')\n"
        "logging.getLogger('m6rec.anything').info('configured')\n"
        "logging.getLogger('django.request').warning('django too')\n"
        "logging.getLogger('m6rec.anything').debug('below the level')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "platform")},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.strip().splitlines()]
    assert [(r["logger"], r["message"], r["request_id"]) for r in lines] == [
        ("m6rec.anything", "configured", "dict-rid"),
        ("django.request", "django too", "dict-rid"),
    ]


def test_plain_text_variant():
    config = build_logging("DEBUG", json_format=False)
    assert "request_id" in config["formatters"]["default"]["format"]


def _record(name: str, args=(), **extra) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, "msg", args, None)
    record.__dict__.update(extra)
    return record


def test_django_request_records_take_the_id_of_their_request():
    """django.request logs a response after RequestIdMiddleware reset the context."""
    from types import SimpleNamespace

    record = _record("django.request", request=SimpleNamespace(request_id="req-7"))
    assert RequestIdFilter().filter(record) and record.request_id == "req-7"
    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-7"


def test_gunicorn_access_records_take_the_response_header():
    record = _record("gunicorn.access")
    record.args = {"{x-request-id}o": "acc-9", "h": "127.0.0.1"}
    assert json.loads(JsonFormatter().format(record))["request_id"] == "acc-9"
    record = _record("gunicorn.access")
    record.args = {"{x-request-id}o": "-"}
    assert json.loads(JsonFormatter().format(record))["request_id"] is None


def test_production_logging_keeps_the_access_log_off_unless_asked_for():
    assert build_logging()["loggers"]["gunicorn.access"]["level"] == "WARNING"
    assert build_logging(access_log=True)["loggers"]["gunicorn.access"]["level"] == "INFO"
