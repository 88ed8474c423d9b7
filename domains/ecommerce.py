"""E-commerce domain: products with price, brand, category path and stock.

Interactions ``view`` < ``add_to_cart`` < ``purchase`` (purchase value = quantity). Serving never
returns out-of-stock products and applies a repurchase policy to products already bought.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from domains.base import Domain
from domains.extractors import (
    FeatureBuilder,
    as_float,
    as_str_list,
    behaviour_aggregates,
    category_path_tokens,
    concat,
)
from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord
from domains.rules import dedupe, items_with, last_time, sort_by_score
from engine.features import FeatureMatrix

GENDERS = ("female", "male", "nonbinary")
LOYALTY_TIERS = ("none", "silver", "gold", "platinum")
_STR = {"type": "string", "maxLength": 300}


def in_stock(properties: Mapping[str, Any]) -> bool:
    """False when ``stock`` is 0 (or less) or ``in_stock`` is false; unknown stock counts as in."""
    if properties.get("in_stock") is False:
        return False
    stock = as_float(properties.get("stock"))
    return stock is None or stock > 0


class EcommerceDomain(Domain):
    """Products. Item features: log price, brand (hashed), category path (hashed per level),
    stock, rating, sale/consumable flags."""

    name = "ecommerce"
    version = "1.0.0"
    description = "Online shop: products, carts and purchases."
    item_schema = {
        "type": "object",
        "properties": {
            "title": _STR,
            "price": {"type": "number", "minimum": 0},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "brand": {"type": "string", "maxLength": 200},
            "category_path": {
                "anyOf": [
                    {"type": "string", "maxLength": 500},
                    {"type": "array", "items": {"type": "string"}, "maxItems": 10},
                ]
            },
            "stock": {"type": "integer", "minimum": 0},
            "in_stock": {"type": "boolean"},
            "rating": {"type": "number", "minimum": 0, "maximum": 5},
            "on_sale": {"type": "boolean"},
            "consumable": {"type": "boolean"},
            "repurchase_interval_days": {"type": "integer", "minimum": 1, "maximum": 3650},
        },
        "required": ["price"],
    }
    user_schema = {
        "type": "object",
        "properties": {
            "age": {"type": "integer", "minimum": 0, "maximum": 130},
            "gender": {"enum": list(GENDERS)},
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "loyalty_tier": {"enum": list(LOYALTY_TIERS)},
        },
    }
    goal_types = ("purchase",)
    attribution_window_hours = 168
    interaction_types = {"view": 1.0, "add_to_cart": 4.0, "purchase": 10.0}
    weight_order = (("view", "add_to_cart", "purchase"),)
    rule_switches = {"diversify_brands": False}
    parameters = {
        "repurchase_policy": {
            "enum": ["never", "consumables", "always"],
            "default": "consumables",
            "description": "Bought products: never again, consumables once due, or always.",
        },
        "default_repurchase_interval_days": {"type": "integer", "minimum": 1, "default": 30},
        "max_per_brand": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3},
    }

    def value_factor(self, type: str, value: float | None) -> float:
        """Purchases of several units count more: 1 + ln(quantity) (quantity ≥ 1)."""
        if type == "purchase" and value is not None and value >= 1:
            return 1.0 + math.log(value)
        return 1.0

    def item_features(
        self, items: Sequence[ItemRecord], *, config: Mapping[str, Any] | None = None
    ) -> FeatureMatrix:
        """(n_items, 106): log1p price, brand#32, category#64, stock, rating, flags."""
        props = [i.properties for i in items]
        fb = FeatureBuilder(len(items))
        fb.numeric("log_price", [p.get("price") for p in props], transform=math.log1p)
        fb.hashed("brand", [as_str_list(p.get("brand")) for p in props], 32)
        paths = [
            category_path_tokens(p.get("category_path"))
            + [t for c in i.categories for t in category_path_tokens(c)]
            for p, i in zip(props, items, strict=True)
        ]
        fb.hashed("category", paths, 64)
        fb.block(["in_stock"], [[1.0 if in_stock(p) else 0.0] for p in props])
        fb.numeric("log_stock", [p.get("stock") for p in props], transform=math.log1p)
        fb.numeric("rating", [p.get("rating") for p in props], transform=lambda r: r / 5.0)
        for flag in ("on_sale", "consumable"):
            fb.block([flag], [[1.0 if p.get(flag) is True else 0.0] for p in props])
        fb.block(["active"], [[1.0 if i.active else 0.0] for i in items])
        return fb.build([i.item_id for i in items])

    def user_features(
        self,
        users: Sequence[UserRecord],
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
        items: Sequence[ItemRecord] | None = None,
    ) -> FeatureMatrix:
        """Declared properties (age, gender, loyalty, country#8) + H_u aggregates."""
        props = [u.properties for u in users]
        fb = FeatureBuilder(len(users))
        fb.numeric("age", [p.get("age") for p in props], transform=lambda a: a / 100.0)
        fb.one_hot("gender", [p.get("gender") for p in props], GENDERS)
        fb.one_hot("loyalty", [p.get("loyalty_tier") for p in props], LOYALTY_TIERS)
        fb.hashed("country", [as_str_list(p.get("country")) for p in props], 8)
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
        """Drop out-of-stock; apply the repurchase policy; optionally cap items per brand."""
        cfg = self.resolve_config(config)
        now = now or datetime.now(UTC)
        bought = items_with(history, "purchase")
        carted = items_with(history, "add_to_cart") - bought
        out: list[Candidate] = []
        for c in dedupe(candidates):
            if not in_stock(c.properties):
                continue
            if c.item_id in bought:
                c = self._repurchase(c, history, cfg, now)
                if c is None:
                    continue
            elif c.item_id in carted and c.reason is None:
                c = c.with_reason("Still in your cart")
            out.append(c)
        out = sort_by_score(out)
        if self.rule_enabled(cfg, "diversify_brands"):
            out = _diversify(out, int(cfg["max_per_brand"]))
        return out

    def _repurchase(
        self,
        c: Candidate,
        history: Sequence[InteractionRecord],
        cfg: Mapping[str, Any],
        now: datetime,
    ) -> Candidate | None:
        policy = cfg["repurchase_policy"]
        if policy == "always":
            return c.with_reason("Buy again")
        if policy == "never" or c.properties.get("consumable") is not True:
            return None
        interval = as_float(c.properties.get("repurchase_interval_days"))
        interval = interval or float(cfg["default_repurchase_interval_days"])
        bought_at = last_time(history, c.item_id, "purchase")
        if bought_at is not None and (now - bought_at).total_seconds() < interval * 86400:
            return None
        return c.with_reason("Time to restock")


def _diversify(candidates: list[Candidate], max_per_brand: int) -> list[Candidate]:
    """Keep at most ``max_per_brand`` per brand in front; the rest follow in score order."""
    front, back, counts = [], [], {}
    for c in candidates:
        brand = str(c.properties.get("brand", "")).lower()
        counts[brand] = counts.get(brand, 0) + 1
        (front if not brand or counts[brand] <= max_per_brand else back).append(c)
    return front + back
