"""Explanations: which of a user's history items led to each recommended item.

The item-item score of a binary history is a sum over its items (s_j = Σ_i W[i, j], EASE or
RP3β), so each history item's contribution to an item is exact; without item-item weights the
MF cosine times the history item's confidence stands in for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from engine.histories import TrainingHistories

__all__ = ["top_evidence"]


def top_evidence(
    contributions: Callable[[np.ndarray, np.ndarray], np.ndarray],
    history: np.ndarray,
    item_ids: Iterable,
    ids: TrainingHistories,
    *,
    top: int = 3,
) -> dict[str, list[tuple[str, float]]]:
    """item id → up to ``top`` (history item id, share) pairs, largest first.

    ``contributions(history, cols)``: (len(history), len(cols)) contributions of each history
    item (bundle indices) to each target column. Only positive contributions count; a share is
    the contribution over the item's positive total. Unknown items, or items without positive
    evidence, are left out.
    """
    targets = [(i, ids.item_index.get(str(i))) for i in item_ids]
    targets = [(i, j) for i, j in targets if j is not None]
    if not len(history) or not targets:
        return {}
    cols = np.array([j for _, j in targets], np.int64)
    c = contributions(history, cols)
    c = np.where(c > 0, c, 0.0)
    totals = c.sum(axis=0)
    out: dict[str, list[tuple[str, float]]] = {}
    for col, (item_id, _) in enumerate(targets):
        if totals[col] <= 0:
            continue
        order = np.argsort(-c[:, col], kind="stable")[:top]
        out[str(item_id)] = [
            (ids.item_list[int(history[r])], float(c[r, col] / totals[col]))
            for r in order
            if c[r, col] > 0
        ]
    return out
