"""Serving's database reads: the user with their history, item ids the tenant's catalogue in
memory does not know yet (created since it was loaded), and popularity counts for tenants
without a model.

Every lookup by external id filters on the tenant, so another tenant's ids behave exactly like
missing ones; per-user reads then go by the user's primary key (a user has one tenant).
"""

from __future__ import annotations

import json
from collections import ChainMap
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, Max

from m6rec.catalog.models import EndUser, Interaction, Item
from m6rec.common.caching import ExpiringCache
from m6rec.common.prepared import PreparedQuery
from m6rec.serving.catalogue import Catalogue

__all__ = [
    "HISTORY_LIMIT",
    "HistoryRow",
    "existing_item_ids",
    "popular_item_counts",
    "user_get",
    "user_history",
    "user_seen_item_ids",
    "user_with_history",
    "UserHistory",
]

HISTORY_LIMIT = 500
"""Default number of a user's latest interactions folded in per request
(setting ``M6REC_SERVING_HISTORY_LIMIT``)."""

HistoryRow = tuple[str, str, float | None, float]
"""(item external id, type, value, timestamp as POSIX seconds): epoch floats, because building
an aware ``datetime`` per row costs more than the rest of the row, and most requests never
look at the times (see ``serving.candidates.History``)."""


def user_get(*, tenant, user_id: str) -> tuple[int, dict[str, Any]] | None:
    """``(pk, properties)`` of the tenant's end user ``user_id``, or ``None``."""
    row = (
        EndUser.objects.filter(tenant=tenant, external_id=user_id)
        .values_list("pk", "properties")
        .first()
    )
    return (row[0], row[1] or {}) if row else None


def user_history(*, tenant, user_pk: int, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    """The user's latest ``limit`` interactions, oldest first (index ``(user, timestamp)``).

    ``user_pk`` comes from a tenant-scoped user lookup and a user belongs to one tenant, so the
    query filters on the user alone: a tenant predicate would only tempt the planner into the
    tenant-wide index.
    """
    rows = list(
        Interaction.objects.filter(user_id=user_pk)
        .order_by("-timestamp", "-id")
        .values_list("item__external_id", "type", "value", "timestamp")[:limit]
    )
    rows.reverse()
    return [(item, type_, value, ts.timestamp()) for item, type_, value, ts in rows]


def user_seen_item_ids(*, catalogue: Catalogue, user_pk: int) -> set[str]:
    """Every item the user interacted with (for users with more than the history limit)."""
    if connection.vendor == "postgresql":  # item pks from the user's index, ids from memory
        with connection.cursor() as cursor:
            cursor.execute(_USER_SEEN_SQL.format(interaction=Interaction._meta.db_table), [user_pk])
            pks = [r[0] for r in cursor.fetchall()]
        ext = item_external_ids(pks, catalogue=catalogue)
        return {ext[pk] for pk in pks if pk in ext}
    return set(
        Interaction.objects.filter(user_id=user_pk)
        .values_list("item__external_id", flat=True)
        .distinct()
    )


def item_external_ids(pks: Iterable[int], *, catalogue: Catalogue) -> Mapping[int, str]:
    """item pk → external id for ``pks`` (unknown pks are left out): from the tenant's
    catalogue in memory, querying only for items created since it was loaded."""
    known = catalogue.external_ids()
    missing = set(pks).difference(known)
    if not missing:
        return known
    return ChainMap(
        dict(Item.objects.filter(pk__in=missing).values_list("pk", "external_id")), known
    )


def existing_item_ids(*, tenant, catalogue: Catalogue, item_ids: Iterable[str]) -> set[str]:
    """Those of ``item_ids`` the tenant has (active or not): from the catalogue in memory,
    querying only for ids it does not know (created since it was loaded, or never)."""
    ids = set(item_ids)
    found = set(catalogue.known(ids))
    missing = ids - found
    if missing:
        found.update(
            Item.objects.filter(tenant=tenant, external_id__in=list(missing)).values_list(
                "external_id", flat=True
            )
        )
    return found


_USER_SEEN_SQL = "SELECT DISTINCT item_id FROM {interaction} WHERE user_id = %s"

_USER_WITH_HISTORY = PreparedQuery(
    "m6rec_user_with_history",
    f"""
SELECT u.id, u.properties::text, s.n, s.last,
       h.item_id, h.type, h.value, extract(epoch FROM h.timestamp)::float8
FROM {EndUser._meta.db_table} u
CROSS JOIN LATERAL (
    SELECT count(*), max(x.id) FROM {Interaction._meta.db_table} x WHERE x.user_id = u.id
) s(n, last)
LEFT JOIN LATERAL (
    SELECT x.id, x.item_id, x.type, x.value, x.timestamp
    FROM {Interaction._meta.db_table} x
    WHERE x.user_id = u.id AND (s.n, s.last) IS DISTINCT FROM ($1, $2)
    ORDER BY x.timestamp DESC, x.id DESC
    LIMIT $3
) h ON true
WHERE u.tenant_id = $4 AND u.external_id = $5
ORDER BY h.timestamp, h.id
""",
    ("bigint", "bigint", "integer", "bigint", "text"),
)


class UserHistory(NamedTuple):
    """An end user as serving reads them."""

    pk: int
    properties: dict[str, Any]
    stored: tuple[int, int | None]
    """(number of stored interactions, largest interaction primary key or None)."""
    history: list[HistoryRow] | None
    """The latest interactions, oldest first; None when ``stored`` equals ``unless_stored``
    (the rows the caller already has, e.g. those its model was trained on)."""


def user_with_history(
    *,
    tenant,
    catalogue: Catalogue,
    user_id: str,
    limit: int = HISTORY_LIMIT,
    unless_stored: tuple[int, int] | None = None,
) -> UserHistory | None:
    """The tenant's end user ``user_id`` with their latest ``limit`` interactions, or ``None``.

    ``unless_stored``: (count, largest primary key) of the user's interactions as the caller
    already knows them; when the store still holds exactly that, the rows are not read
    (``history`` is None). Rows are only ever added (new keys) or deleted, so an equal count
    and largest key mean the same rows.

    One round trip on PostgreSQL (lateral joins over the ``(user, timestamp)`` index); item ids
    come from the tenant's catalogue in memory (:func:`item_external_ids`).
    """
    if connection.vendor != "postgresql":
        return _user_with_history_orm(tenant, user_id, limit, unless_stored)
    known = unless_stored or (-1, -1)
    with connection.cursor() as cursor:
        _USER_WITH_HISTORY.execute(cursor, [known[0], known[1], int(limit), tenant.pk, user_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    # the user's columns come on every row and are decoded once
    pk, properties, n, last = rows[0][0], _json(rows[0][1]) or {}, rows[0][2], rows[0][3]
    stored = (int(n), last)
    if unless_stored is not None and stored == tuple(unless_stored):
        return UserHistory(pk, properties, stored, None)
    if rows[0][4] is None:  # no interactions (the LEFT JOIN's one empty row)
        return UserHistory(pk, properties, stored, [])
    ext = item_external_ids([r[4] for r in rows], catalogue=catalogue)
    history = [(ext[r[4]], r[5], r[6], r[7]) for r in rows if r[4] in ext]
    return UserHistory(pk, properties, stored, history)


def _user_with_history_orm(tenant, user_id, limit, unless_stored) -> UserHistory | None:
    found = user_get(tenant=tenant, user_id=user_id)
    if found is None:
        return None
    agg = Interaction.objects.filter(user_id=found[0]).aggregate(n=Count("id"), last=Max("id"))
    stored = (int(agg["n"]), agg["last"])
    if unless_stored is not None and stored == tuple(unless_stored):
        return UserHistory(found[0], found[1], stored, None)
    history = user_history(tenant=tenant, user_pk=found[0], limit=limit)
    return UserHistory(found[0], found[1], stored, history)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _has_category(categories: Any, category: str) -> bool:
    return isinstance(categories, list) and category in categories


_popular_counts: ExpiringCache[list[tuple[str, float]]] = ExpiringCache(1024)


def popular_item_counts(
    *,
    tenant,
    category: str | None = None,
    exclude: Iterable[str] = (),
    limit: int = 1000,
    ttl: float = 30.0,
) -> list[tuple[str, float]]:
    """Active items by number of distinct interacting users, most popular first.

    Ties broken by external id. Without ``exclude`` the result is memoised per (tenant,
    category) for ``ttl`` seconds (popularity drifts slowly); with it, queried directly.
    """
    exclude = list(exclude)
    key = ("popular", tenant.pk, category, limit)
    if not exclude:
        cached = _popular_counts.get(key)
        if cached is not None:
            return cached
    qs = Interaction.objects.filter(tenant=tenant, item__active=True)
    if category is not None and connection.vendor == "postgresql":
        qs = qs.filter(item__categories__contains=[category])
    if exclude:
        qs = qs.exclude(item__external_id__in=exclude)
    rows = (
        qs.values("item__external_id", "item__categories")
        .annotate(n=Count("user_id", distinct=True))
        .order_by("-n", "item__external_id")
    )
    out: list[tuple[str, float]] = []
    for row in rows.iterator(chunk_size=2000):
        if category is not None and not _has_category(row["item__categories"], category):
            continue
        out.append((row["item__external_id"], float(row["n"])))
        if len(out) >= limit:
            break
    if not exclude:
        _popular_counts.put(key, out, ttl)
    return out
