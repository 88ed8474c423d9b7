from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "m6rec.tenants"
    label = "tenants"
    verbose_name = "Tenants and API keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from m6rec.common import schema  # noqa: F401 - registers the OpenAPI auth extension
        from m6rec.tenants.keys import clear_api_key_cache
        from m6rec.tenants.models import ApiKey, Tenant

        # any saved/deleted key or tenant (admin edits, deactivation) invalidates this
        # process's verified-key cache; other processes follow within its TTL
        for model in (ApiKey, Tenant):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                uid = f"keycache-{name}-{model.__name__}"
                signal.connect(clear_api_key_cache, sender=model, dispatch_uid=uid)
