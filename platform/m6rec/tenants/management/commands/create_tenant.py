"""``create_tenant SLUG --name NAME --domain DOMAIN``: prints the new API key on its last line."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction

from m6rec.common.commands import ProjectCommand, examples
from m6rec.tenants.models import ALL_SCOPES, Tenant, UnknownRefs
from m6rec.tenants.services import api_key_create, tenant_create


class Command(ProjectCommand):
    help = (
        "Create a tenant for a domain plugin and an API key with all scopes. The key is "
        "printed alone on the last line of standard output (it is not stored in clear). "
        "More keys: manage.py api_keys create SLUG --name NAME --scopes ..."
    )
    epilog = examples(
        "python manage.py create_tenant shop --name 'Shop' --domain ecommerce",
        "python manage.py create_tenant news --name News --domain content \\",
        "    --config '{\"freshness_half_life_days\": 7}' --unknown-refs reject",
        "KEY=$(python manage.py create_tenant films --name Films --domain content | tail -n 1)",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "slug",
            help="Short unique id of the tenant (letters, digits, - and _), used by every "
            "other command.",
        )
        parser.add_argument("--name", required=True, help="Display name, e.g. 'Acme Shop'.")
        parser.add_argument(
            "--domain",
            required=True,
            help="Name of an installed domain plugin: ecommerce, content, social, health, "
            "education, or a third-party one.",
        )
        parser.add_argument(
            "--config",
            default="{}",
            help="Domain configuration as a JSON object (checked against the plugin's "
            "schema), e.g. interaction weight overrides. Default: {}.",
        )
        parser.add_argument(
            "--unknown-refs",
            choices=list(UnknownRefs.values),
            default=UnknownRefs.CREATE,
            help="What interactions naming unknown users or items do: create them "
            "(default) or reject the batch.",
        )

    def handle(self, *args, slug, name, domain, config, unknown_refs, **opts):
        try:
            config_obj = json.loads(config)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not valid JSON: {exc}") from exc
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(
                f"A tenant with slug {slug!r} already exists (see: manage.py list_tenants). "
                f"Another API key for it: manage.py api_keys create {slug} --name NAME"
            )
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
