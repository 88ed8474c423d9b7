from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "m6rec.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import celery_signals

        celery_signals.connect()
