"""``list_tenants [--json]``: every tenant with its domain and key counts."""

from __future__ import annotations

import json

from django.db.models import Count, Q

from m6rec.common.commands import ProjectCommand, examples, table
from m6rec.tenants.models import Tenant


class Command(ProjectCommand):
    help = "List the tenants: slug, name, domain plugin, whether active, and their API keys."
    epilog = examples(
        "python manage.py list_tenants",
        "python manage.py list_tenants --json | jq -r '.[].slug'",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print a JSON array instead of a table.",
        )

    def handle(self, *args, as_json: bool = False, **options):
        rows = [
            {
                "slug": t.slug,
                "name": t.name,
                "domain": t.domain,
                "active": t.active,
                "api_keys": t.n_keys,
            }
            for t in Tenant.objects.annotate(
                n_keys=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True))
            ).order_by("slug")
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write(
                "No tenants yet. Create one with: "
                "manage.py create_tenant SLUG --name NAME --domain DOMAIN"
            )
            return
        self.stdout.write(
            table(
                ["slug", "name", "domain", "active", "keys"],
                [
                    [r["slug"], r["name"], r["domain"], "yes" if r["active"] else "no",
                     r["api_keys"]]
                    for r in rows
                ],
            )
        )  # fmt: skip
