from django.apps import AppConfig


class BatchConfig(AppConfig):
    name = "m6rec.batch"
    label = "batch"
    verbose_name = "Batch recommendations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from m6rec.batch import signals  # noqa: F401  (a deleted job's files go too)
