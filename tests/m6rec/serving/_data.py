"""Synthetic serving data shared by the fixtures and the tests.

80 users in two taste groups; even users interact with items i0..i29, odd users with i30..i59
(12 each, fixed seed).
"""

from __future__ import annotations

import numpy as np

N_USERS, N_ITEMS, PER_USER = 80, 60, 12

USERS_URL = "/api/v1/users/{}/recommendations"
SESSION_URL = "/api/v1/recommendations"
SIMILAR_URL = "/api/v1/items/{}/similar"
POPULAR_URL = "/api/v1/popular"


def group_items(group: int) -> list[str]:
    return [f"i{j}" for j in (range(0, 30) if group == 0 else range(30, 60))]


def synthetic_pairs() -> list[tuple[str, str]]:
    rng = np.random.default_rng(7)
    pairs = []
    for u in range(N_USERS):
        pool = np.arange(0, 30) if u % 2 == 0 else np.arange(30, 60)
        for j in rng.choice(pool, size=PER_USER, replace=False):
            pairs.append((f"u{u}", f"i{j}"))
    return pairs


def seen_by(user: str) -> set[str]:
    return {i for u, i in synthetic_pairs() if u == user}
