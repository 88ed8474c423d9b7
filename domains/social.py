"""Social domain: items are people (to follow) or posts (to like and comment on).

A person item links to the platform user it represents through ``user_id`` (or by using the
same id); a post names its ``author_id``. Interactions ``view`` < ``like`` < ``comment`` <
``follow``. Serving never recommends users to themselves, someone they already follow, their
own posts, or anything by someone they blocked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domains.base import Domain
from domains.extractors import FeatureBuilder, as_str_list, behaviour_aggregates, concat
from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord, to_datetime
from domains.rules import dedupe, items_with, score_scale, sort_by_score
from engine.features import FeatureMatrix

KINDS = ("person", "post")
MEDIA = ("text", "image", "video", "link")
_IDS = {"type": "array", "items": {"type": "string"}, "maxItems": 10000}


def owner_of(item_id: str, properties: Mapping[str, Any]) -> str:
    """The platform user behind an item: a person's ``user_id`` or a post's ``author_id``."""
    if properties.get("kind") == "post":
        return str(properties.get("author_id", ""))
    return str(properties.get("user_id") or item_id)


class SocialDomain(Domain):
    """People and posts. Features: kind, interests/topics (hashed), audience size, media."""

    name = "social"
    version = "1.0.0"
    description = "Social network: people to follow and posts to engage with."
    item_schema = {
        "type": "object",
        "properties": {
            "kind": {"enum": list(KINDS)},
            "user_id": {"type": "string", "maxLength": 255},
            "author_id": {"type": "string", "maxLength": 255},
            "display_name": {"type": "string", "maxLength": 200},
            "interests": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
            "topics": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
            "follower_count": {"type": "integer", "minimum": 0},
            "media_type": {"enum": list(MEDIA)},
            "created_at": {"type": "string", "format": "date-time"},
            "location": {"type": "string", "maxLength": 200},
        },
        "required": ["kind"],
        "allOf": [
            {"if": {"properties": {"kind": {"const": "post"}}}, "then": {"required": ["author_id"]}}
        ],
    }
    user_schema = {
        "type": "object",
        "properties": {
            "interests": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
            "location": {"type": "string", "maxLength": 200},
            "age": {"type": "integer", "minimum": 13, "maximum": 130},
            "following": _IDS,
            "blocked": _IDS,
        },
    }
    goal_types = ("like", "comment", "follow")
    attribution_window_hours = 24
    interaction_types = {"view": 0.5, "like": 1.0, "comment": 3.0, "follow": 6.0}
    weight_order = (("view", "like", "comment", "follow"),)
    rule_switches = {"exclude_own_posts": True, "shared_interest_boost": True}
    parameters = {
        "shared_interest_weight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.05}
    }

    def item_features(
        self, items: Sequence[ItemRecord], *, config: Mapping[str, Any] | None = None
    ) -> FeatureMatrix:
        """(n_items, 75): kind, interests+topics#64, log followers, media, created year."""
        props = [i.properties for i in items]
        fb = FeatureBuilder(len(items))
        fb.multi_hot("kind", [as_str_list(p.get("kind")) for p in props], KINDS)
        topics = [
            as_str_list(p.get("interests")) + as_str_list(p.get("topics")) + list(i.categories)
            for p, i in zip(props, items, strict=True)
        ]
        fb.hashed("topic", [[t.lower() for t in ts] for ts in topics], 64)
        fb.numeric("log_followers", [p.get("follower_count") for p in props], transform=math.log1p)
        fb.one_hot("media", [p.get("media_type") for p in props], MEDIA[:3] + ("link",))
        created = [to_datetime(p.get("created_at")) for p in props]
        fb.block(
            ["created_year"],
            [[(c.year - 2000.0) / 25.0 if c else 0.0] for c in created],
        )
        fb.block(["has_created"], [[1.0 if c else 0.0] for c in created])
        return fb.build([i.item_id for i in items])

    def user_features(
        self,
        users: Sequence[UserRecord],
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
        items: Sequence[ItemRecord] | None = None,
    ) -> FeatureMatrix:
        """Interests#64, age, log(following count) + H_u aggregates."""
        props = [u.properties for u in users]
        fb = FeatureBuilder(len(users))
        fb.hashed("topic", [as_str_list(p.get("interests")) for p in props], 64)
        fb.numeric("age", [p.get("age") for p in props], transform=lambda a: a / 100.0)
        fb.block(
            ["log_following"],
            [[math.log1p(len(as_str_list(p.get("following"))))] for p in props],
        )
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
        """Never self, never already followed, never blocked; optional own-post filter and
        a small boost (with a reason) for shared interests."""
        cfg = self.resolve_config(config)
        props = user.properties if user else {}
        me = user.user_id if user else None
        followed = items_with(history, "follow") | set(as_str_list_raw(props.get("following")))
        blocked = set(as_str_list_raw(props.get("blocked")))
        interests = set(as_str_list(props.get("interests")))
        pool = dedupe(candidates)
        scale = score_scale(pool)
        out: list[Candidate] = []
        for c in pool:
            kind = c.properties.get("kind", "person")
            owner = owner_of(c.item_id, c.properties)
            if owner in blocked or c.item_id in blocked:
                continue
            if kind != "post":
                if me is not None and (owner == me or c.item_id == me):
                    continue
                if c.item_id in followed or owner in followed:
                    continue
            elif me is not None and owner == me and self.rule_enabled(cfg, "exclude_own_posts"):
                continue
            shared = sorted(
                interests
                & set(
                    as_str_list(c.properties.get("interests"))
                    + as_str_list(c.properties.get("topics"))
                )
            )
            if shared and self.rule_enabled(cfg, "shared_interest_boost"):
                c = c.with_score(c.score + float(cfg["shared_interest_weight"]) * scale)
                if c.reason is None:
                    c = c.with_reason("Shares your interest in " + ", ".join(shared[:3]))
            out.append(c)
        return sort_by_score(out)


def as_str_list_raw(value: Any) -> list[str]:
    """Ids as given (case preserved): a list of strings or a single string."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []
