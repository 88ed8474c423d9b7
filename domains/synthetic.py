"""Synthetic tenants per domain with planted preferences, for tests and the benchmark.

Every item belongs to a hidden *segment* (category, genre, topic, condition, subject) that is
visible through its properties; every user prefers one segment, and some users also declare it
(interests, conditions). Users pick items with probability ∝ exp(affinity·[same segment] +
popularity) and escalate along the domain's interaction funnel more often on preferred items,
so a model that reads the domain's features can recover the preference from few events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from domains.records import InteractionRecord, ItemRecord, UserRecord

SEGMENTS: dict[str, tuple[str, ...]] = {
    "ecommerce": ("Electronics", "Home", "Beauty", "Sports", "Toys", "Books", "Garden", "Grocery"),
    "content": (
        "action",
        "comedy",
        "drama",
        "horror",
        "romance",
        "sci-fi",
        "documentary",
        "animation",
    ),
    "social": ("photography", "cooking", "fitness", "travel", "gaming", "music", "tech", "fashion"),
    "health": (
        "diabetes",
        "hypertension",
        "asthma",
        "depression",
        "arthritis",
        "migraine",
        "insomnia",
        "obesity",
    ),
    "education": (
        "python",
        "statistics",
        "design",
        "marketing",
        "finance",
        "biology",
        "spanish",
        "music-theory",
    ),
}
#: Funnel per domain: the first type is the entry event, each later one is reached with a
#: probability that is higher for preferred items (see ``_events``).
FUNNELS: dict[str, tuple[str, ...]] = {
    "ecommerce": ("view", "add_to_cart", "purchase"),
    "content": ("view", "like", "share"),
    "social": ("view", "like", "comment"),
    "health": ("view", "save", "consult", "follow_up"),
    "education": ("view", "enroll", "progress", "complete"),
}
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
LEVELS = ("beginner", "intermediate", "advanced", "expert")
AGE_BANDS = ("child", "teen", "adult", "senior")


@dataclass
class SyntheticDataset:
    """A generated tenant: records plus the planted truth (segment per item and per user)."""

    domain: str
    items: list[ItemRecord]
    users: list[UserRecord]
    interactions: list[InteractionRecord]
    item_segment: dict[str, str] = field(default_factory=dict)
    user_segment: dict[str, str] = field(default_factory=dict)


ItemMaker = Callable[[np.random.Generator, int, str, int], tuple[dict[str, Any], list[str]]]
UserMaker = Callable[[np.random.Generator, int, str, bool], dict[str, Any]]


def _ecommerce_item(rng, i, seg, n_users):
    sub = f"{seg.lower()}-{int(rng.integers(3))}"
    stock = 0 if rng.random() < 0.1 else int(rng.integers(1, 500))
    props = {
        "title": f"{seg} product {i}",
        "price": round(float(rng.lognormal(3.0 + 0.2 * len(seg) % 3, 0.6)), 2),
        "currency": "EUR",
        "brand": f"{seg}-brand-{int(rng.integers(4))}",
        "category_path": f"{seg} > {sub}",
        "stock": stock,
        "rating": round(float(rng.uniform(2.5, 5.0)), 1),
        "on_sale": bool(rng.random() < 0.2),
        "consumable": seg in ("Grocery", "Beauty"),
    }
    return props, [seg]


def _ecommerce_user(rng, u, seg, declares):
    return {
        "age": int(rng.integers(18, 80)),
        "gender": str(rng.choice(["female", "male", "nonbinary"], p=[0.48, 0.48, 0.04])),
        "country": str(rng.choice(["DE", "FR", "ES", "IT", "NL"])),
        "loyalty_tier": str(rng.choice(["none", "silver", "gold", "platinum"])),
    }


def _content_item(rng, i, seg, n_users):
    genres = [seg] + ([str(rng.choice(SEGMENTS["content"]))] if rng.random() < 0.3 else [])
    published = BASE_TIME - timedelta(days=float(rng.uniform(0, 3650)))
    props = {
        "title": f"{seg.title()} title {i}",
        "genres": sorted(set(genres)),
        "tags": [f"{seg}-tag-{int(rng.integers(5))}"],
        "language": str(rng.choice(["en", "en", "en", "fr", "es"])),
        "duration_seconds": float(rng.integers(300, 9000)),
        "published_at": published.isoformat(),
        "maturity": str(rng.choice(["all", "teen", "adult"], p=[0.6, 0.3, 0.1])),
    }
    return props, []


def _content_user(rng, u, seg, declares):
    return {
        "age": int(rng.integers(12, 80)),
        "gender": str(rng.choice(["female", "male"])),
        "occupation": str(rng.choice(["student", "engineer", "artist", "retired", "other"])),
        "preferred_languages": ["en"],
    }


def _social_item(rng, i, seg, n_users):
    if i % 2 == 0:
        props = {
            "kind": "person",
            "user_id": f"user-{int(rng.integers(n_users))}",
            "display_name": f"Person {i}",
            "interests": [seg],
            "follower_count": int(rng.lognormal(4, 1.5)),
        }
    else:
        props = {
            "kind": "post",
            "author_id": f"user-{int(rng.integers(n_users))}",
            "topics": [seg],
            "media_type": str(rng.choice(["text", "image", "video", "link"])),
            "created_at": (BASE_TIME - timedelta(days=float(rng.uniform(0, 60)))).isoformat(),
        }
    return props, []


def _social_user(rng, u, seg, declares):
    other = str(rng.choice(SEGMENTS["social"]))
    return {
        "interests": sorted({seg, other}) if declares else [other],
        "age": int(rng.integers(16, 70)),
    }


def _health_item(rng, i, seg, n_users):
    others = [c for c in SEGMENTS["health"] if c != seg]
    contra = [str(rng.choice(others))] if rng.random() < 0.15 else []
    audience = sorted(set(rng.choice(AGE_BANDS[1:], size=int(rng.integers(1, 4)))))
    props = {
        "title": f"Living with {seg} ({i})",
        "kind": str(rng.choice(["article", "program", "provider", "product"])),
        "condition_tags": [seg],
        "contraindications": contra,
        "audience": [str(a) for a in audience],
        "evidence_level": str(rng.choice(["A", "B", "C", "expert"])),
    }
    return props, []


def _health_user(rng, u, seg, declares):
    return {
        "conditions": [seg] if declares else [],
        "goals": [str(rng.choice(["sleep better", "lose weight", "reduce stress"]))],
        "age_band": str(rng.choice(AGE_BANDS[1:], p=[0.1, 0.6, 0.3])),
        "sex": str(rng.choice(["female", "male"])),
    }


def _education_item(rng, i, seg, n_users):
    level = LEVELS[int(rng.integers(len(LEVELS)))]
    props = {
        "title": f"{seg.title()} {level} {i}",
        "subject": seg,
        "level": level,
        "prerequisites": [],
        "duration_hours": float(rng.integers(2, 60)),
        "skills": [f"{seg}-skill-{int(rng.integers(6))}"],
        "format": str(rng.choice(["video", "text", "interactive", "live"])),
        "language": "en",
    }
    return props, []


def _education_user(rng, u, seg, declares):
    return {
        "level": LEVELS[int(rng.integers(3))],
        "interests": [seg] if declares else [],
        "age": int(rng.integers(16, 65)),
    }


MAKERS: dict[str, tuple[ItemMaker, UserMaker]] = {
    "ecommerce": (_ecommerce_item, _ecommerce_user),
    "content": (_content_item, _content_user),
    "social": (_social_item, _social_user),
    "health": (_health_item, _health_user),
    "education": (_education_item, _education_user),
}


def _value(domain: str, type_: str, rng: np.random.Generator, liked: bool) -> float | None:
    if domain == "content" and type_ == "view":
        return float(rng.exponential(240.0 if liked else 60.0))
    if domain == "ecommerce" and type_ == "purchase":
        return float(rng.integers(1, 4))
    if domain == "education" and type_ == "progress":
        return round(float(rng.uniform(0.3 if liked else 0.0, 1.0)), 2)
    return None


def _link_prerequisites(items: list[ItemRecord], rng: np.random.Generator) -> list[ItemRecord]:
    """Education: ~40% of non-beginner courses require an easier course of the same subject."""
    out = []
    for item in items:
        props = dict(item.properties)
        level = LEVELS.index(props["level"])
        easier = [
            o.item_id
            for o in items
            if o.properties["subject"] == props["subject"]
            and LEVELS.index(o.properties["level"]) < level
        ]
        if easier and rng.random() < 0.4:
            props["prerequisites"] = [str(rng.choice(easier))]
        out.append(ItemRecord(item.item_id, props, item.categories, item.active))
    return out


def generate(
    domain: str,
    *,
    n_users: int = 300,
    n_items: int = 400,
    events_per_user: float = 12.0,
    affinity: float = 3.0,
    declare_rate: float = 0.6,
    seed: int = 0,
) -> SyntheticDataset:
    """A synthetic tenant for ``domain`` (one of :data:`SEGMENTS`); deterministic per seed.

    ``events_per_user`` is the mean number of distinct items a user touches (Poisson, ≥ 2);
    ``affinity`` is the log-odds boost of the preferred segment; ``declare_rate`` the share
    of users who declare their preference in their properties (where the domain has one).
    """
    if domain not in MAKERS:
        raise KeyError(f"no synthetic generator for {domain!r}; known: {', '.join(MAKERS)}")
    rng = np.random.default_rng(seed)
    segments, funnel = SEGMENTS[domain], FUNNELS[domain]
    item_maker, user_maker = MAKERS[domain]
    item_seg = [segments[int(s)] for s in rng.integers(len(segments), size=n_items)]
    items = []
    for i, seg in enumerate(item_seg):
        props, categories = item_maker(rng, i, seg, n_users)
        items.append(ItemRecord(f"item-{i}", props, tuple(categories), True))
    if domain == "education":
        items = _link_prerequisites(items, rng)
    user_seg = [segments[int(s)] for s in rng.integers(len(segments), size=n_users)]
    users = [
        UserRecord(f"user-{u}", user_maker(rng, u, seg, bool(rng.random() < declare_rate)))
        for u, seg in enumerate(user_seg)
    ]
    popularity = rng.normal(0.0, 1.0, size=n_items)
    seg_arr = np.array(item_seg)
    interactions: list[InteractionRecord] = []
    for u, seg in enumerate(user_seg):
        logits = popularity + affinity * (seg_arr == seg)
        p = np.exp(logits - logits.max())
        k = int(min(n_items, max(2, rng.poisson(events_per_user))))
        chosen = rng.choice(n_items, size=k, replace=False, p=p / p.sum())
        for j in chosen:
            liked = bool(item_seg[j] == seg)
            t = BASE_TIME + timedelta(days=float(rng.uniform(0, 90)))
            for step, type_ in enumerate(funnel):
                if step and rng.random() > (0.55 if liked else 0.2):
                    break
                stamp = t + timedelta(minutes=5 * step)
                value = _value(domain, type_, rng, liked)
                interactions.append(
                    InteractionRecord(f"user-{u}", f"item-{j}", type_, value, stamp)
                )
    return SyntheticDataset(
        domain=domain,
        items=items,
        users=users,
        interactions=interactions,
        item_segment={it.item_id: s for it, s in zip(items, item_seg, strict=True)},
        user_segment={us.user_id: s for us, s in zip(users, user_seg, strict=True)},
    )
