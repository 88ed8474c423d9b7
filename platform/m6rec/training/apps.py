from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "m6rec.training"
    label = "training"
    verbose_name = "Training"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from m6rec.training import signals  # noqa: F401  (worker start-up sweep)
