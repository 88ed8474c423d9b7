"""The tenant's domain plugin, looked up through the plugin registry."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException

from m6rec.tenants.models import Tenant


class DomainUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "domain_unavailable"
    default_detail = "The tenant's domain plugin is not available."


def get_tenant_domain(tenant: Tenant) -> Any:
    """The tenant's :class:`domains.base.Domain`; :class:`DomainUnavailable` when the plugin
    is not installed or disabled."""
    from m6rec.plugins.registry import UnknownDomainError, get_domain

    try:
        return get_domain(tenant.domain)
    except UnknownDomainError as exc:
        raise DomainUnavailable(str(exc)) from exc


def default_interaction_type(domain: Any) -> str:
    """The type an interaction gets when it names none: the domain's first declared type."""
    return next(iter(domain.interaction_types))
