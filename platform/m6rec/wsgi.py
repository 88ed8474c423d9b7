"""WSGI entry point (gunicorn m6rec.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m6rec.settings.production")
application = get_wsgi_application()
