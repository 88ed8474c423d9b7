"""Numpy-only scoring shared by training and serving: CF scores, candidates, fusion features.

The exact same code builds the fusion model's inputs when the pipeline trains it and when the
Recommender serves it, so the two can never drift apart. No TensorFlow here.

Per (user u, candidate item i) the feature vector is (D = 14 [+ du + di [+ 3f]]):
  0  z_ease   EASE score standardised over the user's eligible items
  1  z_mf     MF score (P_u·Q_i) standardised the same way
  2  ease     raw EASE score
  3  mf       raw MF score
  4  r_ease   log1p(rank by EASE among candidates) / log1p(C)
  5  r_mf     the same by MF
  6  r_cand   the same by the candidate score (z_ease + z_mf)
  7  pop      log1p(item popularity), standardised over the catalogue
  8  z_pop    popularity standardised over the user's eligible items
  9  tpop     log of the item's popularity at the user's active times (time histogram), std.
 10  tlift    tpop − pop (how much more the item is watched "when the user is active")
 11  n_user   log1p(history length)
 12  u_pop    mean pop of the user's history
 13  affinity cosine(mean item features of the history, item features)
 then, with feature_set "side" or "full", user features (du) and item features (di), and
 with "full" also P_u (f), Q_i (f), P_u ⊙ Q_i (f).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "BASE_FEATURES",
    "SECOND_MF_FEATURES",
    "ScoringContext",
    "UserBatch",
    "build_features",
    "cf_scores",
]

BASE_FEATURES = [
    "z_ease", "z_mf", "ease", "mf", "r_ease", "r_mf", "r_cand", "pop", "z_pop", "tpop",
    "tlift", "n_user", "u_pop", "affinity",
]  # fmt: skip


# with a second MF model (another factor count): its per-user z-score and candidate rank
SECOND_MF_FEATURES = ["z_mf2", "r_mf2"]


@dataclass
class ScoringContext:
    """Everything item-side (plus optional B) that scoring needs.

    Attributes:
        item_factors: (n_items, f) float32 MF item vectors Q.
        ease: (n_items, n_items) float32 EASE weights, or None (feature set to 0).
        pop_log: (n_items,) float32 log1p(popularity).
        item_time: (n_bins, n_items) float32 P(item | time bin), smoothed.
        item_features: (n_items, di) float32 standardised item features.
        item_feat_norm: (n_items,) float32 L2 norms of item_features (0 allowed).
        n_candidates: C, the candidate pool size the fusion model reranks.
    """

    item_factors: np.ndarray
    ease: np.ndarray | None
    pop_log: np.ndarray
    item_time: np.ndarray
    item_features: np.ndarray
    n_candidates: int

    def __post_init__(self) -> None:
        self.item_feat_norm = np.linalg.norm(self.item_features, axis=1).astype(np.float32)
        pl = self.pop_log
        self.pop_std = ((pl - pl.mean()) / max(float(pl.std()), 1e-6)).astype(np.float32)
        self.log_item_time = np.log(self.item_time + 1e-7).astype(np.float32)

    @property
    def n_items(self) -> int:
        return int(self.item_factors.shape[0])

    def moments(self, which: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(QᵀQ, ΣQ_i) in float64 for MF model 1 or 2 (cached; used with a candidate pool)."""
        cache = self.__dict__.setdefault("_moments", {})
        if which not in cache:
            q = (self.item_factors if which == 1 else self.item_factors2).astype(np.float64)
            cache[which] = (q.T @ q, q.sum(axis=0))
        return cache[which]

    @property
    def n_features(self) -> int:
        f = self.item_factors.shape[1]
        side = self.user_dim + self.item_features.shape[1] if self.feature_set != "base" else 0
        f = f if self.feature_set == "full" else 0
        second = len(SECOND_MF_FEATURES) if self.item_factors2 is not None else 0
        return len(BASE_FEATURES) + second + side + 3 * f

    user_dim: int = 0
    item_factors2: np.ndarray | None = None
    feature_set: str = "base"  # "base" | "side" (+ user/item features) | "full" (+ MF vectors)


@dataclass
class UserBatch:
    """A batch of n users to score.

    Attributes:
        history: (n, n_items) float32 dense 0/1 matrix of the users' items (binary).
        user_vectors: (n, f) float32 MF user vectors (trained or folded in).
        time_hist: (n, n_bins) float32 each user's distribution over time bins.
        user_features: (n, du) float32 standardised user features (zeros if unknown).
        eligible: (n, n_items) bool, items that may be recommended (not seen, allowed).
    """

    history: np.ndarray
    user_vectors: np.ndarray
    time_hist: np.ndarray
    user_features: np.ndarray
    eligible: np.ndarray
    user_vectors2: np.ndarray | None = None


def cf_scores(ctx: ScoringContext, batch: UserBatch) -> tuple[np.ndarray, np.ndarray]:
    """(ease, mf) raw scores, each (n, n_items) float32."""
    mf = batch.user_vectors @ ctx.item_factors.T
    if ctx.ease is not None and batch.history.shape[0] <= 4:
        # few users (serving): sum the EASE rows of the history instead of a dense matmul
        ease = np.stack([ctx.ease[np.flatnonzero(h)].sum(axis=0) for h in batch.history])
    elif ctx.ease is not None:
        ease = batch.history @ ctx.ease
    else:
        ease = np.zeros_like(mf)
    return ease.astype(np.float32), mf.astype(np.float32)


def _zscore(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Standardise each row over its ``mask``ed entries (population std)."""
    if x.shape[0] == 1:  # serving fast path, same arithmetic as below
        vals = x[0][mask[0]]
        if len(vals) == 0:
            return np.zeros_like(x, dtype=np.float32)
        mean = vals.mean(dtype=np.float64)
        var = np.mean((vals - mean) ** 2, dtype=np.float64)
        return ((x - mean) / np.sqrt(var + 1e-12)).astype(np.float32)
    cnt = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    xm = np.where(mask, x, 0.0)
    mean = xm.sum(axis=1, keepdims=True) / cnt
    var = (np.where(mask, (x - mean) ** 2, 0.0)).sum(axis=1, keepdims=True) / cnt
    return ((x - mean) / np.sqrt(var + 1e-12)).astype(np.float32)


def _rank_feature(scores: np.ndarray, c: int) -> np.ndarray:
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :], axis=1)
    return (np.log1p(ranks) / np.log1p(max(c, 1))).astype(np.float32)


def _pool_zscore(
    x: np.ndarray,
    factors: np.ndarray,
    gram: np.ndarray,
    col_sum: np.ndarray,
    u: np.ndarray,
    elig: np.ndarray,
) -> np.ndarray:
    """z-score of pool scores ``x`` (1, m) = u·Q[pool] with the mean/std of u·Q_i over *all*
    eligible items, without scoring the whole catalogue: Σx and Σx² over the catalogue are
    u·ΣQ_i and uᵀ(QᵀQ)u; the smaller of the eligible / ineligible sides is scored exactly."""
    u64 = u.astype(np.float64)
    n_el = int(elig.sum())
    if n_el == 0:
        return np.zeros_like(x, dtype=np.float32)
    if 2 * n_el >= len(elig):
        off = (factors[~elig] @ u).astype(np.float64)
        s1 = float(col_sum @ u64) - off.sum()
        s2 = float(u64 @ gram @ u64) - (off * off).sum()
    else:
        on = (factors[elig] @ u).astype(np.float64)
        s1, s2 = on.sum(), (on * on).sum()
    mean = s1 / n_el
    var = max(s2 / n_el - mean * mean, 0.0)
    return ((x - mean) / np.sqrt(var + 1e-12)).astype(np.float32)


def build_features(
    ctx: ScoringContext,
    batch: UserBatch,
    with_features: bool = True,
    pool: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Candidates and fusion features for a batch of users.

    ``pool`` (serving, one user, no EASE matrix): eligible item ids fetched by the ANN index;
    candidates are then taken from the pool only, scored exactly, and every per-user statistic
    (z-scores) is still computed over all eligible items, so the features equal the exact
    path's whenever the pool holds the exact candidates.

    Returns a dict with
        candidates: (n, C) int64 item ids, -1 where fewer than C items are eligible;
        cand_score: (n, C) float32 candidate score (z_ease + z_mf), -inf on padding;
        ease, mf, blend: (n, n_items) float32 full score rows (-inf where not eligible; with
            ``pool``, -inf outside the pool too, and without features "blend" is the raw MF);
        features: (n, C, D) float32 (only if ``with_features``).
    """
    n = batch.history.shape[0]
    elig = batch.eligible
    if pool is None:
        cols = None
        ease, mf = cf_scores(ctx, batch)
        z_e = _zscore(ease, elig) if ctx.ease is not None else np.zeros_like(ease)
        z_m = _zscore(mf, elig)
        el = elig
    else:
        if n != 1 or ctx.ease is not None:
            raise ValueError("a candidate pool needs one user and no EASE matrix")
        cols = np.asarray(pool, np.int64)
        u = batch.user_vectors[0]
        mf = (ctx.item_factors[cols] @ u)[None, :].astype(np.float32)
        ease = np.zeros_like(mf)
        z_e = ease
        # without features only the order matters: rank by the raw MF score (same order)
        z_m = (
            _pool_zscore(mf, ctx.item_factors, *ctx.moments(1), u, elig[0]) if with_features else mf
        )
        el = elig[:, cols]
    m_cols = ctx.n_items if cols is None else len(cols)
    blend = np.where(el, z_e + z_m, -np.inf).astype(np.float32)
    c = min(ctx.n_candidates, ctx.n_items)
    if c < m_cols:
        part = np.argpartition(-blend, c - 1, axis=1)[:, :c]
    else:
        part = np.tile(np.arange(m_cols), (n, 1))
    ps = np.take_along_axis(blend, part, axis=1)
    order = np.argsort(-ps, axis=1, kind="stable")
    local = np.take_along_axis(part, order, axis=1).astype(np.int64)
    cands = local if cols is None else cols[local]
    cscore = np.take_along_axis(ps, order, axis=1)
    if cscore.shape[1] < c:  # pool smaller than C: pad
        pad = c - cscore.shape[1]
        cands = np.pad(cands, ((0, 0), (0, pad)), constant_values=-1)
        local = np.pad(local, ((0, 0), (0, pad)))
        cscore = np.pad(cscore, ((0, 0), (0, pad)), constant_values=-np.inf)
    valid = np.isfinite(cscore)
    cands[~valid] = -1

    def full(row: np.ndarray) -> np.ndarray:
        if cols is None:
            return np.where(elig, row, -np.inf).astype(np.float32)
        out_row = np.full((1, ctx.n_items), -np.inf, np.float32)
        out_row[0, cols] = np.where(el[0], row[0], -np.inf)
        return out_row

    out = {
        "candidates": cands,
        "cand_score": cscore.astype(np.float32),
        "ease": full(ease),
        "mf": full(mf),
        "blend": blend if cols is None else full(blend),
    }
    if not with_features:
        return out
    safe_local = np.where(valid, local, 0)
    safe = np.where(valid, cands, 0)

    def g(m: np.ndarray) -> np.ndarray:  # a row over the catalogue at the candidates
        return m[:, safe[0]] if n == 1 else np.take_along_axis(m, safe, axis=1)

    def gl(m: np.ndarray) -> np.ndarray:  # a row over the scored columns at the candidates
        return m[:, safe_local[0]] if n == 1 else np.take_along_axis(m, safe_local, axis=1)

    ce, cm = gl(ease), gl(mf)
    cze, czm = gl(z_e), gl(z_m)
    neg = np.float32(-1e9)
    r_e = _rank_feature(np.where(valid, ce, neg), c)
    r_m = _rank_feature(np.where(valid, cm, neg), c)
    r_c = _rank_feature(np.where(valid, cscore, neg), c)
    pop = ctx.pop_std[safe]
    pop_row = np.broadcast_to(ctx.pop_std[None, :], elig.shape)
    z_pop = g(_zscore(pop_row, elig))
    # time: log P(i | bins of u) standardised over eligible items, and lift over plain pop
    lt = np.log(batch.time_hist @ ctx.item_time + 1e-7).astype(np.float32)
    z_t = _zscore(lt, elig)
    tpop = g(z_t)
    tlift = tpop - z_pop
    hist_n = batch.history.sum(axis=1)
    n_user = np.log1p(hist_n)[:, None] * np.ones((1, c), np.float32)
    u_pop = (batch.history @ ctx.pop_std) / np.maximum(hist_n, 1)
    u_pop = u_pop[:, None] * np.ones((1, c), np.float32)
    itf = ctx.item_features
    if itf.shape[1]:
        prof = (batch.history @ itf) / np.maximum(hist_n, 1)[:, None]
        pn = np.linalg.norm(prof, axis=1, keepdims=True)
        aff = np.einsum("nd,ncd->nc", prof, itf[safe]) / np.maximum(
            pn * ctx.item_feat_norm[safe], 1e-6
        )
    else:
        aff = np.zeros((n, c), np.float32)
    base = np.stack(
        [cze, czm, ce, cm, r_e, r_m, r_c, pop, z_pop, tpop, tlift, n_user, u_pop, aff], axis=-1
    ).astype(np.float32)
    blocks = [base]
    if ctx.item_factors2 is not None:
        if cols is None:
            mf2 = (batch.user_vectors2 @ ctx.item_factors2.T).astype(np.float32)
            cm2, z2 = g(mf2), g(_zscore(mf2, elig))
        else:
            u2 = batch.user_vectors2[0]
            cm2 = (ctx.item_factors2[safe[0]] @ u2)[None, :].astype(np.float32)
            z2 = _pool_zscore(cm2, ctx.item_factors2, *ctx.moments(2), u2, elig[0])
        blocks.append(np.stack([z2, _rank_feature(np.where(valid, cm2, neg), c)], axis=-1))
    if ctx.feature_set in ("side", "full"):
        du = batch.user_features.shape[1]
        blocks += [np.broadcast_to(batch.user_features[:, None, :], (n, c, du)), itf[safe]]
    if ctx.feature_set == "full":
        q = ctx.item_factors[safe]
        p = np.broadcast_to(batch.user_vectors[:, None, :], q.shape)
        blocks += [p, q, p * q]
    feats = np.concatenate(blocks, axis=-1).astype(np.float32)
    feats[~valid] = 0.0
    out["features"] = feats
    return out
