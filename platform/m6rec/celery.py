"""Celery application. Workers: `celery -A m6rec worker` with platform/ on PYTHONPATH."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m6rec.settings.local")

app = Celery("m6rec")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
