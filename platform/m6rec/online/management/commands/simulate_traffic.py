"""``simulate_traffic``: synthetic users with hidden preferences use a running server's HTTP API
(recommendations, clicks and conversions with the response's ``recommendation_id``).

Thin: reads the tenant's catalogue and interaction types, creates a temporary API key (scopes
ingest + recommend, revoked at the end) and runs :mod:`m6rec.online.simulation`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from django.core.management.base import CommandError

from m6rec.common.commands import ProjectCommand, examples, tenant_by_slug
from m6rec.online import simulation
from m6rec.tenants.services import api_key_create, api_key_revoke

MAX_CATALOGUE = 200_000
KEY_RATE_LIMIT = "100000/min"


class Command(ProjectCommand):
    help = (
        "Simulate users of a tenant against a running server, through the real HTTP API: each "
        "synthetic user prefers 1 or 2 of the catalogue's categories, ingests a few "
        "interactions with them, then requests recommendations, clicks shown items with a "
        "probability driven by its preference and the item's position, and converts (the "
        "domain's goal type) less often, sending the response's recommendation_id with every "
        "click. Uses a temporary API key (ingest + recommend), revoked at the end. Prints "
        "requests, impressions, clicks and conversions, per experiment arm when one runs."
    )
    epilog = examples(
        "python manage.py simulate_traffic --tenant demo --users 200 --minutes 2",
        "python manage.py simulate_traffic --tenant shop --users 1000 --minutes 10 "
        "--rate 50 --concurrency 8 --base-url http://127.0.0.1:8000",
        "python manage.py simulate_traffic --tenant shop --users 300 --minutes 5 "
        "--requests 2000 --json sim.json --seed 7",
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--users", type=int, required=True, help="Synthetic users.")
        parser.add_argument(
            "--minutes", type=float, required=True, help="How long to send traffic."
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="The server to talk to (default http://127.0.0.1:8000, `manage.py demo`'s).",
        )
        parser.add_argument(
            "--rate",
            type=float,
            default=10.0,
            help="Recommendation requests per second (default 10; 0 = as fast as possible).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Random seed (default 0).")
        parser.add_argument(
            "--requests",
            type=int,
            default=0,
            help="Stop after this many recommendation requests (default: no cap).",
        )
        parser.add_argument("--k", type=int, default=10, help="Items per response (default 10).")
        parser.add_argument(
            "--concurrency", type=int, default=4, help="Client threads (default 4)."
        )
        parser.add_argument(
            "--seed-interactions",
            type=int,
            default=3,
            help="Interactions each user ingests in its preferred categories first (default 3).",
        )
        parser.add_argument(
            "--user-prefix",
            default=None,
            help="Prefix of the synthetic user ids (default sim<seed>-).",
        )
        parser.add_argument("--json", type=Path, default=None, help="Write the summary here.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **opts):
        for name in ("users", "k", "concurrency"):
            if opts[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        if opts["minutes"] <= 0 or opts["rate"] < 0 or opts["requests"] < 0:
            raise CommandError("--minutes must be > 0, --rate and --requests >= 0.")
        tenant = tenant_by_slug(opts["tenant"])
        catalogue = simulation.Catalogue.from_rows(_catalogue_rows(tenant))
        if not catalogue.items:
            raise CommandError(
                f'Tenant "{tenant.slug}" has no active items; ingest a catalogue first '
                "(POST /api/v1/items or manage.py import_interactions)."
            )
        problem = simulation.ApiClient(opts["base_url"], "", timeout=5).reachable()
        if problem is not None:
            raise CommandError(
                f"No M6-Rec server answers at {opts['base_url']} ({problem}); start one "
                "(make demo, or gunicorn) or pass --base-url."
            )
        click_type, goal_type = _interaction_types(tenant)
        users = simulation.make_users(
            catalogue,
            n=opts["users"],
            rng=random.Random(opts["seed"]),
            prefix=opts["user_prefix"] or f"sim{opts['seed']}-",
        )
        plan = simulation.Plan(
            minutes=opts["minutes"],
            rate=opts["rate"],
            max_requests=opts["requests"],
            k=opts["k"],
            concurrency=opts["concurrency"],
            seed_interactions=opts["seed_interactions"],
            click_type=click_type,
            goal_type=goal_type,
            seed=opts["seed"],
        )
        self.stdout.write(
            f"tenant {tenant.slug} ({tenant.domain}): {len(catalogue.items)} items in "
            f"{len(catalogue.usable_categories())} categories; {len(users)} users; clicks are "
            f"'{click_type}', conversions '{goal_type}'; {opts['base_url']}"
        )
        key, token = api_key_create(
            tenant=tenant,
            name="simulate_traffic (temporary)",
            scopes=["ingest", "recommend"],
            rate_limit=KEY_RATE_LIMIT,
        )
        try:
            summary = self._run(opts, token, catalogue, users, plan)
        finally:
            api_key_revoke(api_key=key)
        self.stdout.write(simulation.format_summary(summary))
        if opts["json"] is not None:
            payload = {"tenant": tenant.slug, "base_url": opts["base_url"], **summary.as_dict()}
            opts["json"].write_text(json.dumps(payload, indent=2))
            self.stdout.write(f"wrote {opts['json']}")

    def _run(self, opts, token, catalogue, users, plan) -> simulation.Summary:
        from tqdm import tqdm

        caps = [plan.max_requests] if plan.max_requests else []
        if plan.rate > 0:
            caps.append(int(plan.minutes * 60 * plan.rate))
        bar = tqdm(
            total=min(caps) if caps else None,
            unit="req",
            desc="recommendations",
            disable=opts["no_progress"],
        )
        try:
            return simulation.run(
                make_client=lambda: simulation.ApiClient(opts["base_url"], token),
                catalogue=catalogue,
                users=users,
                plan=plan,
                progress=bar.update,
            )
        except (RuntimeError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()


def _catalogue_rows(tenant):
    from m6rec.catalog.models import Item

    return (
        Item.objects.filter(tenant=tenant, active=True)
        .order_by("id")
        .values_list("external_id", "categories")[:MAX_CATALOGUE]
        .iterator()
    )


def _interaction_types(tenant) -> tuple[str, str]:
    """(click type, goal type): the domain's lightest type that is not a goal, and the first
    goal type (the tenant's ``online.goal_types`` override included)."""
    from m6rec.online.selectors import goal_types
    from m6rec.tenants.domains import get_tenant_domain

    domain = get_tenant_domain(tenant)
    weights = dict(domain.interaction_types)
    goals = goal_types(tenant) or [max(weights, key=weights.get)]
    others = [t for t in weights if t not in goals] or list(weights)
    return min(others, key=weights.get), goals[0]
