"""Content domain: videos, articles, films, podcasts.

Items carry genres/tags, language, duration and publish time. Interactions ``view`` (value =
dwell seconds) < ``like`` < ``share``, and ``rating`` (value = stars, 0.5–5) for explicit star
ratings of films, series or books: its weight grows with the stars, so a 4-star rating counts
as a like, a 5-star one more, and a 1-star one less than a view. Serving applies freshness
decay, an age gate for adult content and, optionally, the user's preferred languages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from domains.base import Domain
from domains.extractors import (
    FeatureBuilder,
    as_float,
    as_str_list,
    behaviour_aggregates,
    concat,
    event_ids,
    time_context,
)
from domains.records import Candidate, InteractionRecord, ItemRecord, UserRecord, to_datetime
from domains.rules import dedupe, score_scale, sort_by_score
from engine.features import FeatureMatrix

#: Fixed genre vocabulary (MovieLens' genres plus common streaming/publishing ones).
GENRES = (
    "action", "adventure", "animation", "children", "comedy", "crime", "documentary", "drama",
    "fantasy", "film-noir", "horror", "imax", "musical", "mystery", "romance", "sci-fi",
    "thriller", "war", "western", "news", "sports", "music", "education", "lifestyle",
)  # fmt: skip
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "ja", "ko", "zh", "hi", "ru", "ar")
MATURITY = ("all", "teen", "adult")
GENDERS = ("female", "male", "nonbinary")
_LANG = {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"}


def publish_time(properties: Mapping[str, Any]) -> datetime | None:
    """``published_at`` (ISO 8601), else 1 July of ``year``; ``None`` when unknown."""
    stamp = to_datetime(properties.get("published_at"))
    if stamp is None and isinstance(properties.get("published_at"), str):
        return None
    year = as_float(properties.get("year"))
    if stamp is None and year is not None and 1 <= year <= 9999:
        stamp = datetime(int(year), 7, 1, tzinfo=UTC)
    return stamp


@lru_cache(maxsize=65_536)
def _publish_epoch(published_at: Any, year: Any) -> float | None:
    stamp = publish_time({"published_at": published_at, "year": year})
    return stamp.timestamp() if stamp is not None else None


def publish_epoch(properties: Mapping[str, Any]) -> float | None:
    """:func:`publish_time` as POSIX seconds, memoised on the two properties it reads (the
    freshness rule asks for every candidate of every request)."""
    published_at, year = properties.get("published_at"), properties.get("year")
    try:
        return _publish_epoch(published_at, year)
    except TypeError:  # an unhashable value: nothing to memoise
        stamp = publish_time(properties)
        return stamp.timestamp() if stamp is not None else None


def rating_factor(stars: float | None) -> float:
    """Confidence factor of a star rating: ``stars / 4`` with stars clamped to [0.5, 5];
    1.0 (4 stars) when the value is missing or not a number."""
    if stars is None:
        return 1.0
    try:
        stars = float(stars)
    except (TypeError, ValueError):
        return 1.0
    if not math.isfinite(stars):
        return 1.0
    return min(5.0, max(0.5, stars)) / 4.0


def language_of(properties: Mapping[str, Any]) -> str | None:
    """Primary language subtag, lower-cased (``"en-GB"`` → ``"en"``)."""
    lang = properties.get("language")
    return lang.split("-")[0].lower() if isinstance(lang, str) and lang else None


class ContentDomain(Domain):
    """Media catalogue with engagement signals and freshness."""

    name = "content"
    version = "1.0.0"
    description = "Media and publishing: videos, articles, films, podcasts."
    item_schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 500},
            "genres": {"type": "array", "items": {"type": "string"}, "maxItems": 30},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 100},
            "language": _LANG,
            "duration_seconds": {"type": "number", "minimum": 0, "maximum": 1e6},
            "published_at": {"type": "string", "format": "date-time"},
            "year": {"type": "integer", "minimum": 1800, "maximum": 2100},
            "creator": {"type": "string", "maxLength": 300},
            "maturity": {"enum": list(MATURITY)},
        },
    }
    user_schema = {
        "type": "object",
        "properties": {
            "age": {"type": "integer", "minimum": 0, "maximum": 130},
            "gender": {"enum": list(GENDERS)},
            "occupation": {"type": "string", "maxLength": 100},
            "preferred_languages": {"type": "array", "items": _LANG, "maxItems": 20},
        },
    }
    goal_types = ("like", "share", "rating")  # a rating says the film was watched
    attribution_window_hours = 24
    interaction_types = {"view": 1.0, "like": 3.0, "share": 5.0, "rating": 3.0}
    weight_order = (("view", "like", "share"),)
    rule_switches = {"freshness": True, "age_gate": True, "language_filter": False}
    parameters = {
        "freshness_half_life_days": {"type": "number", "exclusiveMinimum": 0, "default": 30.0},
        "freshness_weight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.3},
        "adult_age": {"type": "integer", "minimum": 0, "maximum": 30, "default": 18},
    }

    def value_factor(self, type: str, value: float | None) -> float:
        """A view's dwell seconds: 0 s → 0.25, 30 s → 1, 5 min → ≈2.8, capped at 3.

        A rating's stars (0.5–5; above 5 counts as 5, 0 or less as 0.5): ``stars / 4``, so
        with the default weight 3 a 5-star rating weighs 3.75 (between a like and a share),
        4 stars 3 (a like), 3 stars 2.25, 2 stars 1.5 and 1 star 0.75 (less than a view).
        A rating without a value counts as 4 stars.
        """
        if type == "rating":
            return rating_factor(value)
        if type != "view" or value is None or value < 0:
            return 1.0
        return min(3.0, 0.25 + 0.75 * math.log1p(value / 30.0) / math.log(2.0))

    def item_features(
        self, items: Sequence[ItemRecord], *, config: Mapping[str, Any] | None = None
    ) -> FeatureMatrix:
        """(n_items, 77): genres (24 fixed), tags#32, language (12+other), log duration
        (minutes), publish year ((year − 2000) / 25), maturity."""
        props = [i.properties for i in items]
        fb = FeatureBuilder(len(items))
        fb.multi_hot("genre", [as_str_list(p.get("genres")) for p in props], GENRES)
        tags = [
            as_str_list(p.get("tags")) + as_str_list(list(i.categories))
            for p, i in zip(props, items, strict=True)
        ]
        fb.hashed("tag", tags, 32)
        fb.one_hot("language", [language_of(p) for p in props], LANGUAGES)
        fb.numeric(
            "log_duration_min",
            [p.get("duration_seconds") for p in props],
            transform=lambda s: math.log1p(s / 60.0),
        )
        years = [publish_time(p) for p in props]
        fb.numeric(
            "year",
            [y.year + (y.timetuple().tm_yday / 366.0) if y else None for y in years],
            transform=lambda y: (y - 2000.0) / 25.0,
        )
        fb.one_hot("maturity", [p.get("maturity") for p in props], MATURITY)
        return fb.build([i.item_id for i in items])

    def user_features(
        self,
        users: Sequence[UserRecord],
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
        items: Sequence[ItemRecord] | None = None,
    ) -> FeatureMatrix:
        """Age, gender, occupation#16, preferred languages + H_u aggregates."""
        props = [u.properties for u in users]
        fb = FeatureBuilder(len(users))
        fb.numeric("age", [p.get("age") for p in props], transform=lambda a: a / 100.0)
        fb.one_hot("gender", [p.get("gender") for p in props], GENDERS)
        fb.hashed("occupation", [as_str_list(p.get("occupation")) for p in props], 16)
        fb.multi_hot(
            "pref_language",
            [[x.split("-")[0] for x in as_str_list(p.get("preferred_languages"))] for p in props],
            LANGUAGES,
        )
        ids = [u.user_id for u in users]
        aggregates = behaviour_aggregates(self, users, interactions, config=config, items=items)
        return concat(ids, fb.build(ids), aggregates)

    def interaction_features(
        self,
        interactions: Sequence[InteractionRecord],
        *,
        config: Mapping[str, Any] | None = None,
    ) -> FeatureMatrix:
        """Context per event (n_events, 6): hour of day (sin, cos), weekend, has_time,
        log1p(dwell minutes) of views, and the event's confidence weight (log1p)."""
        fb = time_context(interactions)
        fb.block(
            ["log_dwell_min"],
            [
                [math.log1p(max(0.0, e.value or 0.0) / 60.0) if e.type == "view" else 0.0]
                for e in interactions
            ],
        )
        known = [e.type in self.interaction_types for e in interactions]
        weights = [
            math.log1p(self.interaction_weight(e.type, e.value, config=config)) if ok else 0.0
            for e, ok in zip(interactions, known, strict=True)
        ]
        fb.block(["log_weight"], [[w] for w in weights])
        return fb.build(event_ids(interactions))

    def apply_rules(
        self,
        *,
        user: UserRecord | None,
        history: Sequence[InteractionRecord],
        candidates: Sequence[Candidate],
        config: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> list[Candidate]:
        """Age gate (adult items only for known adults), language filter, freshness decay.

        Freshness: ``score += weight · max|score| · (0.5^(age_days / half_life) − 1)``, so an
        item published now loses nothing and an unknown publish time counts as one half-life.
        """
        cfg = self.resolve_config(config)
        now = now or datetime.now(UTC)
        props = user.properties if user else {}
        age = as_float(props.get("age"))
        adult = age is not None and age >= float(cfg["adult_age"])
        langs = {x.split("-")[0] for x in as_str_list(props.get("preferred_languages"))}
        gated = self.rule_enabled(cfg, "age_gate") and not adult
        by_language = self.rule_enabled(cfg, "language_filter") and bool(langs)
        fresh = self.rule_enabled(cfg, "freshness")
        pool = dedupe(candidates)
        out: list[Candidate] = []
        scale = score_scale(pool)
        now_s = now.timestamp()
        weight = float(cfg["freshness_weight"]) * scale
        half_life = float(cfg["freshness_half_life_days"])
        for c in pool:
            if gated and c.properties.get("maturity") == "adult":
                continue
            if by_language:
                lang = language_of(c.properties)
                if lang and lang not in langs:
                    continue
            if fresh:
                c = self._decay(c, now_s, weight, half_life)
            out.append(c)
        return sort_by_score(out)

    @staticmethod
    def _decay(c: Candidate, now_s: float, weight: float, half_life: float) -> Candidate:
        published = publish_epoch(c.properties)
        if published is None:  # unknown: one half-life
            return Candidate(c.item_id, float(c.score - 0.5 * weight), c.properties, c.reason)
        age_days = (now_s - published) / 86400.0
        decay = 0.5 ** (max(0.0, age_days) / half_life)
        reason = "New this week" if age_days < 7 and c.reason is None else c.reason
        return Candidate(c.item_id, float(c.score + weight * (decay - 1.0)), c.properties, reason)
