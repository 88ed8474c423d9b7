from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "m6rec.tenants"
    label = "tenants"
    verbose_name = "Tenants and API keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from m6rec.common import schema  # noqa: F401 - registers the OpenAPI auth extension
