"""``versions {list,promote,rollback,pin,unpin,audit}``: a tenant's model registry.

Every change goes through :mod:`m6rec.registry.services`, like the admin actions and the API,
so it is audited the same way; the audit log's actor is ``cli:<os user>``.
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from m6rec.common.commands import (
    ProjectCommand,
    cli_actor,
    examples,
    table,
    tenant_by_slug,
    when,
)
from m6rec.registry import selectors, services
from m6rec.registry.errors import RegistryError
from m6rec.registry.models import ModelVersion

SLUG_HELP = "The tenant's slug (see: manage.py list_tenants)."
REASON_HELP = "Why (kept in the audit log; default: 'manage.py versions <action>')."


def _metric(version: ModelVersion, name: str) -> float | None:
    value = ((version.metrics or {}).get("validation") or {}).get(name)
    return float(value) if isinstance(value, int | float) else None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


class Command(ProjectCommand):
    help = (
        "List a tenant's model versions, promote one, roll back to the previous one, pin or "
        "unpin the active one, or show the audit log. Changes are audited exactly like the "
        "admin's and the API's, with actor cli:<os user>."
    )
    epilog = examples(
        "python manage.py versions list shop",
        "python manage.py versions promote shop 3 --reason 'better offline metrics'",
        "python manage.py versions rollback shop",
        "python manage.py versions pin shop 3",
        "python manage.py versions unpin shop",
        "python manage.py versions audit shop --limit 20",
    )

    def add_arguments(self, parser):
        sub = self.add_subcommands(parser)
        listing = sub.add_parser(
            "list",
            help="The tenant's versions, newest first, with status and metrics.",
            description="The tenant's model versions, newest first: status, pin, validation "
            "nDCG@10 / P@10 / R@10, served model, interactions trained on.",
            epilog=examples("python manage.py versions list shop --limit 5"),
        )
        listing.add_argument("slug", help=SLUG_HELP)
        listing.add_argument(
            "--limit", type=_positive, default=20, help="Show at most N versions (default 20)."
        )
        listing.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON instead of a table."
        )
        promote = sub.add_parser(
            "promote",
            help="Make a version active (the current one becomes the rollback target).",
            description="Make version NUMBER active; the active one is retired and becomes "
            "the rollback target. A pin carries over. Failed versions cannot be promoted.",
            epilog=examples("python manage.py versions promote shop 3 --reason 'A/B winner'"),
        )
        promote.add_argument("slug", help=SLUG_HELP)
        promote.add_argument("number", type=_positive, help="Version number (see: versions list).")
        promote.add_argument("--reason", default="", help=REASON_HELP)
        rollback = sub.add_parser(
            "rollback",
            help="Re-activate the version that was active before the current one.",
            description="Re-activate the version that was active before the current one.",
            epilog=examples("python manage.py versions rollback shop --reason 'bad CTR'"),
        )
        rollback.add_argument("slug", help=SLUG_HELP)
        rollback.add_argument("--reason", default="", help=REASON_HELP)
        pin = sub.add_parser(
            "pin",
            help="Make a version active and pin it (no automatic promotion replaces it).",
            description="Make version NUMBER active (if it is not) and pin it: training "
            "keeps registering candidates, but none is promoted automatically until unpin.",
            epilog=examples("python manage.py versions pin shop 3"),
        )
        pin.add_argument("slug", help=SLUG_HELP)
        pin.add_argument("number", type=_positive, help="Version number (see: versions list).")
        pin.add_argument("--reason", default="", help=REASON_HELP)
        unpin = sub.add_parser(
            "unpin",
            help="Allow automatic promotion again.",
            description="Unpin the tenant's active version: a better candidate from training "
            "is promoted automatically again.",
            epilog=examples("python manage.py versions unpin shop"),
        )
        unpin.add_argument("slug", help=SLUG_HELP)
        unpin.add_argument("--reason", default="", help=REASON_HELP)
        audit = sub.add_parser(
            "audit",
            help="The tenant's registry audit log, newest first.",
            description="Promotions, rollbacks, pins, gate decisions and failures, newest first.",
            epilog=examples("python manage.py versions audit shop --limit 50"),
        )
        audit.add_argument("slug", help=SLUG_HELP)
        audit.add_argument(
            "--limit", type=_positive, default=20, help="Show at most N entries (default 20)."
        )

    def handle(self, *args, action: str, slug: str, **options):
        tenant = tenant_by_slug(slug)
        reason = (options.pop("reason", "") or "").strip() or f"manage.py versions {action}"
        try:
            getattr(self, f"_{action}")(tenant, reason=reason, **options)
        except RegistryError as exc:
            raise CommandError(
                f"{tenant.slug}: {exc.message}. See the versions with: "
                f"manage.py versions list {tenant.slug}"
            ) from exc

    # ------------------------------------------------------------------ reads
    def _list(self, tenant, *, limit: int, as_json: bool, **_):
        versions = list(selectors.version_list(tenant=tenant)[:limit])
        if as_json:
            self.stdout.write(json.dumps([_version_json(v) for v in versions], indent=2))
            return
        if not versions:
            self.stdout.write(
                f"Tenant {tenant.slug!r} has no model versions yet. Train one with: "
                f"manage.py train_tenant {tenant.slug}"
            )
            return
        target = selectors.version_rollback_target(tenant=tenant)
        rows = []
        for v in versions:
            mark = "pinned" if v.pinned else ("rollback target" if v == target else "")
            rows.append(
                [f"v{v.number}", v.status, mark, _fmt(_metric(v, "ndcg@10")),
                 _fmt(_metric(v, "precision@10")), _fmt(_metric(v, "recall@10")),
                 ((v.metrics or {}).get("validation") or {}).get("model") or "-",
                 (v.data_counts or {}).get("interactions", "-"), when(v.created_at),
                 when(v.activated_at)]
            )  # fmt: skip
        self.stdout.write(
            table(
                ["version", "status", "", "nDCG@10", "P@10", "R@10", "model", "interactions",
                 "created", "activated"],
                rows,
            )
        )  # fmt: skip

    def _audit(self, tenant, *, limit: int, **_):
        entries = list(selectors.audit_list(tenant=tenant)[:limit])
        if not entries:
            self.stdout.write(f"Tenant {tenant.slug!r} has no registry changes yet.")
            return
        self.stdout.write(
            table(
                ["when", "action", "actor", "from", "to", "reason"],
                [
                    [when(e.created_at), e.action, e.actor,
                     f"v{e.from_version.number}" if e.from_version else "-",
                     f"v{e.to_version.number}" if e.to_version else "-", e.reason]
                    for e in entries
                ],
            )
        )  # fmt: skip

    # ------------------------------------------------------------------ changes
    def _promote(self, tenant, *, number: int, reason: str, **_):
        version = self._version(tenant, number)
        was_active = version.status == ModelVersion.Status.ACTIVE
        version = services.version_promote(version=version, actor=cli_actor(), reason=reason)
        if was_active:
            self.stdout.write(f"{tenant.slug}: v{number} is already active; nothing changed.")
            return
        self.stdout.write(self.style.SUCCESS(f"{tenant.slug}: v{number} is now active."))

    def _rollback(self, tenant, *, reason: str, **_):
        target = services.version_rollback(tenant=tenant, actor=cli_actor(), reason=reason)
        self.stdout.write(
            self.style.SUCCESS(f"{tenant.slug}: rolled back, v{target.number} is now active.")
        )

    def _pin(self, tenant, *, number: int, reason: str, **_):
        version = self._version(tenant, number)
        services.version_pin(version=version, actor=cli_actor(), reason=reason)
        self.stdout.write(
            self.style.SUCCESS(
                f"{tenant.slug}: v{number} is active and pinned (no automatic promotion)."
            )
        )

    def _unpin(self, tenant, *, reason: str, **_):
        active = services.version_unpin(tenant=tenant, actor=cli_actor(), reason=reason)
        if active is None:
            self.stdout.write(f"{tenant.slug}: no active version; nothing to unpin.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{tenant.slug}: v{active.number} is unpinned; automatic promotion is allowed."
            )
        )

    @staticmethod
    def _version(tenant, number: int) -> ModelVersion:
        version = selectors.version_get(tenant=tenant, number=number)
        if version is None:
            raise CommandError(
                f"Tenant {tenant.slug!r} has no version {number}. See its versions with: "
                f"manage.py versions list {tenant.slug}"
            )
        return version


def _positive(raw: str) -> int:
    import argparse

    try:
        value = int(raw.strip().lstrip("vV"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} must be 1 or more")
    return value


def _version_json(v: ModelVersion) -> dict:
    return {
        "number": v.number,
        "status": v.status,
        "pinned": v.pinned,
        "metrics": {k: _metric(v, k) for k in ("ndcg@10", "precision@10", "recall@10")},
        "model": ((v.metrics or {}).get("validation") or {}).get("model"),
        "interactions": (v.data_counts or {}).get("interactions"),
        "created_at": v.created_at.isoformat(),
        "activated_at": v.activated_at.isoformat() if v.activated_at else None,
        "run": v.run_id,
    }
