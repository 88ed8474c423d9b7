"""Tenant and API-key writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from m6rec.tenants.keys import clear_api_key_cache
from m6rec.tenants.models import (
    ALL_SCOPES,
    ApiKey,
    Tenant,
    UnknownRefs,
    generate_token,
    hash_token,
    split_domain_config,
)


def validate_domain_config(*, domain_name: str, config: Mapping[str, Any] | None) -> None:
    """:class:`ValidationError` when the domain is unknown or the config does not fit it."""
    from m6rec.plugins.registry import UnknownDomainError, get_domain

    try:
        domain = get_domain(domain_name)
    except UnknownDomainError as exc:
        raise ValidationError({"domain": [str(exc)]}) from exc
    problems = domain.validate_config(split_domain_config(config))
    if problems:
        raise ValidationError(
            {"config": [f"{field or 'config'}: {m}" for field, ms in problems.items() for m in ms]}
        )


@transaction.atomic
def tenant_create(
    *,
    slug: str,
    name: str,
    domain: str,
    config: Mapping[str, Any] | None = None,
    unknown_refs: str = UnknownRefs.CREATE,
) -> Tenant:
    """Create a tenant after checking its domain plugin exists and accepts ``config``."""
    validate_domain_config(domain_name=domain, config=config)
    tenant = Tenant(
        slug=slug, name=name, domain=domain, config=dict(config or {}), unknown_refs=unknown_refs
    )
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    scopes: Iterable[str] = ALL_SCOPES,
    rate_limit: str = "",
) -> tuple[ApiKey, str]:
    """Create a key; returns ``(key, token)``. The token is not stored: show it once."""
    scopes = list(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown or not scopes:
        raise ValidationError({"scopes": [f"Choose from {', '.join(ALL_SCOPES)}; got {scopes}."]})
    token, prefix = generate_token()
    key = ApiKey.objects.create(
        tenant=tenant,
        name=name,
        prefix=prefix,
        secret_hash=hash_token(token),
        scopes=scopes,
        rate_limit=rate_limit,
    )
    return key, token


def api_key_cache_clear() -> None:
    """Drop this process's verified-key cache now and again when the transaction commits.

    Other processes stop accepting a revoked key within ``M6REC_API_KEY_CACHE_TTL`` seconds.
    """
    clear_api_key_cache()
    transaction.on_commit(clear_api_key_cache)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once in this process, within the key cache TTL elsewhere (idempotent)."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    api_key_cache_clear()
    return api_key
