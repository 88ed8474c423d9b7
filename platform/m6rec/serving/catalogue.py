"""A tenant's catalogue as serving reads it: every item's primary key, external id, active
flag, categories and properties, loaded in one query and never changed afterwards.

Part of the tenant's :class:`~m6rec.serving.snapshot.TenantSnapshot` (which decides when a new
one is loaded). It answers the questions a request asks about items without the database: is
this item servable (exists, active, in the requested category), what are its properties, which
external id has this primary key; and, for a loaded model, the same as a boolean mask over the
model's items, so the engine ranks servable items only (``Recommender`` ``allowed_items``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from django.db import connection

from m6rec.catalog.models import Item

__all__ = ["Catalogue", "load_catalogue"]

# per catalogue: masks and popular lists memoised for at most this many (model, category)
# pairs (categories are the requests' own strings)
MEMO_ENTRIES = 512

_ITEMS_SQL = (
    f"SELECT id, external_id, active, properties::text, categories::text "
    f"FROM {Item._meta.db_table} WHERE tenant_id = %s"
)


def load_catalogue(*, tenant_pk: int, generation: int) -> Catalogue:
    """Every item of the tenant (one query), as of ``generation``."""
    started = time.perf_counter()
    if connection.vendor == "postgresql":  # plain SQL: the rows as text, decoded on use
        with connection.cursor() as cursor:
            cursor.execute(_ITEMS_SQL, [tenant_pk])
            rows = cursor.fetchall()
        rows = [
            (pk, ext, active, props, json.loads(cats) if cats else ())
            for pk, ext, active, props, cats in rows
        ]
    else:
        rows = list(
            Item.objects.filter(tenant_id=tenant_pk).values_list(
                "pk", "external_id", "active", "properties", "categories"
            )
        )
    return Catalogue(rows, generation=generation, load_seconds=time.perf_counter() - started)


class Catalogue:
    """Immutable view of a tenant's items (see the module docstring). Thread-safe: its memos
    only ever add entries computed from immutable data."""

    def __init__(
        self,
        rows: Iterable[tuple[int, str, bool, Any, Any]],
        *,
        generation: int,
        load_seconds: float = 0.0,
    ) -> None:
        self.generation = int(generation)
        self.loaded_at = time.monotonic()
        self.load_seconds = float(load_seconds)
        self._row: dict[str, int] = {}
        self._external_id: dict[int, str] = {}
        active: list[bool] = []
        self._properties: list[Any] = []  # raw JSON text (decoded on first use) or a dict
        self._categories: list[frozenset[str]] = []
        for r, (pk, ext, is_active, props, cats) in enumerate(rows):
            self._row[ext] = r
            self._external_id[pk] = ext
            active.append(bool(is_active))
            self._properties.append(props)
            self._categories.append(_category_set(cats))
        self._active = np.array(active, dtype=bool)
        self._decoded: dict[int, Any] = {}
        self._memo: dict[tuple, Any] = {}

    def __len__(self) -> int:
        return len(self._row)

    # ---------------------------------------------------------------- by external id
    def exists(self, item_id: str) -> bool:
        """True when the item existed at load time (active or not)."""
        return item_id in self._row

    def known(self, item_ids: Iterable[str]) -> list[str]:
        """Those of ``item_ids`` that existed at load time, in order."""
        return [i for i in item_ids if i in self._row]

    def servable(self, item_ids: Iterable[str], *, category: str | None = None) -> dict[str, Any]:
        """external id → properties (a fresh top-level dict each call) for those of
        ``item_ids`` that may be served: existing, active and, when given, in ``category``."""
        out = {}
        row, active, cats = self._row, self._active, self._categories
        for i in item_ids:
            r = row.get(i)
            if r is None or not active[r] or (category is not None and category not in cats[r]):
                continue
            out[i] = self._properties_at(r)
        return out

    def _properties_at(self, r: int) -> dict[str, Any]:
        decoded = self._decoded.get(r)
        if decoded is None:
            raw = self._properties[r]
            decoded = (json.loads(raw) if isinstance(raw, str | bytes) else raw) or {}
            self._decoded[r] = decoded
        # nested values are shared: properties are read-only for the domain rules
        return dict(decoded) if isinstance(decoded, dict) else decoded

    # ---------------------------------------------------------------- by primary key
    def external_ids(self) -> Mapping[int, str]:
        """pk → external id of the items that existed at load time (read-only)."""
        return self._external_id

    # ---------------------------------------------------------------- over a model's items
    def eligible(self, recommender, category: str | None = None) -> np.ndarray | None:
        """Boolean mask over ``recommender.item_ids``: servable now (and in ``category``);
        None when every item of the model is (the engine's unfiltered fast path)."""
        key = ("eligible", id(recommender), category)
        hit = self._memo.get(key)
        if hit is None:
            rows = self._model_rows(recommender)
            found = rows >= 0
            mask = found.copy()
            mask[found] = self._active[rows[found]]
            if category is not None:
                cats = self._categories
                mask[mask] = [category in cats[r] for r in rows[mask]]
            hit = self._remember(key, (recommender, None if mask.all() else mask))
        return hit[1]

    def _model_rows(self, recommender) -> np.ndarray:
        """The catalogue row of each of the model's items (-1: not in the catalogue)."""
        key = ("rows", id(recommender))
        hit = self._memo.get(key)
        if hit is None:
            row = self._row
            rows = np.fromiter(
                (row.get(i, -1) for i in recommender.item_ids), np.int64, recommender.n_items
            )
            hit = self._remember(key, (recommender, rows))
        return hit[1]

    def popular(self, recommender, n: int, category: str | None = None) -> list[tuple[str, float]]:
        """``recommender.popular`` over the servable items (memoised: a pure function of the
        model's arrays and this catalogue)."""
        key = ("popular", id(recommender), n, category)
        hit = self._memo.get(key)
        if hit is None:
            got = recommender.popular(n, allowed_items=self.eligible(recommender, category))
            hit = self._remember(key, (recommender, tuple(got)))
        return list(hit[1])

    def _remember(self, key: tuple, value: tuple) -> tuple:
        """Memoise ``value`` (which holds the model, so its ``id`` in ``key`` stays its own)."""
        if len(self._memo) >= MEMO_ENTRIES:
            self._memo = {}
        self._memo[key] = value
        return value


def _category_set(categories: Any) -> frozenset[str]:
    """The item's categories (the strings of a JSON list; anything else counts as none: the
    API stores lists of strings, an admin edit might not)."""
    if not isinstance(categories, list | tuple):
        return frozenset()
    return frozenset(c for c in categories if isinstance(c, str))
