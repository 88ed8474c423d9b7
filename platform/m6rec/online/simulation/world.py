"""The simulator's synthetic world: the catalogue's categories, users with hidden preferences
(1 or 2 categories each), and the click / conversion model (see :mod:`m6rec.online.simulation`).
"""

from __future__ import annotations

import functools
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "MIN_CATEGORY_ITEMS",
    "Behaviour",
    "Catalogue",
    "SimUser",
    "click_probability",
    "make_users",
]

MIN_CATEGORY_ITEMS = 3


@dataclass(frozen=True)
class Catalogue:
    """Item id → its categories (a tuple; items without categories keep an empty one)."""

    items: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, Sequence[str] | None]]) -> Catalogue:
        return cls({str(i): tuple(str(c) for c in (cats or ())) for i, cats in rows})

    def by_category(self) -> dict[str, list[str]]:
        """Category → its items (sorted, so a seed gives the same world on every run)."""
        groups: dict[str, list[str]] = defaultdict(list)
        for item, cats in self.items.items():
            for c in cats:
                groups[c].append(item)
        return {c: sorted(items) for c, items in sorted(groups.items())}

    @functools.cached_property
    def _groups(self) -> tuple[dict[str, list[str]], bool]:
        groups = {c: i for c, i in self.by_category().items() if len(i) >= MIN_CATEGORY_ITEMS}
        if groups:
            return groups, False
        buckets: dict[str, list[str]] = defaultdict(list)
        for item in sorted(self.items):
            buckets[_bucket(item)].append(item)
        return dict(buckets), True

    def usable_categories(self) -> dict[str, list[str]]:
        """The categories a preference can be drawn from (at least ``MIN_CATEGORY_ITEMS`` items).

        A catalogue without categories is split into 8 pseudo-categories by a stable hash of
        the item id, so the simulator still has tastes to act on."""
        return self._groups[0]

    def categories_of(self, item_id: str) -> tuple[str, ...]:
        """The categories the hidden preferences see (pseudo-categories in a catalogue
        without any; none for an item the catalogue did not list)."""
        if self._groups[1]:
            return (_bucket(item_id),)
        return self.items.get(item_id, ())


def _bucket(item_id: str) -> str:
    return f"bucket-{uuid.uuid5(uuid.NAMESPACE_URL, item_id).int % 8}"


@dataclass(frozen=True)
class SimUser:
    user_id: str
    preferred: frozenset[str]


@dataclass(frozen=True)
class Behaviour:
    """Click and conversion probabilities (see the module docstring)."""

    click_preferred: float = 0.35
    click_other: float = 0.03
    convert_preferred: float = 0.30
    convert_other: float = 0.05


def make_users(catalogue: Catalogue, *, n: int, rng: random.Random, prefix: str) -> list[SimUser]:
    """``n`` users, each preferring 1 or 2 categories (at most half of the usable ones)."""
    groups = catalogue.usable_categories()
    if not groups:
        raise ValueError("the catalogue has no items")
    names = list(groups)
    weights = [len(groups[c]) for c in names]
    most = max(1, min(2, len(names) // 2))
    users = []
    for u in range(n):
        count = rng.randint(1, most)
        chosen: set[str] = set()
        while len(chosen) < count:
            chosen.add(rng.choices(names, weights=weights)[0])
        users.append(SimUser(f"{prefix}{u}", frozenset(chosen)))
    return users


def click_probability(
    user: SimUser, categories: Iterable[str], position: int, behaviour: Behaviour
) -> tuple[float, float]:
    """(P(click), P(convert | click)) of the item at ``position`` (0-based) for ``user``."""
    liked = any(c in user.preferred for c in categories)
    bias = 1.0 / math.log2(position + 2)
    if liked:
        return behaviour.click_preferred * bias, behaviour.convert_preferred
    return behaviour.click_other * bias, behaviour.convert_other
