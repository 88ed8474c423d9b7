"""Import interactions (and MovieLens item metadata) for one tenant, streamed in chunks."""

from __future__ import annotations

import itertools
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from m6rec.catalog import importers
from m6rec.common.commands import ProjectCommand, examples, tenant_by_slug
from m6rec.tenants.domains import DomainUnavailable, get_tenant_domain


class Command(ProjectCommand):
    help = (
        "Import interactions for a tenant from MovieLens files (u.data, ratings.dat, "
        "ratings.csv; item metadata from u.item / movies.dat / movies.csv) or a generic CSV "
        "user_id,item_id,value,timestamp[,type]. Streams in chunks; re-running is idempotent "
        "(event ids are user:item:timestamp)."
    )
    epilog = examples(
        "python manage.py import_interactions ml-latest-small/ratings.csv --tenant films",
        "python manage.py import_interactions ml-100k/u.data --tenant films --limit 1000",
        "python manage.py import_interactions events.csv --tenant shop --type purchase",
        "python manage.py import_interactions events.csv --tenant shop --unknown-refs reject \\",
        "    --chunk-size 5000 --no-progress",
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            type=Path,
            help="u.data, ratings.dat, ratings.csv, or a CSV user_id,item_id,value,timestamp"
            "[,type] (header optional; timestamp as epoch seconds or ISO 8601).",
        )
        parser.add_argument(
            "--tenant", required=True, help="The tenant's slug (see: manage.py list_tenants)."
        )
        parser.add_argument(
            "--format",
            choices=["movielens", "csv"],
            default=None,
            help="Default: movielens for u.data/ratings.*, else csv.",
        )
        parser.add_argument(
            "--items",
            type=Path,
            default=None,
            help="Item metadata file; MovieLens default: a sibling "
            "u.item / movies.dat / movies.csv.",
        )
        parser.add_argument("--no-items", action="store_true", help="Skip item metadata.")
        parser.add_argument(
            "--type",
            default=None,
            help="Interaction type for rows without one (default: 'rating' "
            "if the domain declares it, else 'like', else its first type).",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=importers.CHUNK_ROWS,
            help=f"Rows written per transaction (default {importers.CHUNK_ROWS:,}).",
        )
        parser.add_argument("--limit", type=int, default=None, help="Import only N rows.")
        parser.add_argument(
            "--unknown-refs",
            choices=["create", "reject"],
            default="create",
            help="Rows naming users or items not seen before: create them (default) or "
            "reject the chunk.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bars (for logs and CI)."
        )

    def handle(self, *args, file: Path, tenant: str, **opts):
        tenant_obj = tenant_by_slug(tenant)
        if not file.is_file():
            raise CommandError(f"{file} does not exist.")
        try:
            domain = get_tenant_domain(tenant_obj)
        except DomainUnavailable as exc:
            raise CommandError(str(exc.detail)) from exc
        fmt = opts["format"] or importers.detect_format(file)
        type_ = opts["type"] or importers.default_rating_type(domain)
        if type_ not in domain.interaction_types:
            raise CommandError(
                f"--type {type_!r} is not declared by domain {domain.name!r}; "
                f"known: {', '.join(domain.interaction_types)}"
            )
        show = not opts["no_progress"]
        try:
            summary = import_file(
                tenant=tenant_obj,
                file=file,
                fmt=fmt,
                type_=type_,
                opts=opts,
                show=show,
                write=self.stdout.write,
            )
        except importers.ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(summary))


def import_file(*, tenant, file: Path, fmt: str, type_: str, opts: dict, show: bool, write):
    """Items first (MovieLens metadata), then interactions; returns a one-line summary."""
    items_file = opts.get("items")
    if fmt == "movielens" and items_file is None and not opts.get("no_items"):
        items_file = importers.find_items_file(file)
    items_summary = ""
    if items_file is not None and not opts.get("no_items"):
        total = importers.count_rows(items_file)
        with tqdm(total=total, desc="items", unit="rows", disable=not show) as bar:
            result = importers.import_items(
                tenant=tenant, rows=importers.read_movielens_items(items_file), progress=bar.update
            )
            _settle(bar)
        items_summary = f"items: {result['created']} created, {result['updated']} updated; "
    reader = importers.read_movielens if fmt == "movielens" else importers.read_generic_csv
    rows = reader(file, type_=type_)
    limit = opts.get("limit")
    if limit is not None:
        rows = itertools.islice(rows, limit)
    total = importers.count_rows(file)
    if limit is not None:
        total = min(total, limit)
    with tqdm(total=total, desc="interactions", unit="rows", disable=not show) as bar:
        result = importers.import_interaction_rows(
            tenant=tenant,
            rows=rows,
            chunk_size=opts.get("chunk_size") or importers.CHUNK_ROWS,
            unknown_refs=opts.get("unknown_refs") or "create",
            progress=bar.update,
        )
        _settle(bar)
    return (
        f"{items_summary}interactions: {result['received']} read, {result['created']} created, "
        f"{result['duplicate']} duplicate; users created: {result['users_created']}, "
        f"items created: {result['items_created']} (type {type_!r}, tenant {tenant.slug})"
    )


def _settle(bar) -> None:
    """End a finished bar at exactly n/n (blank or odd lines make the estimate a little off)."""
    if bar.total != bar.n:
        bar.total = bar.n
        bar.refresh()
