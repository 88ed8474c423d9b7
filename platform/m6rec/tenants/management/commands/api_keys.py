"""``api_keys {create,list,revoke}``: a tenant's API keys from the command line.

Calls the same services as the admin and the API (:mod:`m6rec.tenants.services`); a revoked
key stops working at once in this process and within the key-cache TTL elsewhere.
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from m6rec.common.commands import (
    ProjectCommand,
    cli_actor,
    examples,
    table,
    tenant_by_slug,
    when,
)
from m6rec.tenants.models import ALL_SCOPES, KEY_PREFIX, ApiKey, split_token
from m6rec.tenants.services import api_key_create, api_key_revoke

logger = logging.getLogger(__name__)


class Command(ProjectCommand):
    help = (
        "Create, list or revoke a tenant's API keys. A new key is printed once, alone on the "
        "last line of standard output (only its prefix is stored in clear); revoke a key by "
        "that prefix."
    )
    epilog = examples(
        "python manage.py api_keys create shop --name ingest-job --scopes ingest",
        "python manage.py api_keys create shop --name web --scopes recommend --rate-limit 600/min",
        "python manage.py api_keys list shop",
        "python manage.py api_keys list shop --all --json",
        "python manage.py api_keys revoke shop 1a2b3c4d",
    )

    def add_arguments(self, parser):
        sub = self.add_subcommands(parser)
        create = sub.add_parser(
            "create",
            help="Create a key and print it (once).",
            description="Create an API key for a tenant; the key is printed alone on the "
            "last line.",
            epilog=examples(
                "python manage.py api_keys create shop --name ingest-job --scopes ingest",
                "KEY=$(python manage.py api_keys create shop --name ci | tail -n 1)",
            ),
        )
        create.add_argument("slug", help="The tenant's slug (see: manage.py list_tenants).")
        create.add_argument(
            "--name", required=True, help="A label for the key, e.g. the client that uses it."
        )
        create.add_argument(
            "--scopes",
            nargs="+",
            choices=ALL_SCOPES,
            default=list(ALL_SCOPES),
            metavar="SCOPE",
            help=f"What the key may do: any of {', '.join(ALL_SCOPES)} (default: all).",
        )
        create.add_argument(
            "--rate-limit",
            default="",
            help='Per-key request rate such as "600/min" (default: the platform\'s rate).',
        )
        listing = sub.add_parser(
            "list",
            help="List a tenant's keys (prefixes, never secrets).",
            description="List a tenant's API keys: prefix, name, scopes, last use.",
            epilog=examples("python manage.py api_keys list shop --all"),
        )
        listing.add_argument("slug", help="The tenant's slug (see: manage.py list_tenants).")
        listing.add_argument("--all", action="store_true", help="Include revoked keys.")
        listing.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON instead of a table."
        )
        revoke = sub.add_parser(
            "revoke",
            help="Revoke a key by its prefix.",
            description="Revoke an API key of a tenant, named by its 8-character prefix "
            f"(the part after {KEY_PREFIX}), the displayed form {KEY_PREFIX}<prefix>_…, or "
            "the whole key. Revoking twice is harmless.",
            epilog=examples("python manage.py api_keys revoke shop 1a2b3c4d"),
        )
        revoke.add_argument("slug", help="The tenant's slug (see: manage.py list_tenants).")
        revoke.add_argument("key", help="The key's prefix (api_keys list shows it) or the key.")

    def handle(self, *args, action: str, slug: str, **options):
        tenant = tenant_by_slug(slug)
        getattr(self, f"_{action}")(tenant, **options)

    # ------------------------------------------------------------------ actions
    def _create(self, tenant, *, name: str, scopes, rate_limit: str, **_):
        _check_rate(rate_limit)
        try:
            key, token = api_key_create(
                tenant=tenant, name=name, scopes=scopes, rate_limit=rate_limit.strip()
            )
        except ValidationError as exc:
            raise CommandError(_problems(exc)) from exc
        logger.info("API key %s created for %s by %s", key.prefix, tenant.slug, cli_actor())
        self.stdout.write(
            f"Created API key {KEY_PREFIX}{key.prefix}_… ({key.name!r}) for tenant "
            f"{tenant.slug!r} with scopes {', '.join(key.scopes)}. Store it now; it is not "
            "shown again:"
        )
        self.stdout.write(token)

    def _list(self, tenant, *, all: bool, as_json: bool, **_):  # noqa: A002 - the flag's name
        keys = ApiKey.objects.filter(tenant=tenant).order_by("created_at", "pk")
        if not all:
            keys = keys.filter(revoked_at__isnull=True)
        rows = [
            {
                "prefix": k.prefix,
                "name": k.name,
                "scopes": list(k.scopes or []),
                "rate_limit": k.rate_limit or None,
                "created_at": k.created_at.isoformat(),
                "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            for k in keys
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            hint = "" if all else " (revoked keys: add --all)"
            self.stdout.write(
                f"Tenant {tenant.slug!r} has no API keys{hint}. Create one with: "
                f"manage.py api_keys create {tenant.slug} --name NAME"
            )
            return
        self.stdout.write(
            table(
                ["prefix", "name", "scopes", "rate", "created", "last used", "revoked"],
                [
                    [f"{KEY_PREFIX}{k.prefix}_…", k.name, ",".join(k.scopes or []),
                     k.rate_limit or "-", when(k.created_at), when(k.last_used_at),
                     when(k.revoked_at)]
                    for k in keys
                ],
            )
        )  # fmt: skip

    def _revoke(self, tenant, *, key: str, **_):
        prefix = _prefix_of(key)
        api_key = ApiKey.objects.filter(tenant=tenant, prefix=prefix).first()
        if api_key is None:
            raise CommandError(
                f"Tenant {tenant.slug!r} has no API key with prefix {prefix!r}. "
                f"List its keys with: manage.py api_keys list {tenant.slug} --all"
            )
        already = api_key.revoked_at is not None
        api_key = api_key_revoke(api_key=api_key)
        logger.info("API key %s of %s revoked by %s", prefix, tenant.slug, cli_actor())
        state = "was already revoked" if already else "is revoked"
        self.stdout.write(f"API key {KEY_PREFIX}{prefix}_… ({api_key.name!r}) {state}.")


def _prefix_of(key: str) -> str:
    """``1a2b3c4d``, ``m6r_1a2b3c4d_…`` or a whole token → ``1a2b3c4d``."""
    key = key.strip()
    prefix = split_token(key)
    if prefix:
        return prefix
    if key.startswith(KEY_PREFIX):
        key = key[len(KEY_PREFIX) :]
    return key.split("_", 1)[0].rstrip("…")


def _check_rate(rate: str) -> None:
    rate = rate.strip()
    if not rate:
        return
    from rest_framework.throttling import SimpleRateThrottle

    try:
        SimpleRateThrottle.parse_rate(None, rate)
    except (ValueError, KeyError, IndexError):
        raise CommandError(
            f'--rate-limit {rate!r}: use "<number>/<sec|min|hour|day>", e.g. "600/min".'
        ) from None


def _problems(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
    return " ".join(exc.messages)
