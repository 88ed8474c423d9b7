from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "m6rec.serving"
    label = "serving"
    verbose_name = "Serving"

    def ready(self) -> None:
        """Forget a tenant's memoised active version as soon as this process changes it.

        Other processes learn the change from the database within M6REC_ACTIVE_VERSION_TTL.
        """
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
