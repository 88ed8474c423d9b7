from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "m6rec.catalog"
    label = "catalog"
    verbose_name = "Catalog: items, users, interactions"
    default_auto_field = "django.db.models.BigAutoField"
