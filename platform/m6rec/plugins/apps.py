"""Django app that loads every domain plugin once, at start-up."""

from django.apps import AppConfig
from django.conf import settings


class PluginsConfig(AppConfig):
    name = "m6rec.plugins"
    label = "plugins"
    verbose_name = "Domain plugins"

    def ready(self) -> None:
        """Load the entry-point group ``m6rec.domains``; a broken plugin stops start-up.

        Raises a :class:`m6rec.plugins.errors.PluginError` subclass that names the plugin
        (failed import, contract violation, duplicate name) instead of starting half-configured.
        """
        from m6rec.plugins import registry

        registry.configure(disabled=registry.disabled_setting(settings))
