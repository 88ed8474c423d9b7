"""Production settings: every secret and address from the environment (docs/production.md).

Required: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL, REDIS_URL. Startup fails with
a clear ImproperlyConfigured error naming the variable when one is missing.
`DJANGO_SETTINGS_MODULE=m6rec.settings.production python manage.py check --deploy` is clean with
the environment documented in docs/production.md.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from m6rec.ops.jsonlog import build_logging

from .base import *  # noqa: F403
from .base import DATABASES, env

_DOCS = "see docs/production.md ('Environment')"


def _required(name: str, hint: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set: m6rec.settings.production requires it ({hint}; {_DOCS})."
        )
    return value


# --- secrets and hosts -------------------------------------------------------------------
SECRET_KEY = _required(
    "DJANGO_SECRET_KEY",
    'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"',
)
if "change-me" in SECRET_KEY.lower():
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY still holds the placeholder from the examples; generate a real one "
        f"({_DOCS})."
    )
_required("DATABASE_URL", "e.g. postgres://m6rec:PASSWORD@db.internal:5432/m6rec")
_required("REDIS_URL", "e.g. redis://redis.internal:6379/0")
DEBUG = False
ALLOWED_HOSTS = [
    h.strip()
    for h in _required("DJANGO_ALLOWED_HOSTS", "comma-separated host names").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS, cookies, headers (TLS terminates at the proxy / ingress) -----------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- database: persistent connections with health checks ----------------------------------
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- serving processes: long-lived objects out of the garbage collector's full passes -----
M6REC_GC_FREEZE = env.bool("M6REC_GC_FREEZE", default=True)

# --- cache (and DRF throttles, which use the default cache) on Redis ----------------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("DJANGO_CACHE_URL", default=env("REDIS_URL")),
        "KEY_PREFIX": "m6rec",
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# --- static files (whitenoise) and bundle storage -----------------------------------------
# Bundles live under MEDIA_ROOT (a volume shared by web and workers), or in object storage:
# M6REC_BUNDLE_BACKEND=s3 adds a "bundles" storage (django-storages, `pip install
# "django-storages[s3]"`; credentials from the usual AWS_* variables or the pod's role) that
# m6rec.registry.storage uploads to; each process fetches bundles into M6REC_BUNDLE_CACHE_DIR.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
_BUNDLE_BACKEND = env("M6REC_BUNDLE_BACKEND", default="filesystem")
if _BUNDLE_BACKEND == "s3":
    STORAGES["bundles"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _required("M6REC_S3_BUCKET", "the bucket that holds model bundles"),
            "endpoint_url": env("M6REC_S3_ENDPOINT_URL", default=None),
            "region_name": env("M6REC_S3_REGION", default=None),
            "location": env("M6REC_S3_PREFIX", default="m6rec"),
            "file_overwrite": True,
        },
    }
    M6REC_BUNDLE_STORAGE = "bundles"  # each process caches bundles in M6REC_BUNDLE_CACHE_DIR
elif _BUNDLE_BACKEND != "filesystem":
    raise ImproperlyConfigured(f"M6REC_BUNDLE_BACKEND must be filesystem or s3 ({_DOCS}).")

# --- logs: one JSON object per line, with the request id ----------------------------------
LOGGING = build_logging(
    env("DJANGO_LOG_LEVEL", default="INFO"),
    json_format=env.bool("M6REC_LOG_JSON", default=True),
    access_log=env.bool("GUNICORN_ACCESS_LOG", default=False),
)

# --- Celery ------------------------------------------------------------------------------
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep the JSON logging above
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacknowledged task after the visibility timeout; with acks_late it
# must exceed the longest training run, or a long run would start twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405 - bounded connect timeout (base)
    "visibility_timeout": env.int("M6REC_CELERY_VISIBILITY_TIMEOUT", default=6 * 60 * 60),
}
# Recycle pool processes now and then (TensorFlow does not give memory back).
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("M6REC_CELERY_MAX_TASKS_PER_CHILD", default=10)
