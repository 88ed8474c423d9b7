"""Validation re-splits of the training interactions and time-of-activity histograms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engine.data import InteractionData, stratified_split
from engine.pipeline.config import TrainConfig


def time_histograms(
    data: InteractionData, edges: np.ndarray, smoothing: float = 50.0
) -> tuple[np.ndarray, np.ndarray]:
    """(user_time (n_users, B) row-normalised, item_time (B, n_items) = P(item | bin)).

    P(item | bin) is smoothed towards overall popularity with ``smoothing`` pseudo-counts.
    """
    nb = len(edges) + 1
    bins = np.searchsorted(edges, data.timestamps, side="right")
    ut = np.zeros((data.n_users, nb), np.float64)
    np.add.at(ut, (data.users, bins), 1.0)
    rs = ut.sum(axis=1, keepdims=True)
    glob = np.bincount(bins, minlength=nb).astype(np.float64)
    glob = glob / max(glob.sum(), 1.0)
    ut = np.where(rs > 0, ut / np.maximum(rs, 1.0), glob[None, :])
    it = np.zeros((nb, data.n_items), np.float64)
    np.add.at(it, (bins, data.items), 1.0)
    p = it.sum(axis=0)
    p = p / max(p.sum(), 1.0)
    it = (it + smoothing * p[None, :]) / (it.sum(axis=1, keepdims=True) + smoothing)
    return ut.astype(np.float32), it.astype(np.float32)


def time_bucket_edges(ts: np.ndarray, n_bins: int) -> np.ndarray:
    if len(ts) == 0 or n_bins <= 1:
        return np.zeros(0, np.int64)
    q = np.quantile(ts, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.unique(q.astype(np.int64))


@dataclass
class Split:
    inner: InteractionData
    val: InteractionData
    x_inner: sp.csr_matrix  # binary
    w_inner: sp.csr_matrix  # weights
    truth: sp.csr_matrix
    val_users: np.ndarray


def validation_split(
    data: InteractionData, cfg: TrainConfig, seed: int | None = None
) -> Split | None:
    seed = cfg.seed if seed is None else seed
    mask = stratified_split(data.items, ratio=cfg.split_ratio, seed=seed)
    inner, val = data.subset(mask), data.subset(~mask)
    if len(val) == 0 or len(inner) == 0:
        return None
    return Split(
        inner,
        val,
        inner.csr(binary=True),
        inner.csr(),
        val.csr(binary=True),
        np.unique(val.users).astype(np.int64),
    )
