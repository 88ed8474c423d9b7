"""The process-wide domain registry.

Loaded once by :meth:`m6rec.plugins.apps.PluginsConfig.ready` from the entry-point group
``m6rec.domains`` (first-party and third-party plugins alike). Use::

    from m6rec.plugins.registry import get_domain, available_domains
    domain = get_domain(tenant.domain)        # raises UnknownDomainError
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any, Protocol

from domains.base import Domain
from domains.contract import contract_problems, instantiate
from m6rec.plugins.errors import (
    ContractViolationError,
    DuplicateDomainError,
    FailedToLoadPlugin,
    PluginError,
    UnknownDomainError,
)

GROUP = "m6rec.domains"

__all__ = [
    "GROUP",
    "ContractViolationError",
    "DuplicateDomainError",
    "FailedToLoadPlugin",
    "PluginError",
    "UnknownDomainError",
    "available_domains",
    "configure",
    "disabled_domains",
    "disabled_setting",
    "domain_choices",
    "get_domain",
    "load_domains",
]


class EntryPointLike(Protocol):
    """What :func:`load_domains` needs from an entry point (importlib's or a test double)."""

    name: str
    value: str

    def load(self) -> Any: ...


_lock = threading.Lock()
_domains: dict[str, Domain] | None = None
_disabled: frozenset[str] = frozenset()


def discover() -> list[EntryPointLike]:
    """Entry points of the group from installed distribution metadata, sorted by name."""
    return sorted(entry_points(group=GROUP), key=lambda ep: (ep.name, ep.value))


def load_domains(
    eps: Iterable[EntryPointLike] | None = None, *, disabled: Iterable[str] = ()
) -> dict[str, Domain]:
    """Load, instantiate and check plugins; return name → domain (sorted by name).

    Disabled names are skipped before import, so a broken plugin can be switched off.
    Raises :class:`FailedToLoadPlugin`, :class:`ContractViolationError` or
    :class:`DuplicateDomainError`, each naming the plugin.
    """
    disabled = frozenset(disabled)
    eps = list(discover() if eps is None else eps)
    by_name: dict[str, list[EntryPointLike]] = {}
    for ep in eps:
        if ep.name in disabled:
            continue
        seen = by_name.setdefault(ep.name, [])
        if all(other.value != ep.value for other in seen):  # same target twice = one plugin
            seen.append(ep)
    for name, group in by_name.items():
        if len(group) > 1:
            raise DuplicateDomainError(name, [ep.value for ep in group])
    loaded: dict[str, Domain] = {}
    for name in sorted(by_name):
        ep = by_name[name][0]
        try:
            domain = instantiate(ep.load())
        except Exception as exc:  # noqa: BLE001 - any import/instantiation failure
            raise FailedToLoadPlugin(name, ep.value, exc) from exc
        problems = contract_problems(domain, name)
        if problems:
            raise ContractViolationError(name, ep.value, problems)
        loaded[name] = domain
    return loaded


def configure(
    *, disabled: Iterable[str] = (), eps: Iterable[EntryPointLike] | None = None
) -> dict[str, Domain]:
    """(Re)load the registry; called from ``AppConfig.ready`` and by tests."""
    global _domains, _disabled
    disabled = frozenset(disabled)
    domains = load_domains(eps, disabled=disabled)
    with _lock:
        _domains, _disabled = domains, disabled
    return dict(domains)


def disabled_setting(settings: Any) -> list[str]:
    """``M6REC_DISABLED_DOMAINS`` as a list: a list/tuple, or a comma-separated string."""
    value = settings.M6REC_DISABLED_DOMAINS or ()
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _current() -> dict[str, Domain]:
    if _domains is None:  # used outside Django start-up (scripts): load lazily
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        try:
            disabled = disabled_setting(settings)
        except ImproperlyConfigured:  # settings not configured: plain script
            disabled = []
        configure(disabled=disabled)
    assert _domains is not None
    return _domains


def available_domains() -> dict[str, Domain]:
    """Name → domain instance for every enabled plugin (a copy, sorted by name)."""
    return dict(_current())


def disabled_domains() -> list[str]:
    """Names switched off by ``M6REC_DISABLED_DOMAINS``."""
    _current()
    return sorted(_disabled)


def get_domain(name: str) -> Domain:
    """The domain registered as ``name``; :class:`UnknownDomainError` lists what exists."""
    domains = _current()
    try:
        return domains[name]
    except KeyError:
        raise UnknownDomainError(name, list(domains), list(_disabled)) from None


def domain_choices() -> list[tuple[str, str]]:
    """``(name, label)`` pairs for a form/model field's ``choices`` (callable-friendly)."""
    return [(n, f"{n} (v{d.version})") for n, d in _current().items()]
