"""Per-process serving memos: item primary key → external id, the catalogue's serving state
of items, decoded item properties and catalogue-wide aggregates (category members, popularity).

One invalidation rule: writes through the catalogue services forget what they wrote in the
writing process at once (``m6rec.catalog.signals.items_changed``); every other process sees a
change within the memo's time to live. :func:`clear` empties all of them (tests, reloads).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from m6rec.catalog.models import Item

__all__ = [
    "AggregateMemo",
    "CatalogueMemo",
    "ItemIdMap",
    "aggregate_memo",
    "catalogue_memo",
    "clear",
    "item_id_memo",
    "item_properties",
]


class ItemIdMap:
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


item_id_memo = ItemIdMap()


_PROPERTIES_MEMO_SIZE = 20_000
_properties_memo: dict[tuple[int, Any], dict[str, Any]] = {}


def item_properties(tenant_pk: int, raw: Any) -> dict[str, Any]:
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


class CatalogueMemo:
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

    def get(
        self, tenant_pk: int, ids: list[str], *, stale_ok: bool = False
    ) -> tuple[dict[str, Any], list[str]]:
        """(id → state for the entries not yet expired (``stale_ok``: expired too), ids to look
        up)."""
        now = float("-inf") if stale_ok else time.monotonic()
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


catalogue_memo = CatalogueMemo()


class AggregateMemo:
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


aggregate_memo = AggregateMemo()


def clear() -> None:
    """Empty every serving memo of this process."""
    item_id_memo.clear()
    catalogue_memo.clear()
    aggregate_memo.clear()
    _properties_memo.clear()
