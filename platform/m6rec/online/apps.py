from django.apps import AppConfig


class OnlineConfig(AppConfig):
    """The online loop: recommendation ids, impressions, attribution, experiments."""

    name = "m6rec.online"
    label = "online"
    verbose_name = "Online metrics and experiments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from m6rec.online import signals  # noqa: F401 - connects the receivers
