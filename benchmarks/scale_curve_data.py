"""The scale curve's synthetic data set (scale_curve.py): implicit feedback with Zipf-like
item popularity, planted user tastes, distinct (user, item) pairs and timestamps over one year.
"""

from __future__ import annotations

import dataclasses

import numpy as np

YEAR_S = 365 * 86_400
T0 = 1_704_067_200  # 2024-01-01T00:00:00Z
_CHUNK = 1 << 22  # rows per vectorised draw (bounds the generator's temporaries)


@dataclasses.dataclass
class Synthetic:
    """Generated rows: (n,) int32 user and item indices, float32 weights, int64 timestamps."""

    users: np.ndarray
    items: np.ndarray
    weights: np.ndarray
    timestamps: np.ndarray
    info: dict


def generate(
    n_interactions: int,
    n_items: int,
    n_users: int,
    *,
    seed: int = 42,
    zipf: float = 1.0,
    p_home: float = 0.45,
    p_second: float = 0.20,
    activity_sigma: float = 1.0,
    min_per_user: int = 3,
    max_rounds: int = 12,
) -> Synthetic:
    """Implicit feedback with planted tastes; deterministic for a seed, vectorised numpy.

    Items: popularity ``(rank + 1) ** -zipf`` (rank a random permutation of the ids) and a
    latent cluster each (``clip(n_items / 500, 8, 512)`` clusters, sizes equal within one).
    Users: a home and a second cluster, and an activity (lognormal, ``activity_sigma``) scaled
    to ``n_interactions`` in total, at least ``min_per_user`` and at most ``n_items / 5`` each.
    A user's item is drawn from the mixture ``p_home`` × (home cluster ∝ popularity) +
    ``p_second`` × (second cluster ∝ popularity) + rest × (all items ∝ popularity), i.e.
    P(i | u) ∝ popularity_i · exp(affinity(u, cluster_i)) with affinity = log(1 + p_c · M /
    (p_rest · M_c)) for the user's two clusters (M: popularity mass) and 0 elsewhere.
    Pairs are distinct: duplicates are dropped and the users short of their count draw again
    (``max_rounds`` rounds; what is still missing then is reported in ``info["shortfall"]``).
    Timestamps are uniform over 2024 (rows returned in time order, as a store would list
    them); weights are 1.0.

    Memory: about 40 bytes per interaction at the peak (int64 pair keys and their sort), plus
    ``_CHUNK``-row temporaries for the draws.
    """
    if not 0 < n_items < 2**31 or not 0 < n_users < 2**31:
        raise ValueError("n_items and n_users must be in 1 .. 2**31 - 1")
    rng = np.random.default_rng(seed)
    n_clusters = int(min(max(n_items // 500, 8), 512, max(n_items // 2, 1)))

    # items: Zipf-like popularity and a cluster each, laid out by cluster for inverse-CDF draws
    rank = rng.permutation(n_items)
    pop = (rank + 1.0) ** -zipf
    cluster = rng.permutation(np.arange(n_items) % n_clusters).astype(np.int32)
    order = np.argsort(cluster, kind="stable").astype(np.int32)
    cum = np.cumsum(pop[order])
    cum0 = np.concatenate([[0.0], cum])
    bounds = np.searchsorted(cluster[order], np.arange(n_clusters + 1))
    mass_before = cum0[bounds[:-1]]
    mass = cum0[bounds[1:]] - mass_before
    del rank, pop, cluster

    # users: two favourite clusters and an activity level
    home = rng.integers(0, n_clusters, n_users, dtype=np.int32)
    second = ((home + rng.integers(1, n_clusters, n_users)) % n_clusters).astype(np.int32)
    cap = max(min_per_user, n_items // 5)
    act = rng.lognormal(0.0, activity_sigma, n_users)
    # water-filling: min_per_user + scale · activity, capped, summing to n_interactions
    lo_s, hi_s = 0.0, float(n_interactions) / act.min()
    for _ in range(60):
        mid = 0.5 * (lo_s + hi_s)
        if np.minimum(min_per_user + mid * act, cap).sum() > n_interactions:
            hi_s = mid
        else:
            lo_s = mid
    target = np.floor(np.minimum(min_per_user + lo_s * act, cap)).astype(np.int64)
    free = np.flatnonzero(target < cap)
    short = min(n_interactions - int(target.sum()), len(free))
    if short > 0:  # the floors' remainder: one more row for that many random users
        target[rng.choice(free, short, replace=False)] += 1
    del act

    def draw(row_users: np.ndarray) -> np.ndarray:
        out = np.empty(len(row_users), dtype=np.int32)
        total = cum[-1]
        for s in range(0, len(row_users), _CHUNK):
            u = row_users[s : s + _CHUNK]
            r = rng.random(len(u))
            c = np.where(r < p_home, home[u], second[u])
            anywhere = r >= p_home + p_second
            lo, span = mass_before[c], mass[c]
            first, last = bounds[c], bounds[c + 1] - 1
            lo[anywhere], span[anywhere] = 0.0, total
            first[anywhere], last[anywhere] = 0, n_items - 1
            idx = np.searchsorted(cum, lo + rng.random(len(u)) * span, side="right")
            np.clip(idx, first, last, out=idx)  # float rounding at a cluster's edge
            out[s : s + len(u)] = order[idx]
        return out

    user_range = np.arange(n_users, dtype=np.int32)
    rows = np.repeat(user_range, target)
    keys = rows.astype(np.int64) * n_items + draw(rows)
    del rows
    keys.sort()  # np.sort + mask: numpy 2.3's hash-based np.unique is ~10x slower here
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    missing = []  # rows still missing before each top-up round
    for rounds in range(1, max_rounds + 1):
        deficit = target - np.bincount(keys // n_items, minlength=n_users)
        missing.append(int(deficit.sum()))
        if not missing[-1]:
            break
        who = np.flatnonzero(deficit)
        extra_u = np.repeat(user_range[who], deficit[who] * 2 ** min(rounds, 5) + 2)
        extra = extra_u.astype(np.int64) * n_items + draw(extra_u)
        del extra_u
        pos = np.minimum(np.searchsorted(keys, extra), len(keys) - 1)
        extra = extra[keys[pos] != extra]  # not held yet
        _, first = np.unique(extra, return_index=True)
        extra = extra[np.sort(first)]  # distinct, in draw order (grouped by user)
        eu = extra // n_items
        rank_in_user = np.arange(len(extra)) - np.searchsorted(eu, eu, side="left")
        extra = np.sort(extra[rank_in_user < deficit[eu]])
        keys = np.sort(np.concatenate([keys, extra]), kind="stable")  # merges two sorted runs
        del extra, eu, rank_in_user, pos, first
    n = len(keys)
    ts = rng.integers(T0, T0 + YEAR_S, n, dtype=np.int64)
    by_time = np.argsort(ts, kind="stable")
    users = (keys // n_items).astype(np.int32)[by_time]
    items = (keys % n_items).astype(np.int32)[by_time]
    del keys
    ts = ts[by_time]
    del by_time
    info = {
        "seed": seed,
        "zipf": zipf,
        "clusters": n_clusters,
        "p_home": p_home,
        "p_second": p_second,
        "requested_interactions": int(n_interactions),
        "interactions": int(n),
        "shortfall": int(target.sum()) - n,
        "capped_users": int((target == cap).sum()),
        "missing_before_round": missing,
        "users_requested": int(n_users),
        "items_requested": int(n_items),
        "items_with_interactions": int(np.count_nonzero(np.bincount(items, minlength=n_items))),
        "max_per_user": int(target.max()),
    }
    return Synthetic(users, items, np.ones(n, dtype=np.float32), ts, info)
