"""M6-Rec: the Django project (source root platform/, never a package itself)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
