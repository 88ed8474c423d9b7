"""Scoring contexts, user batches and labelled candidate lists for the fusion stage."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from engine.cf import popularity
from engine.metrics import topk_from_scores
from engine.mf import MFModel
from engine.pipeline.config import CHUNK_CELLS, K
from engine.pipeline.splits import time_histograms
from engine.scoring import ScoringContext, UserBatch, build_features


def scoring_context(
    inner, mf, item_item, item_f, user_f, edges, cfg
) -> tuple[ScoringContext, np.ndarray]:
    ut, it = time_histograms(inner, edges)
    ctx = ScoringContext(
        item_factors=mf.item_factors,
        item_item=item_item,
        item_factors2=mf.second.item_factors if mf.second is not None else None,
        pop_log=np.log1p(popularity(inner.csr(binary=True))),
        item_time=it,
        item_features=item_f,
        n_candidates=cfg.n_candidates,
        user_dim=user_f.shape[1],
        feature_set=cfg.fusion_features,
    )
    return ctx, ut


def candidate_features(ctx, users, x_bin, mf, ut, user_f, pop=None) -> dict:
    """build_features for ``users``, a chunk of users at a time: ``features`` (n, C, D) and
    ``candidates`` (n, C); with ``pop`` (the split's popularity) also each single model's top-K
    lists (``top``: popularity, mf, itemcf, blend → (n, K)), which is what the gate needs of
    the full score rows, so that no (all users × items) array is ever held."""
    step = max(1, CHUNK_CELLS // max(ctx.n_items, 1))
    feats, cands, top = [], [], {}
    for s in range(0, len(users), step):
        batch = _batch(users[s : s + step], x_bin, mf, ut, user_f)
        fb = build_features(ctx, batch, full_rows=pop is not None)
        feats.append(fb["features"])
        cands.append(fb["candidates"])
        if pop is not None:
            rows = {"popularity": np.where(fb["mf"] > -np.inf, pop[None, :], -np.inf)}
            rows.update((k, fb[k]) for k in ("mf", "itemcf", "blend"))
            for name, row in rows.items():
                top.setdefault(name, []).append(topk_from_scores(row, K))
    out = {"features": np.concatenate(feats), "candidates": np.concatenate(cands)}
    out["top"] = {k: np.concatenate(v) for k, v in top.items()}
    return out


def labelled_candidates(ctx, split, users, mf, ut, user_f, feedback="implicit"):
    """(features (n, C, D), candidates (n, C), labels (n, C)) for ``users`` of a split.

    Labels are 1 for the user's held-out items (``feedback="implicit"``), or the user's raw
    value (rating) for them (``"explicit"``); 0 for the other candidates and padding.
    """
    fb = candidate_features(ctx, users, split.x_inner, mf, ut, user_f)
    cands = fb["candidates"]
    truth = split.val.value_csr() if feedback == "explicit" else split.truth
    labels = np.asarray(truth[users[:, None], np.maximum(cands, 0)].todense())
    labels = labels.astype(np.float32)
    labels[cands < 0] = 0.0
    return fb["features"], cands, labels


def _batch(
    users: np.ndarray,
    x_bin: sp.csr_matrix,
    mf: MFModel,
    user_time: np.ndarray,
    user_feats: np.ndarray,
) -> UserBatch:
    hist = x_bin[users].toarray().astype(np.float32)
    return UserBatch(
        history=hist,
        user_vectors=mf.user_factors[users],
        user_vectors2=mf.second.user_factors[users] if mf.second is not None else None,
        time_hist=user_time[users],
        user_features=user_feats[users],
        eligible=hist == 0,
    )
