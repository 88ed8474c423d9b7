"""Numpy-only scoring shared by training and serving: CF scores, candidates, fusion features.

The exact same code builds the fusion model's inputs when the pipeline trains it and when the
Recommender serves it, so the two can never drift apart. No TensorFlow here.

Per (user u, candidate item i) the feature vector is (D = 14 [+ du + di [+ 3f]]):
  0  z_icf    item-item CF score (Σ of the history's rows of W, see engine.itemitem)
              standardised over the user's eligible items
  1  z_mf     MF score (P_u·Q_i) standardised the same way
  2  icf      raw item-item score
  3  mf       raw MF score
  4  r_icf    log1p(rank by item-item score among candidates) / log1p(C)
  5  r_mf     the same by MF
  6  r_cand   the same by the candidate score (z_icf + z_mf)
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

import numpy as np

from engine.scoring_base import (
    BASE_FEATURES,
    SECOND_MF_FEATURES,
    ScoringContext,
    UserBatch,
    assemble,
    log_time,
    rank_feature,
    zscore,
)
from engine.scoring_one import UserSideStats, build_one, user_side_stats

__all__ = [
    "BASE_FEATURES",
    "SECOND_MF_FEATURES",
    "ScoringContext",
    "UserBatch",
    "build_features",
    "cf_scores",
    "user_side_stats",
]


def cf_scores(ctx: ScoringContext, batch: UserBatch) -> tuple[np.ndarray, np.ndarray]:
    """(icf, mf) raw scores, each (n, n_items) float32."""
    mf = batch.user_vectors @ ctx.item_factors.T
    if ctx.item_item is not None:
        icf = ctx.item_item.batch_scores(batch.history)
    else:
        icf = np.zeros_like(mf)
    return icf.astype(np.float32), mf.astype(np.float32)


def build_features(
    ctx: ScoringContext,
    batch: UserBatch,
    with_features: bool = True,
    pool: np.ndarray | None = None,
    full_rows: bool = True,
    user_stats: UserSideStats | None = None,
) -> dict[str, np.ndarray]:
    """Candidates and fusion features for a batch of users.

    One user (serving) takes a fast path that touches the catalogue only where it must
    (:func:`build_one`); its features equal the batch path's up to float rounding (tested).

    ``pool`` (one user): eligible item ids fetched by the ANN index over the MF factors;
    candidates are then taken from the pool united with the item-item model's top C eligible
    items, scored exactly, and every per-user statistic (z-scores) is still computed over all
    eligible items, so the features equal the exact path's whenever the pool holds the exact
    candidates.

    Returns a dict with
        candidates: (n, C) int64 item ids, -1 where fewer than C items are eligible;
        cand_score: (n, C) float32 candidate score (z_icf + z_mf), -inf on padding;
        itemcf, mf, blend: (n, n_items) float32 full score rows (-inf where not eligible; with
            ``pool``, -inf outside the pool too); only with ``full_rows``;
        features: (n, C, D) float32 (only if ``with_features``).
    """
    if batch.history.shape[0] == 1:
        return build_one(ctx, batch, with_features, pool, full_rows, user_stats)
    if pool is not None:
        raise ValueError("a candidate pool needs one user")
    n = batch.history.shape[0]
    elig = batch.eligible
    icf, mf = cf_scores(ctx, batch)
    z_e = zscore(icf, elig) if ctx.item_item is not None else np.zeros_like(icf)
    z_m = zscore(mf, elig)
    blend = np.where(elig, z_e + z_m, -np.inf).astype(np.float32)
    c = min(ctx.n_candidates, ctx.n_items)
    if c < ctx.n_items:
        part = np.argpartition(-blend, c - 1, axis=1)[:, :c]
    else:
        part = np.tile(np.arange(ctx.n_items), (n, 1))
    ps = np.take_along_axis(blend, part, axis=1)
    order = np.argsort(-ps, axis=1, kind="stable")
    cands = np.take_along_axis(part, order, axis=1).astype(np.int64)
    cscore = np.take_along_axis(ps, order, axis=1)
    valid = np.isfinite(cscore)
    cands[~valid] = -1
    out = {"candidates": cands, "cand_score": cscore.astype(np.float32)}
    if full_rows:
        out["itemcf"] = np.where(elig, icf, -np.inf).astype(np.float32)
        out["mf"] = np.where(elig, mf, -np.inf).astype(np.float32)
        out["blend"] = blend
    if not with_features:
        return out
    safe = np.where(valid, cands, 0)

    def g(m: np.ndarray) -> np.ndarray:  # a row over the catalogue at the candidates
        return np.take_along_axis(m, safe, axis=1)

    ce, cm = g(icf), g(mf)
    neg = np.float32(-1e9)
    r_e = rank_feature(np.where(valid, ce, neg), c)
    r_m = rank_feature(np.where(valid, cm, neg), c)
    r_c = rank_feature(np.where(valid, cscore, neg), c)
    z_pop = g(zscore(np.broadcast_to(ctx.pop_std[None, :], elig.shape), elig))
    # time: log P(i | bins of u) standardised over eligible items, and lift over plain pop
    tpop = g(zscore(log_time(batch.time_hist @ ctx.item_time), elig))
    hist_n = batch.history.sum(axis=1)
    u_pop = (batch.history @ ctx.pop_std) / np.maximum(hist_n, 1)
    itf = ctx.item_features
    if itf.shape[1]:
        prof = (batch.history @ itf) / np.maximum(hist_n, 1)[:, None]
        pn = np.linalg.norm(prof, axis=1, keepdims=True)
        aff = np.einsum("nd,ncd->nc", prof, itf[safe]) / np.maximum(
            pn * ctx.item_feat_norm[safe], 1e-6
        )
    else:
        aff = np.zeros((n, c), np.float32)
    per_user = np.ones((1, c), np.float32)
    cols = [g(z_e), g(z_m), ce, cm, r_e, r_m, r_c, ctx.pop_std[safe], z_pop, tpop,
            tpop - z_pop, np.log1p(hist_n)[:, None] * per_user, u_pop[:, None] * per_user,
            aff]  # fmt: skip
    if ctx.item_factors2 is not None:
        mf2 = (batch.user_vectors2 @ ctx.item_factors2.T).astype(np.float32)
        cm2 = g(mf2)
        cols += [g(zscore(mf2, elig)), rank_feature(np.where(valid, cm2, neg), c)]
    out["features"] = assemble(ctx, batch, cols, safe, valid)
    return out
