"""Production settings: `check --deploy` is clean with the environment in docs/production.md;
missing or placeholder secrets fail with a clear message."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "production.md"
MARKER = "<!-- check-deploy-env -->"


def documented_env() -> dict[str, str]:
    """The ```env block right after the marker in docs/production.md (placeholders in <...>
    are generated)."""
    text = DOC.read_text()
    assert MARKER in text, f"{DOC} lost its {MARKER} block"
    block = re.search(r"```env\n(.*?)```", text[text.index(MARKER) :], re.S)
    assert block, "no ```env block after the marker"
    env = {}
    for line in block.group(1).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        env[key] = secrets.token_urlsafe(50) if value.startswith("<") else value
    return env


def run_manage(args, env, timeout=180):
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "SYSTEMROOT") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_documented_environment_names_the_required_variables():
    env = documented_env()
    for name in (
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "DATABASE_URL",
        "REDIS_URL",
    ):
        assert name in env
    assert env["DJANGO_SETTINGS_MODULE"] == "m6rec.settings.production"


def test_check_deploy_is_clean_with_the_documented_environment():
    proc = run_manage(["check", "--deploy", "--fail-level", "WARNING"], documented_env())
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


def settings_values(env, names):
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}, default=str))"
    )
    base = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env, "PYTHONPATH": str(ROOT / "platform")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_hardening_values():
    env = documented_env()
    values = settings_values(
        env,
        [
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "SECURE_PROXY_SSL_HEADER",
            "ALLOWED_HOSTS",
            "CSRF_TRUSTED_ORIGINS",
            "STORAGES",
            "CACHES",
            "MIDDLEWARE",
            "LOGGING",
            "CELERY_WORKER_HIJACK_ROOT_LOGGER",
            "CELERY_BROKER_TRANSPORT_OPTIONS",
        ],
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["ALLOWED_HOSTS"] == env["DJANGO_ALLOWED_HOSTS"].split(",")
    assert values["CSRF_TRUSTED_ORIGINS"] == env["DJANGO_CSRF_TRUSTED_ORIGINS"].split(",")
    assert "whitenoise" in values["STORAGES"]["staticfiles"]["BACKEND"]
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in values["MIDDLEWARE"]
    assert values["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert values["CACHES"]["default"]["LOCATION"] == env["REDIS_URL"]
    assert values["LOGGING"]["formatters"]["default"]["()"].endswith("JsonFormatter")
    assert values["CELERY_WORKER_HIJACK_ROOT_LOGGER"] is False
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] >= 3600


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"]
)
def test_missing_required_variable_is_a_clear_error(missing):
    env = documented_env()
    del env[missing]
    proc = run_manage(["check"], env)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert f"{missing} is not set" in proc.stderr
    assert "docs/production.md" in proc.stderr


def test_placeholder_secret_is_refused():
    env = documented_env()
    env["DJANGO_SECRET_KEY"] = "CHANGE-ME-generate-a-50-character-random-secret-key-see-above"
    proc = run_manage(["check"], env)
    assert proc.returncode != 0
    assert "placeholder" in proc.stderr


def test_unknown_bundle_backend_is_refused():
    env = {**documented_env(), "M6REC_BUNDLE_BACKEND": "ftp"}
    proc = run_manage(["check"], env)
    assert proc.returncode != 0 and "M6REC_BUNDLE_BACKEND" in proc.stderr
