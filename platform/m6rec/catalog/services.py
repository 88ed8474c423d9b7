"""Catalog writes: batch upserts, idempotent interaction ingestion, deletes.

Every function takes keyword-only arguments, works inside one transaction and only touches the
given tenant's rows. Inputs are already-cleaned rows (see :mod:`m6rec.catalog.serializers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from m6rec.catalog.models import EndUser, Item
from m6rec.catalog.signals import notify_items_changed
from m6rec.common.errors import BatchValidationError, quoted
from m6rec.tenants.generation import generation_bump_on_commit
from m6rec.tenants.models import Tenant, UnknownRefs

MAX_LISTED_UNKNOWN = 1000


class NotFoundError(LookupError):
    """The tenant has no row with that external id (or another tenant has it)."""


def _in_chunks(values: Sequence[Any], size: int | None = None) -> Iterable[Sequence[Any]]:
    size = size or connection.features.max_query_params or 50_000
    size = min(size - 10, 50_000)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def external_id_map(*, model, tenant: Tenant, external_ids: Iterable[str]) -> dict[str, int]:
    """external id → primary key for the ids of ``tenant`` that exist."""
    ids = list(dict.fromkeys(external_ids))
    found: dict[str, int] = {}
    for chunk in _in_chunks(ids):
        found.update(
            model.objects.filter(tenant=tenant, external_id__in=chunk).values_list(
                "external_id", "id"
            )
        )
    return found


def _upsert(*, model, tenant: Tenant, rows: list[dict], id_key: str, fields: list[str]) -> dict:
    now = timezone.now()
    existing = external_id_map(model=model, tenant=tenant, external_ids=(r[id_key] for r in rows))
    objs = [
        model(
            tenant=tenant,
            external_id=row[id_key],
            created_at=now,
            updated_at=now,
            **{f: row[f] for f in fields},
        )
        for row in rows
    ]
    model.objects.bulk_create(
        objs,
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["tenant", "external_id"],
        update_fields=[*fields, "updated_at"],
    )
    updated = sum(1 for r in rows if r[id_key] in existing)
    return {"created": len(rows) - updated, "updated": updated}


@transaction.atomic
def items_upsert(*, tenant: Tenant, rows: list[dict]) -> dict[str, int]:
    """Insert or update items by ``item_id``; returns ``{"created", "updated"}``."""
    result = _upsert(
        model=Item,
        tenant=tenant,
        rows=rows,
        id_key="item_id",
        fields=["properties", "categories", "active"],
    )
    notify_items_changed(tenant_id=tenant.pk, item_ids=(r["item_id"] for r in rows))
    return result


@transaction.atomic
def users_upsert(*, tenant: Tenant, rows: list[dict]) -> dict[str, int]:
    """Insert or update end users by ``user_id``; returns ``{"created", "updated"}``."""
    return _upsert(model=EndUser, tenant=tenant, rows=rows, id_key="user_id", fields=["properties"])


@transaction.atomic
def item_delete(*, tenant: Tenant, item_id: str) -> None:
    """Delete one item and its interactions; :class:`NotFoundError` if the tenant has none."""
    deleted, _ = Item.objects.filter(tenant=tenant, external_id=item_id).delete()
    if not deleted:
        raise NotFoundError(item_id)
    notify_items_changed(tenant_id=tenant.pk, item_ids=[item_id])


@transaction.atomic
def user_delete(*, tenant: Tenant, user_id: str) -> None:
    """Delete one end user and all their interactions; :class:`NotFoundError` if missing."""
    deleted, _ = EndUser.objects.filter(tenant=tenant, external_id=user_id).delete()
    if not deleted:
        raise NotFoundError(user_id)


def pg_text_array(values: Iterable[str | None]) -> str:
    """A PostgreSQL array literal of texts (one constant: cheap to send, parse and plan)."""
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        else:
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def pg_number_array(values: Iterable[float | int]) -> str:
    return "{" + ",".join(map(repr, values)) + "}"


_PG_NEW_REFS = {
    "catalog_enduser": (
        "INSERT INTO catalog_enduser (tenant_id, external_id, properties, created_at, updated_at) "
        "SELECT %s, x, '{}'::jsonb, %s, %s FROM unnest(%s::text[]) AS x "
        "ON CONFLICT (tenant_id, external_id) DO NOTHING RETURNING external_id, id"
    ),
    "catalog_item": (
        "INSERT INTO catalog_item (tenant_id, external_id, properties, categories, active, "
        "created_at, updated_at) "
        "SELECT %s, x, '{}'::jsonb, '[]'::jsonb, true, %s, %s FROM unnest(%s::text[]) AS x "
        "ON CONFLICT (tenant_id, external_id) DO NOTHING RETURNING external_id, id"
    ),
}


def _pg_id_map(cursor, table: str, tenant: Tenant, external_ids: list[str]) -> dict[str, int]:
    cursor.execute(
        f"SELECT external_id, id FROM {table} WHERE tenant_id = %s "  # noqa: S608 - fixed names
        "AND external_id = ANY(%s::text[])",
        [tenant.pk, pg_text_array(external_ids)],
    )
    return dict(cursor.fetchall())


def _resolve_refs(
    *, model, tenant: Tenant, rows: list[dict], key: str, create: bool
) -> tuple[dict[str, int], int, list[dict]]:
    """external id → pk for every ``row[key]``; creates missing ones when ``create``.

    Returns ``(mapping, created count, errors for unknown ids when not create)``.
    """
    wanted = list(dict.fromkeys(r[key] for r in rows))
    postgres = connection.vendor == "postgresql"
    table = model._meta.db_table
    if postgres:
        with connection.cursor() as cursor:
            found = _pg_id_map(cursor, table, tenant, wanted)
    else:
        found = external_id_map(model=model, tenant=tenant, external_ids=wanted)
    missing = [x for x in wanted if x not in found]
    if not missing:
        return found, 0, []
    if not create:
        what = "user" if key == "user_id" else "item"
        missing_set = set(missing)
        errors = [
            {
                "row": i,
                "field": key,
                "message": f"Unknown {what} {quoted(r[key])}; this tenant rejects interactions "
                f"with unknown {what}s (unknown_refs=reject). Create it first.",
            }
            for i, r in enumerate(rows)
            if r[key] in missing_set
        ]
        return found, 0, errors
    now = timezone.now()
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(_PG_NEW_REFS[table], [tenant.pk, now, now, pg_text_array(missing)])
            created = dict(cursor.fetchall())
            found.update(created)
            racing = [x for x in missing if x not in created]  # created meanwhile elsewhere
            if racing:
                found.update(_pg_id_map(cursor, table, tenant, racing))
        return found, len(created), []
    model.objects.bulk_create(
        [model(tenant=tenant, external_id=x, created_at=now, updated_at=now) for x in missing],
        batch_size=5000,
        ignore_conflicts=True,
    )
    created = external_id_map(model=model, tenant=tenant, external_ids=missing)
    found.update(created)
    return found, len(created), []


_PG_INSERT = """
INSERT INTO catalog_interaction
    (tenant_id, user_id, item_id, type, value, timestamp, event_id, created_at)
SELECT %s, x.u, x.i, x.t, x.v, to_timestamp(x.ts), x.e, %s
FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::float8[], %s::float8[], %s::text[])
    AS x(u, i, t, v, ts, e)
ON CONFLICT DO NOTHING
"""


_PG_INSERT_ATTRIBUTED = """
INSERT INTO catalog_interaction
    (tenant_id, user_id, item_id, type, value, timestamp, event_id, created_at,
     attributed_version, attributed_experiment, attributed_arm, attributed_position,
     attributed_strategy, recommended_at)
SELECT %s, x.u, x.i, x.t, x.v, to_timestamp(x.ts), x.e, %s,
       x.av, x.ae, x.aa, x.ap, x.ast, to_timestamp(x.ats)
FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::float8[], %s::float8[], %s::text[],
            %s::int[], %s::int[], %s::int[], %s::int[], %s::text[], %s::float8[])
    AS x(u, i, t, v, ts, e, av, ae, aa, ap, ast, ats)
ON CONFLICT DO NOTHING
RETURNING attributed_strategy IS NOT NULL
"""


def _insert_interactions_pg(*, tenant: Tenant, rows, users, items) -> tuple[int, int]:
    """(rows written, of which attributed)."""
    columns: tuple[list, ...] = ([], [], [], [], [], [])
    u, i, t, v, ts, e = columns
    for r in rows:
        u.append(users[r["user_id"]])
        i.append(items[r["item_id"]])
        t.append(r["type"])
        v.append(r["value"])
        ts.append(r["timestamp"].timestamp())
        e.append(r["event_id"])
    params = [
        tenant.pk,
        timezone.now(),
        pg_number_array(u),
        pg_number_array(i),
        pg_text_array(t),
        pg_number_array(v),
        pg_number_array(ts),
        pg_text_array(e),
    ]
    attributed = [r.get("attribution") for r in rows]
    if not any(a is not None for a in attributed):  # the usual batch: no RETURNING to read
        with connection.cursor() as cursor:
            cursor.execute(_PG_INSERT, params)
            return cursor.rowcount, 0
    none = (None,) * 6
    av, ae, aa, ap, ast, ats = zip(*(a or none for a in attributed), strict=True)
    params += [
        _pg_optional_ints(av),
        _pg_optional_ints(ae),
        _pg_optional_ints(aa),
        _pg_optional_ints(ap),
        pg_text_array(ast),
        "{" + ",".join("NULL" if x is None else repr(x.timestamp()) for x in ats) + "}",
    ]
    with connection.cursor() as cursor:
        cursor.execute(_PG_INSERT_ATTRIBUTED, params)
        flags = [r[0] for r in cursor.fetchall()]
    return len(flags), sum(flags)


def _pg_optional_ints(values) -> str:
    return "{" + ",".join("NULL" if x is None else str(int(x)) for x in values) + "}"


_SQLITE_INSERT = """
INSERT OR IGNORE INTO catalog_interaction
    (tenant_id, user_id, item_id, type, value, timestamp, event_id, created_at,
     attributed_version, attributed_experiment, attributed_arm, attributed_position,
     attributed_strategy, recommended_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


def _insert_sqlite(*, tenant: Tenant, rows, users, items) -> tuple[int, int]:
    """SQLite (quick start): one executemany; OR IGNORE skips stored event ids. Returns (rows
    written, of which attributed); attributed rows go one by one to count them."""
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(timezone.now())
    params = [
        (
            tenant.pk,
            users[r["user_id"]],
            items[r["item_id"]],
            r["type"],
            r["value"],
            adapt(r["timestamp"]),
            r["event_id"],
            now,
            *_sqlite_attribution(r.get("attribution"), adapt),
        )
        for r in rows
    ]
    plain = [p for p, r in zip(params, rows, strict=True) if r.get("attribution") is None]
    with connection.cursor() as cursor:
        cursor.executemany(_SQLITE_INSERT, plain)
        created = max(cursor.rowcount, 0)
        attributed = 0
        for p, r in zip(params, rows, strict=True):
            if r.get("attribution") is not None:
                cursor.execute(_SQLITE_INSERT, p)
                attributed += max(cursor.rowcount, 0)
    return created + attributed, attributed


def observe_attributed(count: int) -> None:
    try:
        from m6rec.ops import metrics
    except ImportError:
        return
    metrics.observe_attributed(count=count)


def _sqlite_attribution(attribution, adapt) -> tuple:
    if attribution is None:
        return (None,) * 6
    *head, issued = attribution
    return (*head, adapt(issued))


@transaction.atomic
def interactions_ingest(
    *, tenant: Tenant, rows: list[dict], unknown_refs: str | None = None
) -> dict[str, int]:
    """Store interactions, idempotent by ``event_id`` (a replayed row changes nothing).

    ``rows`` are cleaned dicts with ``user_id, item_id, type, value, timestamp`` (aware
    datetime) and ``event_id`` (str or None). Unknown users/items are created or, with
    ``unknown_refs="reject"`` (default: the tenant's setting), the whole batch is refused with
    :class:`BatchValidationError` and nothing is written.

    Rows may carry ``attribution`` (see ``online.attribution``): the recommendation that led to
    the interaction, stored with it. Returns ``{"received", "attributed", "created",
    "duplicate", "users_created", "items_created"}`` (``attributed``: rows written with an
    attribution; a replayed event id is neither written nor attributed again).
    """
    policy = unknown_refs or tenant.unknown_refs
    create = policy == UnknownRefs.CREATE
    users, users_created, user_errors = _resolve_refs(
        model=EndUser, tenant=tenant, rows=rows, key="user_id", create=create
    )
    items, items_created, item_errors = _resolve_refs(
        model=Item, tenant=tenant, rows=rows, key="item_id", create=create
    )
    errors = user_errors + item_errors
    if errors:
        errors.sort(key=lambda e: (e["row"], e["field"]))
        raise BatchValidationError(errors, total_rows=len(rows))
    if items_created:
        # new items only (active, no properties, unknown to every model): other processes
        # learn of them with the generation, this one too (no forced reload of its catalogue:
        # an ingestion stream creating items would otherwise reload it on every batch)
        generation_bump_on_commit(tenant_id=tenant.pk)
    insert = _insert_interactions_pg if connection.vendor == "postgresql" else _insert_sqlite
    created, attributed = insert(tenant=tenant, rows=rows, users=users, items=items)
    if attributed:
        observe_attributed(attributed)
    return {
        "received": len(rows),
        "attributed": attributed,
        "created": created,
        "duplicate": len(rows) - created,
        "users_created": users_created,
        "items_created": items_created,
    }
