"""Education domain: courses with subject, level, prerequisites and duration.

Interactions ``view`` < ``enroll`` < ``complete``, plus ``progress`` (value = fraction 0..1)
and ``quiz`` (value = score, 0..1 or 0..100). Serving excludes completed courses and ranks
courses whose prerequisites the user lacks after those the user can take now.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domains.base import Domain
from domains.extractors import FeatureBuilder, as_str_list, behaviour_aggregates, concat
from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord
from domains.rules import dedupe, sort_by_score
from domains.social import as_str_list_raw
from engine.features import FeatureMatrix

LEVELS = ("beginner", "intermediate", "advanced", "expert")
FORMATS = ("video", "text", "interactive", "live")


def completed_courses(user: UserRecord | None, history: Sequence[InteractionRecord]) -> set[str]:
    """Completed: a ``complete`` event, ``progress`` ≥ 1, or listed in ``completed_courses``."""
    done = {
        e.item_id
        for e in history
        if e.type == "complete" or (e.type == "progress" and (e.value or 0) >= 1.0)
    }
    if user is not None:
        done |= set(as_str_list_raw(user.properties.get("completed_courses")))
    return done


class EducationDomain(Domain):
    """Courses and learning paths."""

    name = "education"
    version = "1.0.0"
    description = "Online learning: courses, prerequisites and progress."
    item_schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 500},
            "subject": {"type": "string", "maxLength": 200},
            "level": {"enum": list(LEVELS)},
            "prerequisites": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
            "duration_hours": {"type": "number", "minimum": 0, "maximum": 10000},
            "skills": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
            "format": {"enum": list(FORMATS)},
            "language": {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"},
        },
    }
    user_schema = {
        "type": "object",
        "properties": {
            "level": {"enum": list(LEVELS)},
            "interests": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
            "completed_courses": {"type": "array", "items": {"type": "string"}},
            "age": {"type": "integer", "minimum": 3, "maximum": 130},
        },
    }
    goal_types = ("enroll", "complete")
    attribution_window_hours = 336
    interaction_types = {
        "view": 0.5,
        "enroll": 3.0,
        "progress": 2.0,
        "quiz": 2.0,
        "complete": 8.0,
    }
    weight_order = (("view", "enroll", "complete"), ("view", "progress", "complete"))
    rule_switches = {"hide_missing_prerequisites": False}
    parameters: dict[str, dict[str, Any]] = {}

    def value_factor(self, type: str, value: float | None) -> float:
        """progress: 0.5 + fraction (0.5..1.5); quiz: 0.5 + score (score in 0..1; >1 → /100)."""
        if value is None or type not in ("progress", "quiz"):
            return 1.0
        fraction = value / 100.0 if type == "quiz" and value > 1.0 else value
        return 0.5 + min(1.0, max(0.0, fraction))

    def item_features(
        self, items: Sequence[ItemRecord], *, config: Mapping[str, Any] | None = None
    ) -> FeatureMatrix:
        """(n_items, 95): subject#32, skills#32, level (4+other + ordinal), log duration,
        log1p(#prerequisites), format, language#16."""
        props = [i.properties for i in items]
        fb = FeatureBuilder(len(items))
        subjects = [
            as_str_list(p.get("subject")) + as_str_list(list(i.categories))
            for p, i in zip(props, items, strict=True)
        ]
        fb.hashed("subject", subjects, 32)
        fb.hashed("skill", [as_str_list(p.get("skills")) for p in props], 32)
        fb.one_hot("level", [p.get("level") for p in props], LEVELS)
        fb.numeric(
            "level_ordinal",
            [LEVELS.index(p["level"]) if p.get("level") in LEVELS else None for p in props],
            transform=lambda x: x / 3.0,
        )
        fb.numeric("log_hours", [p.get("duration_hours") for p in props], transform=math.log1p)
        fb.block(
            ["log_prerequisites"],
            [[math.log1p(len(as_str_list_raw(p.get("prerequisites"))))] for p in props],
        )
        fb.one_hot("format", [p.get("format") for p in props], FORMATS)
        fb.hashed("language", [as_str_list(p.get("language")) for p in props], 16)
        return fb.build([i.item_id for i in items])

    def user_features(
        self,
        users: Sequence[UserRecord],
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
        items: Sequence[ItemRecord] | None = None,
    ) -> FeatureMatrix:
        """Level, interests#32 (subject buckets), age, #completed + H_u aggregates."""
        props = [u.properties for u in users]
        fb = FeatureBuilder(len(users))
        fb.one_hot("level", [p.get("level") for p in props], LEVELS)
        fb.hashed("subject", [as_str_list(p.get("interests")) for p in props], 32)
        fb.numeric("age", [p.get("age") for p in props], transform=lambda a: a / 100.0)
        fb.block(
            ["log_completed"],
            [[math.log1p(len(as_str_list_raw(p.get("completed_courses"))))] for p in props],
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
        """Exclude completed courses; courses with missing prerequisites go after all the
        courses the user can take (each group by score) with a reason naming what is missing;
        ``hide_missing_prerequisites`` drops them instead."""
        cfg = self.resolve_config(config)
        done = completed_courses(user, history)
        ready: list[Candidate] = []
        blocked: list[Candidate] = []
        for c in dedupe(candidates):
            if c.item_id in done:
                continue
            prereqs = as_str_list_raw(c.properties.get("prerequisites"))
            missing = [p for p in prereqs if p not in done]
            if missing:
                if not self.rule_enabled(cfg, "hide_missing_prerequisites"):
                    blocked.append(c.with_reason("Requires first: " + ", ".join(missing)))
                continue
            if prereqs and c.reason is None:
                c = c.with_reason("Next step after " + ", ".join(prereqs))
            ready.append(c)
        return sort_by_score(ready) + sort_by_score(blocked)
