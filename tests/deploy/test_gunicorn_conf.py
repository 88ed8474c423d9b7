"""deploy/gunicorn.conf.py: environment overrides and Prometheus multiprocess hooks."""

import runpy
import types
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


def load(monkeypatch, **env):
    for key in ("WEB_CONCURRENCY", "GUNICORN_BIND", "GUNICORN_ACCESS_LOG", "M6REC_LOG_JSON"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(CONF))


def test_defaults(monkeypatch):
    conf = load(monkeypatch)
    assert conf["bind"] == "0.0.0.0:8000"
    assert 1 <= conf["workers"] <= 8
    assert conf["worker_class"] == "gthread"
    assert conf["accesslog"] is None
    formatter = conf["logconfig_dict"]["formatters"]["json"]["()"]
    assert formatter == "m6rec.ops.jsonlog.JsonFormatter"


def test_environment_overrides(monkeypatch):
    conf = load(
        monkeypatch,
        WEB_CONCURRENCY="5",
        GUNICORN_BIND="127.0.0.1:9000",
        GUNICORN_ACCESS_LOG="1",
        M6REC_LOG_JSON="0",
    )
    assert conf["workers"] == 5 and conf["bind"] == "127.0.0.1:9000"
    assert conf["accesslog"] == "-"
    assert "logconfig_dict" not in conf


def test_multiprocess_directory_is_emptied_on_start_and_dead_workers_marked(monkeypatch, tmp_path):
    prom = tmp_path / "prom"
    prom.mkdir()
    (prom / "counter_123.db").write_bytes(b"stale")
    (prom / "gauge_livesum_999.db").write_bytes(b"")
    conf = load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(prom))
    conf["on_starting"](server=None)
    assert prom.is_dir() and list(prom.iterdir()) == []
    (prom / "gauge_livesum_999.db").write_bytes(b"")
    conf["child_exit"](server=None, worker=types.SimpleNamespace(pid=999))
    assert not (prom / "gauge_livesum_999.db").exists()


def test_worker_init_freezes_the_loaded_application_when_configured(monkeypatch, settings):
    import gc

    import django.urls

    conf = load(monkeypatch)
    imported = []  # the URLconf import itself is the Django test client's business elsewhere
    monkeypatch.setattr(
        django.urls,
        "get_resolver",
        lambda: imported.append(1) or types.SimpleNamespace(url_patterns=[]),
    )
    gc.unfreeze()
    try:
        settings.M6REC_GC_FREEZE = False
        conf["post_worker_init"](worker=None)
        assert gc.get_freeze_count() == 0
        settings.M6REC_GC_FREEZE = True
        conf["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0 and imported == [1]
    finally:
        gc.unfreeze()


def _effective(monkeypatch, **env):
    """gunicorn's Config as loaded from the file, and the level of its access logger after
    gunicorn's logging setup (logconfig_dict) and then the production LOGGING, which every
    worker applies when Django starts (gunicorn logs access lines at INFO)."""
    from gunicorn.config import Config

    from m6rec.ops.jsonlog import build_logging

    conf = load(monkeypatch, **env)
    cfg = Config()
    for name, value in conf.items():
        if name in cfg.settings:
            cfg.set(name, value)
    level = "INFO"  # gunicorn's own setting for gunicorn.access
    for config in (
        cfg.logconfig_dict,
        build_logging("INFO", access_log=env.get("GUNICORN_ACCESS_LOG") == "1"),
    ):
        level = (config or {}).get("loggers", {}).get("gunicorn.access", {}).get("level", level)
    return cfg, level == "INFO"


def test_access_log_is_off_by_default_as_documented(monkeypatch):
    cfg, writes = _effective(monkeypatch)
    assert cfg.accesslog is None
    assert not writes
    cfg, writes = _effective(monkeypatch, GUNICORN_ACCESS_LOG="1")
    assert cfg.accesslog == "-" and writes


def test_request_line_limit_is_left_to_django(monkeypatch):
    """gunicorn's 414 is a text/html page: Django answers long URLs (M6REC_MAX_URL_BYTES)."""
    cfg, _ = _effective(monkeypatch)
    assert cfg.limit_request_line == 0
    assert cfg.limit_request_fields == 100
