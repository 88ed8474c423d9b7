"""Books: an example third-party M6-Rec domain plugin.

Items are books (ISBN, authors, genres, pages, year, language, series and volume, minimum
age); users declare favourite genres and their age. Interactions ``view`` < ``sample`` <
``wishlist`` < ``borrow`` < ``purchase``, plus ``rate`` (value = 1..5 stars). Rules: books the
user bought or finished are excluded, books above the user's age never appear (anonymous users
only see books for all ages), and the next volume of a series the user is reading is explained.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domains.base import Domain
from domains.extractors import (
    FeatureBuilder,
    as_float,
    as_str_list,
    behaviour_aggregates,
    concat,
)
from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord
from domains.rules import dedupe, sort_by_score
from engine.features import FeatureMatrix

__all__ = ["BooksDomain"]
__version__ = "0.1.0"

GENRES = (
    "fiction", "fantasy", "science-fiction", "mystery", "thriller", "romance", "horror",
    "biography", "history", "science", "self-help", "children", "poetry", "comics",
)  # fmt: skip
_STRINGS = {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 30}


class BooksDomain(Domain):
    """Books. Item features: genres, authors (hashed), pages, year, language, series, age."""

    name = "books"
    version = __version__
    description = "Bookshops and libraries."
    item_schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 500},
            "isbn": {"type": "string", "pattern": "^(97[89])?[0-9]{9}[0-9X]$"},
            "authors": _STRINGS,
            "genres": _STRINGS,
            "pages": {"type": "integer", "minimum": 1, "maximum": 20000},
            "year": {"type": "integer", "minimum": 1450, "maximum": 2100},
            "language": {"type": "string", "pattern": "^[a-z]{2,3}$"},
            "series": {"type": "string", "maxLength": 200},
            "volume": {"type": "integer", "minimum": 1},
            "min_age": {"type": "integer", "minimum": 0, "maximum": 21},
        },
        "required": ["title"],
        "dependentRequired": {"volume": ["series"]},
    }
    user_schema = {
        "type": "object",
        "properties": {
            "age": {"type": "integer", "minimum": 0, "maximum": 130},
            "favourite_genres": _STRINGS,
        },
    }
    interaction_types = {
        "view": 0.5,
        "sample": 1.0,
        "wishlist": 2.0,
        "borrow": 4.0,
        "purchase": 6.0,
        "rate": 3.0,
    }
    weight_order = (("view", "sample", "wishlist", "borrow", "purchase"),)
    rule_switches = {"explain_series": True}
    parameters = {
        "finished_types": {
            "type": "array",
            "items": {"enum": ["purchase", "borrow", "rate"]},
            "default": ["purchase", "rate"],
            "description": "Interaction types after which a book is never recommended again.",
        }
    }

    def value_factor(self, type: str, value: float | None) -> float:
        """``rate``: 1 star → 0.2, 5 stars → 1.0 (relative to the rate weight)."""
        if type == "rate" and value is not None and 1 <= value <= 5:
            return value / 5.0
        return 1.0

    def item_features(
        self, items: Sequence[ItemRecord], *, config: Mapping[str, Any] | None = None
    ) -> FeatureMatrix:
        """(n_items, 14 + 32 + 16 + 8): genres, authors#32, series#16, pages, year, language#4,
        volume, min age."""
        props = [i.properties for i in items]
        fb = FeatureBuilder(len(items))
        fb.multi_hot("genre", [as_str_list(p.get("genres")) for p in props], GENRES)
        fb.hashed("author", [as_str_list(p.get("authors")) for p in props], 32)
        fb.hashed("series", [as_str_list(p.get("series")) for p in props], 16)
        fb.numeric("log_pages", [p.get("pages") for p in props], transform=math.log1p)
        fb.numeric("year", [p.get("year") for p in props], transform=lambda y: (y - 2000) / 50)
        fb.hashed("language", [as_str_list(p.get("language")) for p in props], 4)
        fb.block(["volume"], [[math.log1p(as_float(p.get("volume")) or 0.0)] for p in props])
        fb.block(["min_age"], [[(as_float(p.get("min_age")) or 0.0) / 21.0] for p in props])
        return fb.build([i.item_id for i in items])

    def user_features(
        self,
        users: Sequence[UserRecord],
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
        items: Sequence[ItemRecord] | None = None,
    ) -> FeatureMatrix:
        """Age and favourite genres + the shared behaviour aggregates H_u."""
        props = [u.properties for u in users]
        fb = FeatureBuilder(len(users))
        fb.numeric("age", [p.get("age") for p in props], transform=lambda a: a / 100.0)
        fb.multi_hot("genre", [as_str_list(p.get("favourite_genres")) for p in props], GENRES)
        ids = [u.user_id for u in users]
        aggregates = behaviour_aggregates(self, users, interactions, config=config, items=items)
        return concat(ids, fb.build(ids), aggregates)

    def apply_rules(
        self,
        *,
        user: UserRecord | None,
        history: Sequence[InteractionRecord],
        candidates: Sequence[Candidate],
        config: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> list[Candidate]:
        """Drop finished books and books above the user's age; explain next volumes."""
        cfg = self.resolve_config(config)
        finished = {e.item_id for e in history if e.type in set(cfg["finished_types"])}
        age = as_float(user.properties.get("age")) if user else None
        reading: dict[str, int] = {}
        for c in candidates:  # volumes of series the user finished, from candidate properties
            series, volume = c.properties.get("series"), as_float(c.properties.get("volume"))
            if c.item_id in finished and series and volume:
                reading[series] = max(reading.get(series, 0), int(volume))
        out = []
        for c in dedupe(candidates):
            min_age = as_float(c.properties.get("min_age")) or 0.0
            if c.item_id in finished or (min_age > 0 and (age is None or age < min_age)):
                continue
            series, volume = c.properties.get("series"), as_float(c.properties.get("volume"))
            next_up = series in reading and volume == reading[series] + 1
            if next_up and self.rule_enabled(cfg, "explain_series") and c.reason is None:
                c = c.with_reason(f"Next in {series}")
            out.append(c)
        return sort_by_score(out)
