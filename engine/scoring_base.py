"""What scoring shares between the batch path (training) and the one-user path (serving): the
item-side :class:`ScoringContext`, the :class:`UserBatch` of users to score, the feature
names and the per-row helpers both paths compute features with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.itemitem import EaseDual, SparseNeighbours

__all__ = [
    "BASE_FEATURES",
    "SECOND_MF_FEATURES",
    "ScoringContext",
    "UserBatch",
    "assemble",
    "log_time",
    "rank_feature",
    "row_totals",
    "zscore",
]

BASE_FEATURES = [
    "z_icf", "z_mf", "icf", "mf", "r_icf", "r_mf", "r_cand", "pop", "z_pop", "tpop",
    "tlift", "n_user", "u_pop", "affinity",
]  # fmt: skip


# with a second MF model (another factor count): its per-user z-score and candidate rank
SECOND_MF_FEATURES = ["z_mf2", "r_mf2"]

# per-user time-popularity totals kept by a ScoringContext (a few hundred bytes each)
TIME_MEMO_SIZE = 1 << 16


def log_time(scores: np.ndarray) -> np.ndarray:
    """log P(i | user's bins) from ``time_hist @ item_time`` (float32, as the batch path)."""
    return np.log(scores + 1e-7).astype(np.float32)


def row_totals(row: np.ndarray) -> tuple[float, float]:
    """(Σx, Σx²) of a float32 row, accumulated in float64."""
    r = row.astype(np.float64)
    return float(r.sum()), float(r @ r)


@dataclass
class ScoringContext:
    """Everything item-side that scoring needs.

    Attributes:
        item_factors: (n_items, f) float32 MF item vectors Q.
        item_item: the item-item model (:mod:`engine.itemitem`: sparse neighbours or
            user-space EASE), or None (its features are then 0).
        pop_log: (n_items,) float32 log1p(popularity).
        item_time: (n_bins, n_items) float32 P(item | time bin), smoothed.
        item_features: (n_items, di) float32 standardised item features.
        item_feat_norm: (n_items,) float32 L2 norms of item_features (0 allowed).
        n_candidates: C, the candidate pool size the fusion model reranks.
    """

    item_factors: np.ndarray
    item_item: SparseNeighbours | EaseDual | None
    pop_log: np.ndarray
    item_time: np.ndarray
    item_features: np.ndarray
    n_candidates: int

    def __post_init__(self) -> None:
        self.item_feat_norm = np.linalg.norm(self.item_features, axis=1).astype(np.float32)
        pl = self.pop_log
        self.pop_std = ((pl - pl.mean()) / max(float(pl.std()), 1e-6)).astype(np.float32)
        self.log_item_time = np.log(self.item_time + 1e-7).astype(np.float32)
        self.item_time_t = np.ascontiguousarray(self.item_time.T)  # (n_items, n_bins) rows
        self.pop_totals = row_totals(self.pop_std)
        self._time_memo: dict[bytes, tuple[float, float]] = {}

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

    def time_totals(self, time_hist: np.ndarray) -> tuple[float, float]:
        """(Σ, Σ²) over the catalogue of log P(i | the bins of ``time_hist``) (one user's
        (n_bins,) histogram), memoised by the histogram's bytes: it depends on the user only."""
        th = np.asarray(time_hist, np.float32)
        key = th.tobytes()
        hit = self._time_memo.get(key)
        if hit is None:
            hit = row_totals(log_time(th[None, :] @ self.item_time)[0])
            self._remember_time(key, hit)
        return hit

    def warm_time_totals(self, time_hists: np.ndarray, chunk: int = 256) -> None:
        """Precompute :meth:`time_totals` for many histograms at once (a bundle's users)."""
        for s in range(0, len(time_hists), chunk):
            rows = np.asarray(time_hists[s : s + chunk], np.float32)
            for th, lt in zip(rows, log_time(rows @ self.item_time), strict=True):
                self._remember_time(th.tobytes(), row_totals(lt))

    def _remember_time(self, key: bytes, value: tuple[float, float]) -> None:
        if len(self._time_memo) >= TIME_MEMO_SIZE:  # bounded; a racing clear only costs a redo
            self._time_memo.clear()
        self._time_memo[key] = value

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
        history_items: optional, one user only: the sorted columns where ``history`` is
            nonzero (spares the single-user path a scan of the row).
    """

    history: np.ndarray
    user_vectors: np.ndarray
    time_hist: np.ndarray
    user_features: np.ndarray
    eligible: np.ndarray
    user_vectors2: np.ndarray | None = None
    history_items: np.ndarray | None = None


def zscore(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Standardise each row over its ``mask``ed entries (population std)."""
    cnt = np.maximum(mask.sum(axis=1, keepdims=True), 1)
    xm = np.where(mask, x, 0.0)
    mean = xm.sum(axis=1, keepdims=True) / cnt
    var = (np.where(mask, (x - mean) ** 2, 0.0)).sum(axis=1, keepdims=True) / cnt
    return ((x - mean) / np.sqrt(var + 1e-12)).astype(np.float32)


def rank_feature(scores: np.ndarray, c: int) -> np.ndarray:
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :], axis=1)
    return (np.log1p(ranks) / np.log1p(max(c, 1))).astype(np.float32)


def assemble(ctx, batch, columns, safe, valid) -> np.ndarray:
    """(n, C, D) features from the per-candidate (n, C) feature columns (the base features,
    then the second MF's) and the optional side / MF-vector blocks."""
    n, c = safe.shape
    feats = np.stack(columns, axis=-1).astype(np.float32, copy=False)
    blocks = []
    if ctx.feature_set in ("side", "full"):
        du = batch.user_features.shape[1]
        blocks += [np.broadcast_to(batch.user_features[:, None, :], (n, c, du)),
                   ctx.item_features[safe]]  # fmt: skip
    if ctx.feature_set == "full":
        q = ctx.item_factors[safe]
        p = np.broadcast_to(batch.user_vectors[:, None, :], q.shape)
        blocks += [p, q, p * q]
    if blocks:
        feats = np.concatenate([feats, *blocks], axis=-1).astype(np.float32, copy=False)
    feats[~valid] = 0.0
    return feats
