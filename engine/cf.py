"""Popularity, the baseline every model is compared with (item-item CF: engine.itemitem)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["popularity"]


def popularity(train: sp.csr_matrix) -> np.ndarray:
    """(n_items,) float32 number of distinct users per item."""
    return np.diff(train.tocsc().indptr).astype(np.float32)
