"""Test settings: the real services (PostgreSQL, Redis) through DATABASE_URL / REDIS_URL."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

SECRET_KEY = "test-secret-key-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = env.path("M6REC_MEDIA_ROOT", default=str(BASE_DIR / "var" / "test-media"))
