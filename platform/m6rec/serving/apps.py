from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "m6rec.serving"
    label = "serving"
    verbose_name = "Serving"

    def ready(self) -> None:
        """Forget a tenant's memoised active version, and catalogue entries, as soon as this
        process changes them.

        Other processes learn the changes from the database within M6REC_ACTIVE_VERSION_TTL and
        M6REC_CATALOG_TTL.
        """
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
    from m6rec.serving.loading import active_memo

    active_memo.invalidate(tenant_id)


def _on_items_changed(sender, tenant_id=None, item_ids=(), **kwargs) -> None:
    from m6rec.serving.memos import catalogue_memo

    catalogue_memo.forget(tenant_id, item_ids)


def _on_item_saved(sender, instance, **kwargs) -> None:
    from m6rec.serving.memos import catalogue_memo

    catalogue_memo.forget(instance.tenant_id, [instance.external_id])
