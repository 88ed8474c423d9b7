"""Embedded quick start: SQLite, Celery in-process, local-memory cache. Not for production."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-insecure-quick-start-key-not-for-production")

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'm6rec.sqlite3'}")
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
M6REC_IMPRESSIONS_REDIS_URL = env("M6REC_IMPRESSIONS_REDIS_URL", default="")  # no Redis here
