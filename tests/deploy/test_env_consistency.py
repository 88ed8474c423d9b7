"""The variable scanner finds what the settings read (the other checks depend on it)."""


def test_scanner_sees_settings_ops_and_gunicorn(known_env, required_env):
    for name in (
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "M6REC_MEDIA_ROOT",
        "DJANGO_STATIC_ROOT",
        "M6REC_LARGE_TENANT_INTERACTIONS",
        "M6REC_METRICS_TOKEN",
        "PROMETHEUS_MULTIPROC_DIR",
        "M6REC_WORKER_METRICS_PORT",
        "WEB_CONCURRENCY",
        "GUNICORN_BIND",
    ):
        assert name in known_env, name
    required = {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"}
    assert required_env == required


def test_env_example_documents_every_setting_it_sets(known_env):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "deploy" / ".env.example"
    keys = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    compose_only = {
        "M6REC_IMAGE",
        "M6REC_WORKER_IMAGE",
        "POSTGRES_DB",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "WEB_PORT",
        "WORKER_SMALL_CONCURRENCY",
        "WORKER_LARGE_CONCURRENCY",
    }
    assert keys - known_env - compose_only == set()
