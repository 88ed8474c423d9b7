"""Item-item (EASE λ / RP3β β) and MF hyperparameters tuned inner split → validation; MF
fitting helpers."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from engine.itemitem import fit_item_item, item_item_kind, neighbour_count
from engine.metrics import ranking_metrics, topk_from_scores
from engine.mf import MFModel, confidence, fit_mf
from engine.pipeline.clock import Clock
from engine.pipeline.config import CHUNK_CELLS, K, TrainConfig
from engine.pipeline.splits import Split


def _tuning_users(s: Split, cfg: TrainConfig) -> np.ndarray:
    """The validation users that score the trials: all, or a fixed sample of
    ``cfg.tune_max_users`` of them (same seed, same sample) for large tenants."""
    users = s.val_users
    if len(users) <= cfg.tune_max_users:
        return users
    rng = np.random.default_rng(cfg.seed)
    return np.sort(rng.choice(users, cfg.tune_max_users, replace=False))


def _ndcg_of(score_rows, s: Split, users: np.ndarray) -> float:
    """Validation nDCG@10 of ``score_rows(users) -> (n, n_items)`` (seen items masked), a
    chunk of users at a time."""
    step = max(1, CHUNK_CELLS // max(s.x_inner.shape[1], 1))
    tops = []
    for a in range(0, len(users), step):
        u = users[a : a + step]
        tops.append(topk_from_scores(_masked(score_rows(u), s.x_inner[u]), K))
    top = np.concatenate(tops) if tops else np.zeros((0, K), np.int64)
    return ranking_metrics(top, s.truth, users, K)[f"ndcg@{K}"]


def _masked(scores: np.ndarray, seen: sp.csr_matrix) -> np.ndarray:
    s = np.array(scores, dtype=np.float32, copy=True)
    r, c = seen.nonzero()
    s[r, c] = -np.inf
    return s


def item_item_kind_cfg(n_users: int, n_items: int, cfg: TrainConfig) -> str:
    """:func:`engine.itemitem.item_item_kind` with the configured limits."""
    return item_item_kind(
        n_users, n_items, max_nnz=cfg.itemcf_max_nnz, ease_max_items=cfg.ease_max_items,
        dual_max_users=cfg.ease_dual_max_users,
    )  # fmt: skip


def item_item_grid(kind: str, cfg: TrainConfig) -> tuple[float, ...]:
    """The values tried for ``kind``'s parameter (EASE: λ; RP3β: β)."""
    return tuple(cfg.rp3b_betas if kind == "rp3b" else cfg.ease_lambdas)


def fit_item_item_cfg(x: sp.csr_matrix, kind: str, param: float, cfg: TrainConfig):
    """Sparse item-item weights of ``kind`` with the configured neighbour budget."""
    n = neighbour_count(
        x.shape[1], max_nnz=cfg.itemcf_max_nnz, min_neighbours=cfg.itemcf_min_neighbours
    )
    return fit_item_item(x, kind=kind, param=param, n_neighbours=n, rp3b_alpha=cfg.rp3b_alpha)


def _tune_item_item(s: Split, kind: str, cfg: TrainConfig, clock: Clock):
    """Best parameter of the item-item model on validation (scored as served: sparse), its
    inner-split weights, and every trial's nDCG@10."""
    results = {}
    best = (-1.0, None, None)
    users = _tuning_users(s, cfg)
    grid = item_item_grid(kind, cfg)
    for j, param in enumerate(grid):
        if j > 0 and clock.over(0.2, "tune:itemcf"):
            break
        w = fit_item_item_cfg(s.x_inner, kind, param, cfg)
        nd = _ndcg_of(lambda u, w=w: w.batch_scores(s.x_inner[u].toarray()), s, users)
        results[str(param)] = round(nd, 5)
        if nd > best[0]:
            best = (nd, param, w)
        clock.report("tune:itemcf", (j + 1) / len(grid))
    return best[1], best[2], results


def _mf_grid(cfg: TrainConfig) -> list[dict]:
    rng = np.random.default_rng(cfg.seed)
    grid = [
        {"factors": f, "regularization": r, "alpha": a, "transform": t}
        for f in cfg.mf_factors
        for r in cfg.mf_regularization
        for a in cfg.mf_alpha
        for t in cfg.mf_transform
    ]
    rng.shuffle(grid)
    # always try the first value of every grid first (a sensible default)
    default = {"factors": cfg.mf_factors[0], "regularization": cfg.mf_regularization[0],
               "alpha": cfg.mf_alpha[0], "transform": cfg.mf_transform[0]}  # fmt: skip
    return [default] + [g for g in grid if g != default]


def _second_factors(hp: dict) -> int:
    return 128 if hp["factors"] < 128 else 32


def fit_tuned_mf_pair(w: sp.csr_matrix, hp: dict, cfg: TrainConfig) -> MFModel:
    """The chosen MF plus (``cfg.fusion_second_mf``) a second one with another factor count,
    whose scores are an extra fusion input (an ensemble of MF views)."""
    m = fit_tuned_mf(w, hp, cfg)
    if cfg.fusion_second_mf:
        m.second = fit_tuned_mf(w, {**hp, "factors": _second_factors(hp)}, cfg)
    return m


def rotated_mf(m: MFModel, rot: np.ndarray) -> MFModel:
    return MFModel(m.user_factors @ rot, m.item_factors @ rot, m.kind, m.regularization, m.second)


def fit_tuned_mf(w: sp.csr_matrix, hp: dict, cfg: TrainConfig) -> MFModel:
    conf = confidence(w, hp["alpha"], hp["transform"])
    return fit_mf(
        conf,
        factors=hp["factors"],
        regularization=hp["regularization"],
        iterations=cfg.mf_iterations,
        kind=cfg.mf_kind,
        seed=cfg.seed,
        num_threads=cfg.num_threads,
    )


def _tune_mf(s: Split, cfg: TrainConfig, clock: Clock) -> tuple[dict, float, list]:
    trials = []
    best = (-1.0, None)
    users = _tuning_users(s, cfg)
    grid = _mf_grid(cfg)[: cfg.mf_max_trials]
    for j, hp in enumerate(grid):
        if j > 0 and clock.over(0.3, "tune:mf"):
            break
        m = fit_tuned_mf(s.w_inner, hp, cfg)
        nd = _ndcg_of(lambda u, m=m: m.user_factors[u] @ m.item_factors.T, s, users)
        trials.append({**hp, "ndcg@10": round(nd, 5)})
        if nd > best[0]:
            best = (nd, hp)
        clock.report("tune:mf", (j + 1) / len(grid))
    return best[1], best[0], trials
