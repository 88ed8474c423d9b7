"""Serving reads: tenant-scoped catalogue lookups, histories and popularity from the database.

Every lookup by external id filters on the tenant, so another tenant's ids behave exactly like
missing ones; per-user reads then go by the user's primary key (a user has one tenant).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max

from m6rec.catalog.models import EndUser, Interaction, Item
from m6rec.common.prepared import PreparedQuery

__all__ = [
    "HISTORY_LIMIT",
    "catalog",
    "HistoryRow",
    "category_item_ids",
    "item_exists",
    "items_servable",
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
look at the times (see ``serving.services._History``)."""


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


def user_seen_item_ids(*, tenant, user_pk: int) -> set[str]:
    """Every item the user interacted with (for users with more than the history limit)."""
    if connection.vendor == "postgresql":  # item pks from the user's index, ids from the memo
        with connection.cursor() as cursor:
            cursor.execute(_USER_SEEN_SQL.format(interaction=Interaction._meta.db_table), [user_pk])
            pks = [r[0] for r in cursor.fetchall()]
        ext = item_external_ids(pks, tenant_pk=tenant.pk)
        return {ext[pk] for pk in pks if pk in ext}
    return set(
        Interaction.objects.filter(user_id=user_pk)
        .values_list("item__external_id", flat=True)
        .distinct()
    )


class _ItemIdMap:
    """Per-process item primary key → external id (immutable for the life of a primary key).

    Lets the per-request history queries read ``item_id`` straight from the ``(user,
    timestamp)`` index instead of joining the item table row by row. A tenant's first miss in
    this process loads up to ``prefill`` of its ids in one query (a new worker would otherwise
    query for unknown items on most of its first requests); later misses query just those.
    Bounded; emptied every ``max_age`` seconds so a database restored under a live process
    cannot serve stale ids for long.
    """

    def __init__(
        self, *, max_entries: int = 500_000, max_age: float = 3600.0, prefill: int = 200_000
    ) -> None:
        self._lock = threading.Lock()
        self._data: dict[int, str] = {}
        self._prefilled: set[int] = set()
        self._born = time.monotonic()
        self.max_entries = max_entries
        self.max_age = max_age
        self.prefill = prefill

    def lookup(self, pks: Iterable[int], *, tenant_pk: int | None = None) -> Mapping[int, str]:
        """pk → external id for ``pks`` (a mapping that may hold other pks too; unknown pks
        are missing from it). ``tenant_pk``: the tenant the pks belong to, for the prefill."""
        if time.monotonic() - self._born >= self.max_age:
            self.clear()
        data = self._data
        wanted = set(pks)
        missing = wanted.difference(data)
        if not missing:
            return data  # the hot path: every item met before
        fetched: dict[int, str] = {}
        if tenant_pk is not None and tenant_pk not in self._prefilled:
            rows = Item.objects.filter(tenant_id=tenant_pk).values_list("pk", "external_id")
            fetched = dict(rows[: self.prefill])
            self._prefilled.add(tenant_pk)
        rest = missing.difference(fetched)
        if rest:
            fetched.update(Item.objects.filter(pk__in=rest).values_list("pk", "external_id"))
        with self._lock:
            if len(self._data) + len(fetched) > self.max_entries:
                self._data = {}
                self._prefilled = set()
            self._data.update(fetched)
        out = {pk: data[pk] for pk in wanted - missing}
        out.update((pk, fetched[pk]) for pk in missing if pk in fetched)
        return out

    def clear(self) -> None:
        with self._lock:
            self._data = {}
            self._prefilled = set()
            self._born = time.monotonic()


item_ids = _ItemIdMap()


def item_external_ids(pks: Iterable[int], *, tenant_pk: int | None = None) -> Mapping[int, str]:
    """item pk → external id for ``pks`` (memoised per process; unknown pks are left out).

    ``tenant_pk`` (the tenant the items belong to) lets a first miss load the tenant's ids."""
    return item_ids.lookup(pks, tenant_pk=tenant_pk)


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
    user_id: str,
    limit: int = HISTORY_LIMIT,
    unless_stored: tuple[int, int] | None = None,
) -> UserHistory | None:
    """The tenant's end user ``user_id`` with their latest ``limit`` interactions, or ``None``.

    ``unless_stored``: (count, largest primary key) of the user's interactions as the caller
    already knows them; when the store still holds exactly that, the rows are not read
    (``history`` is None). Rows are only ever added (new keys) or deleted, so an equal count
    and largest key mean the same rows.

    One round trip on PostgreSQL (lateral joins over the ``(user, timestamp)`` index; item ids
    mapped through the per-process :func:`item_external_ids` memo, which queries only for
    items it has not met yet).
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
    ext = item_external_ids([r[4] for r in rows], tenant_pk=tenant.pk)
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


def item_exists(*, tenant, item_id: str) -> bool:
    return Item.objects.filter(tenant=tenant, external_id=item_id).exists()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


_PROPERTIES_MEMO_SIZE = 20_000
_properties_memo: dict[tuple[int, Any], dict[str, Any]] = {}


def _item_properties(tenant_pk: int, raw: Any) -> dict[str, Any]:
    """Decoded item properties, memoised per (tenant, JSON text); a fresh top-level dict each
    call (nested values are shared: properties are read-only for the domain rules)."""
    if not isinstance(raw, str | bytes):
        return dict(raw) if isinstance(raw, dict) else raw or {}
    key = (tenant_pk, raw)
    decoded = _properties_memo.get(key)
    if decoded is None:
        decoded = json.loads(raw) or {}
        if len(_properties_memo) >= _PROPERTIES_MEMO_SIZE:
            _properties_memo.clear()
        _properties_memo[key] = decoded
    return dict(decoded) if isinstance(decoded, dict) else decoded


def _has_category(categories: Any, category: str) -> bool:
    return isinstance(categories, list) and category in categories


class _CatalogMemo:
    """Per-process (tenant, external id) → the item's serving state, for ``ttl`` seconds.

    State: ``None`` (no such item) or ``(active, raw properties, categories)``. Candidate
    lists repeat a tenant's popular items from request to request, so most checks are served
    from here. Writes through the catalogue services forget the written ids in this process at
    once (``m6rec.catalog.signals.items_changed``); other processes see a change within ``ttl``
    seconds, as they see a new active model version or a revoked API key. Bounded.
    """

    def __init__(self, *, max_entries: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._data: dict[tuple[int, str], tuple[float, Any]] = {}
        self.max_entries = max_entries

    def get(self, tenant_pk: int, ids: list[str]) -> tuple[dict[str, Any], list[str]]:
        """(id → state for the entries not yet expired, ids to look up)."""
        now = time.monotonic()
        found, missing = {}, []
        data = self._data
        for i in ids:
            hit = data.get((tenant_pk, i))
            if hit is not None and hit[0] > now:
                found[i] = hit[1]
            else:
                missing.append(i)
        return found, missing

    def put(self, tenant_pk: int, states: Mapping[str, Any], ttl: float) -> None:
        expires = time.monotonic() + ttl
        with self._lock:
            if len(self._data) + len(states) > self.max_entries:
                self._data = {}
            self._data.update(((tenant_pk, i), (expires, st)) for i, st in states.items())

    def forget(self, tenant_pk: int, ids: Iterable[str] | None = None) -> None:
        """Drop ``ids`` of the tenant (all its entries when ``ids`` is None)."""
        with self._lock:
            if ids is None:
                self._data = {k: v for k, v in self._data.items() if k[0] != tenant_pk}
            else:
                for i in ids:
                    self._data.pop((tenant_pk, i), None)

    def clear(self) -> None:
        with self._lock:
            self._data = {}


catalog = _CatalogMemo()


def _catalog_ttl() -> float:
    return float(getattr(settings, "M6REC_CATALOG_TTL", 5.0))


_ITEM_STATES = PreparedQuery(
    "m6rec_item_states",
    f"SELECT external_id, active, properties::text, categories::text "
    f"FROM {Item._meta.db_table} WHERE tenant_id = $1 AND external_id = ANY($2)",
    ("bigint", "text[]"),
)


def _item_states(tenant, ids: list[str]) -> dict[str, Any]:
    """id → ``None`` or ``(active, raw properties, categories)`` for ``ids``, from the database."""
    states: dict[str, Any] = dict.fromkeys(ids)
    if connection.vendor == "postgresql":  # hot path: plain SQL, no ORM compilation
        with connection.cursor() as cursor:
            _ITEM_STATES.execute(cursor, [tenant.pk, ids])
            rows = cursor.fetchall()
        for ext, active, props, cats in rows:
            states[ext] = (active, props, tuple(json.loads(cats) or ()) if cats else ())
        return states
    rows = Item.objects.filter(tenant=tenant, external_id__in=ids).values_list(
        "external_id", "active", "properties", "categories"
    )
    for ext, active, props, cats in rows:
        states[ext] = (active, props, tuple(cats) if isinstance(cats, list) else ())
    return states


def items_servable(
    *, tenant, item_ids: Iterable[str], category: str | None = None
) -> dict[str, dict[str, Any]]:
    """external id → properties for those of ``item_ids`` that may be served now.

    Servable: the item exists for this tenant, is active and (when ``category`` is given)
    lists that category. The last check before a response; read through the per-process
    :data:`catalog` memo (``M6REC_CATALOG_TTL`` seconds, 0 = always from the database).
    """
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return {}
    ttl = _catalog_ttl()
    states, missing = catalog.get(tenant.pk, ids) if ttl > 0 else ({}, ids)
    if missing:
        fetched = _item_states(tenant, missing)
        if ttl > 0:
            catalog.put(tenant.pk, fetched, ttl)
        states.update(fetched)
    out = {}
    for i in ids:
        st = states.get(i)
        if st is None or not st[0] or (category is not None and category not in st[2]):
            continue
        out[i] = _item_properties(tenant.pk, st[1])
    return out


class _TTLMemo:
    """A tiny thread-safe per-process memo with expiry (for catalogue-wide aggregates)."""

    def __init__(self, *, max_entries: int = 1024) -> None:
        self._lock = threading.Lock()
        self._data: dict[Any, tuple[float, Any]] = {}
        self.max_entries = max_entries

    def get(self, key: Any, ttl: float) -> Any | None:
        with self._lock:
            hit = self._data.get(key)
        if hit is None or time.monotonic() - hit[0] >= ttl:
            return None
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = (time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
        item_ids.clear()
        catalog.clear()
        _properties_memo.clear()


memo = _TTLMemo()


def category_item_ids(*, tenant, category: str, ttl: float = 5.0) -> frozenset[str]:
    """Active items of the tenant that list ``category`` (memoised for ``ttl`` seconds)."""
    key = ("category", tenant.pk, category)
    cached = memo.get(key, ttl)
    if cached is not None:
        return cached
    qs = Item.objects.filter(tenant=tenant, active=True)
    if connection.vendor == "postgresql":
        ids = frozenset(
            qs.filter(categories__contains=[category]).values_list("external_id", flat=True)
        )
    else:
        ids = frozenset(
            ext
            for ext, cats in qs.values_list("external_id", "categories")
            if _has_category(cats, category)
        )
    memo.put(key, ids)
    return ids


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
        cached = memo.get(key, ttl)
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
        memo.put(key, out)
    return out
