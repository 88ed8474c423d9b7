"""``create_tenant SLUG --name NAME --domain DOMAIN``: prints the new API key on its last line."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from m6rec.tenants.models import ALL_SCOPES, Tenant, UnknownRefs
from m6rec.tenants.services import api_key_create, tenant_create


class Command(BaseCommand):
    help = (
        "Create a tenant for a domain plugin and an API key with all scopes. The key is "
        "printed alone on the last line of standard output (it is not stored in clear)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", required=True, help="Name of an installed domain plugin.")
        parser.add_argument("--config", default="{}", help="Domain configuration as JSON.")
        parser.add_argument(
            "--unknown-refs", choices=list(UnknownRefs.values), default=UnknownRefs.CREATE
        )

    def handle(self, *args, slug, name, domain, config, unknown_refs, **opts):
        try:
            config_obj = json.loads(config)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not valid JSON: {exc}") from exc
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"A tenant with slug {slug!r} already exists.")
        try:
            with transaction.atomic():
                tenant = tenant_create(
                    slug=slug,
                    name=name,
                    domain=domain,
                    config=config_obj,
                    unknown_refs=unknown_refs,
                )
                key, token = api_key_create(tenant=tenant, name="default", scopes=ALL_SCOPES)
        except ValidationError as exc:
            problems = "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
            raise CommandError(problems) from exc
        self.stdout.write(
            f"Created tenant {tenant.slug!r} ({tenant.name}, domain {tenant.domain}) and API key "
            f"{key.prefix} with scopes {', '.join(key.scopes)}. Store the key now; "
            "it is not shown again:"
        )
        self.stdout.write(token)
