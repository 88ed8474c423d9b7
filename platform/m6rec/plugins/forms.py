"""Form helpers for per-tenant domain configuration (Django admin or any ModelForm).

Usage in the tenants app's admin (owned by that app)::

    from m6rec.plugins.forms import DomainConfigFormMixin
    from m6rec.tenants.models import PLATFORM_CONFIG_KEYS

    class TenantAdminForm(DomainConfigFormMixin, forms.ModelForm):
        domain_config_exclude_keys = PLATFORM_CONFIG_KEYS
        class Meta:
            model = Tenant
            fields = "__all__"

The mixin turns ``domain`` into a choice of the installed domains, shows the selected
domain's defaults as help text, and validates ``config`` with ``Domain.validate_config``,
attaching every message to the ``config`` field as ``"<field path>: <message>"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django import forms

from m6rec.plugins.registry import UnknownDomainError, domain_choices, get_domain


def domain_config_errors(
    domain_name: str, config: Any, *, exclude_keys: tuple[str, ...] = ()
) -> list[str]:
    """``"<field>: <message>"`` strings for ``config`` under ``domain_name`` ([] = valid).

    Keys in ``exclude_keys`` (platform-owned settings stored beside the domain config) are
    ignored. An unknown or disabled domain yields one message naming the available ones.
    """
    try:
        domain = get_domain(domain_name)
    except UnknownDomainError as exc:
        return [str(exc)]
    if isinstance(config, Mapping):
        config = {k: v for k, v in config.items() if k not in exclude_keys}
    problems = domain.validate_config(config if config is not None else {})
    return [f"{field}: {message}" for field, messages in problems.items() for message in messages]


def domain_config_help(domain_name: str) -> str:
    """Help text: the domain's default configuration (what a tenant may override)."""
    try:
        domain = get_domain(domain_name)
    except UnknownDomainError as exc:
        return str(exc)
    defaults = json.dumps(domain.default_config(), indent=1, sort_keys=True)
    return f"Overrides for the {domain.name} domain (v{domain.version}). Defaults: {defaults}"


class DomainConfigFormMixin:
    """Validates a ``config`` JSON field against the ``domain`` field's plugin."""

    domain_field = "domain"
    config_field = "config"
    domain_config_exclude_keys: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.fields  # type: ignore[attr-defined]
        if self.domain_field in fields:
            old = fields[self.domain_field]
            fields[self.domain_field] = forms.ChoiceField(
                choices=domain_choices,
                required=old.required,
                label=old.label,
                help_text="Installed domain plugins (entry-point group m6rec.domains).",
            )
        name = self.initial.get(self.domain_field) if hasattr(self, "initial") else None
        if name and self.config_field in fields:
            fields[self.config_field].help_text = domain_config_help(str(name))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        name = cleaned.get(self.domain_field)
        if name and self.config_field in cleaned:
            errors = domain_config_errors(
                name, cleaned.get(self.config_field), exclude_keys=self.domain_config_exclude_keys
            )
            for message in errors:
                self.add_error(self.config_field, message)  # type: ignore[attr-defined]
        return cleaned
