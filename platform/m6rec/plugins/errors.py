"""Errors raised while loading or looking up domain plugins.

Each error names the offending plugin (the entry-point name and its target), in the manner of
flake8's ``FailedToLoadPlugin``, so a broken third-party package is easy to find.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class PluginError(ImproperlyConfigured):
    """Base class: a domain plugin could not be registered."""

    def __init__(self, plugin_name: str, message: str) -> None:
        self.plugin_name = plugin_name
        super().__init__(message)


class FailedToLoadPlugin(PluginError):
    """Importing or instantiating the entry point raised."""

    def __init__(self, plugin_name: str, target: str, exception: BaseException) -> None:
        self.target = target
        self.original_exception = exception
        super().__init__(
            plugin_name,
            f'Domain plugin "{plugin_name}" ({target}) failed to load: '
            f"{type(exception).__name__}: {exception}",
        )


class ContractViolationError(PluginError):
    """The plugin loaded but does not satisfy the :class:`domains.base.Domain` contract."""

    def __init__(self, plugin_name: str, target: str, problems: list[str]) -> None:
        self.target = target
        self.problems = list(problems)
        listed = "; ".join(problems)
        super().__init__(
            plugin_name,
            f'Domain plugin "{plugin_name}" ({target}) violates the domain contract: {listed}',
        )


class DuplicateDomainError(PluginError):
    """Two entry points register the same domain name."""

    def __init__(self, plugin_name: str, targets: list[str]) -> None:
        self.targets = list(targets)
        super().__init__(
            plugin_name,
            f'Domain name "{plugin_name}" is registered more than once: '
            + ", ".join(targets)
            + ". Uninstall one of the packages or disable the name in M6REC_DISABLED_DOMAINS.",
        )


class UnknownDomainError(LookupError):
    """Lookup of a domain name that is not registered (or is disabled)."""

    def __init__(self, name: str, available: list[str], disabled: list[str] | None = None) -> None:
        self.name = name
        self.available = sorted(available)
        self.disabled = sorted(disabled or [])
        message = f'Unknown domain "{name}". Available domains: ' + (
            ", ".join(self.available) or "(none)"
        )
        if name in self.disabled:
            message = (
                f'Domain "{name}" is disabled by M6REC_DISABLED_DOMAINS. '
                + message[message.index("Available") :]
            )
        super().__init__(message)

    def __str__(self) -> str:  # LookupError would repr() the message
        return self.args[0]
