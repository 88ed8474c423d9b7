from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "m6rec.serving"
    label = "serving"
    verbose_name = "Serving"

    def ready(self) -> None:
        """Refresh a tenant's serving snapshot as soon as this process changes its catalogue
        or active version; other processes follow within ``M6REC_ACTIVE_VERSION_TTL`` (they
        read the tenant's serving generation, which catalogue writes move on commit)."""
        from django.db.models.signals import post_delete, post_save

        from m6rec.catalog.models import Item
        from m6rec.catalog.signals import items_changed

        items_changed.connect(_on_items_changed, dispatch_uid="m6rec.serving.items_changed")
        # single-object saves and deletes (the admin) bypass the catalogue services
        post_save.connect(_on_item_saved, sender=Item, dispatch_uid="m6rec.serving.item_saved")
        post_delete.connect(_on_item_saved, sender=Item, dispatch_uid="m6rec.serving.item_deleted")
        try:
            from m6rec.registry.signals import active_version_changed
        except ImportError:  # registry not installed in this build
            return
        active_version_changed.connect(
            _on_active_version_changed, dispatch_uid="m6rec.serving.active_version_changed"
        )


def _on_active_version_changed(sender, tenant_id=None, **kwargs) -> None:
    from m6rec.serving.snapshot import invalidate

    invalidate(tenant_id)


def _on_items_changed(sender, tenant_id=None, item_ids=(), **kwargs) -> None:
    from m6rec.serving.snapshot import invalidate

    invalidate(tenant_id, catalogue=True)


def _on_item_saved(sender, instance, **kwargs) -> None:
    from m6rec.serving.snapshot import invalidate
    from m6rec.tenants.generation import generation_bump_on_commit

    invalidate(instance.tenant_id, catalogue=True)
    generation_bump_on_commit(tenant_id=instance.tenant_id)
