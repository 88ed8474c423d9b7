"""Health domain: articles, programmes, providers and products about health conditions.

Items carry condition tags, contraindications and an audience (age bands). Interactions
``view`` < ``save`` < ``consult`` < ``follow_up``. Serving never returns an item contraindicated
for a condition the user declared, filters by age band, and gives every result a reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domains.base import Domain
from domains.extractors import FeatureBuilder, as_str_list, behaviour_aggregates, concat
from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord
from domains.rules import dedupe, score_scale, sort_by_score
from engine.features import FeatureMatrix

AGE_BANDS = ("child", "teen", "adult", "senior")
KINDS = ("article", "program", "provider", "product")
EVIDENCE = ("A", "B", "C", "expert")
SEXES = ("female", "male", "intersex")
_TAGS = {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 50}


def contraindicated(item: Mapping[str, Any], conditions: set[str]) -> list[str]:
    """The user's declared conditions the item lists as contraindications (lower-case)."""
    return sorted(set(as_str_list(item.get("contraindications"))) & conditions)


class HealthDomain(Domain):
    """Health content with safety rules. Every returned candidate has a ``reason``."""

    name = "health"
    version = "1.0.0"
    description = "Health and wellbeing: articles, programmes, providers, products."
    item_schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 500},
            "kind": {"enum": list(KINDS)},
            "condition_tags": _TAGS,
            "contraindications": _TAGS,
            "audience": {"type": "array", "items": {"enum": list(AGE_BANDS)}, "uniqueItems": True},
            "evidence_level": {"enum": list(EVIDENCE)},
            "reviewed_at": {"type": "string", "format": "date"},
        },
    }
    user_schema = {
        "type": "object",
        "properties": {
            "conditions": _TAGS,
            "goals": _TAGS,
            "age_band": {"enum": list(AGE_BANDS)},
            "sex": {"enum": list(SEXES)},
        },
    }
    goal_types = ("consult", "follow_up")
    attribution_window_hours = 336
    explain_by_default = True
    interaction_types = {"view": 0.5, "save": 2.0, "consult": 4.0, "follow_up": 6.0}
    weight_order = (("view", "save", "consult", "follow_up"),)
    rule_switches = {"audience_filter": True, "condition_boost": True}
    parameters = {
        "condition_boost_weight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.1}
    }

    def item_features(
        self, items: Sequence[ItemRecord], *, config: Mapping[str, Any] | None = None
    ) -> FeatureMatrix:
        """(n_items, 79): kind, conditions#32, contraindications#32, audience, evidence."""
        props = [i.properties for i in items]
        fb = FeatureBuilder(len(items))
        fb.one_hot("kind", [p.get("kind") for p in props], KINDS)
        conditions = [
            as_str_list(p.get("condition_tags")) + as_str_list(list(i.categories))
            for p, i in zip(props, items, strict=True)
        ]
        fb.hashed("condition", conditions, 32)
        fb.hashed("contraindication", [as_str_list(p.get("contraindications")) for p in props], 32)
        fb.multi_hot("audience", [as_str_list(p.get("audience")) for p in props], AGE_BANDS)
        fb.block(["audience:any"], [[0.0 if p.get("audience") else 1.0] for p in props])
        fb.one_hot("evidence", [p.get("evidence_level") for p in props], EVIDENCE)
        return fb.build([i.item_id for i in items])

    def user_features(
        self,
        users: Sequence[UserRecord],
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
        items: Sequence[ItemRecord] | None = None,
    ) -> FeatureMatrix:
        """Conditions#32 (same buckets as items), goals#16, age band, sex + H_u aggregates."""
        props = [u.properties for u in users]
        fb = FeatureBuilder(len(users))
        fb.hashed("condition", [as_str_list(p.get("conditions")) for p in props], 32)
        fb.hashed("goal", [as_str_list(p.get("goals")) for p in props], 16)
        fb.one_hot("age_band", [p.get("age_band") for p in props], AGE_BANDS)
        fb.one_hot("sex", [p.get("sex") for p in props], SEXES)
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
        """Drop contraindicated items (always) and, if on, items outside the user's age band;
        boost items matching a declared condition; give every result a reason."""
        cfg = self.resolve_config(config)
        props = user.properties if user else {}
        conditions = set(as_str_list(props.get("conditions")))
        goals = set(as_str_list(props.get("goals")))
        band = props.get("age_band")
        pool = dedupe(candidates)
        scale = score_scale(pool)
        out: list[Candidate] = []
        for c in pool:
            if contraindicated(c.properties, conditions):
                continue
            audience = as_str_list(c.properties.get("audience"))
            outside = bool(audience) and band and band not in audience
            if outside and self.rule_enabled(cfg, "audience_filter"):
                continue
            matched = sorted(conditions & set(as_str_list(c.properties.get("condition_tags"))))
            if matched and self.rule_enabled(cfg, "condition_boost"):
                c = c.with_score(c.score + float(cfg["condition_boost_weight"]) * scale)
            out.append(c.with_reason(c.reason or self._reason(c, matched, goals, band, user)))
        return sort_by_score(out)

    @staticmethod
    def _reason(
        c: Candidate, matched: list[str], goals: set[str], band: Any, user: UserRecord | None
    ) -> str:
        if matched:
            return "Relevant to your condition: " + ", ".join(matched)
        goal_hits = sorted(goals & set(as_str_list(c.properties.get("condition_tags"))))
        if goal_hits:
            return "Supports your goal: " + ", ".join(goal_hits)
        if band and band in as_str_list(c.properties.get("audience")):
            return f"Suitable for your age group ({band})"
        if user is None:
            return "Popular with our readers"
        return "Popular with people with similar interests"
