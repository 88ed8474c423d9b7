"""A bundle's training histories: user and item ids ↔ indices, who interacted with what (CSR),
and the stored rows each user was trained on."""

from __future__ import annotations

import numpy as np

__all__ = ["TrainingHistories"]


class TrainingHistories:
    """Ids, indices and training interactions of a bundle (read-only, thread-safe).

    Args:
        user_ids / item_ids: (n_users,) / (n_items,) external ids.
        indptr / indices / weights: the (n_users, n_items) CSR of training confidences.
        user_rows: (n_users, 2) int64 (stored rows, largest row id) per user, or None.
    """

    def __init__(self, user_ids, item_ids, indptr, indices, weights, user_rows) -> None:
        self.user_index = {u: j for j, u in enumerate(user_ids.tolist())}
        self.item_list = item_ids.tolist()
        self.item_index = {i: j for j, i in enumerate(self.item_list)}
        self.indptr, self.indices, self.weights = indptr, indices, weights
        self.user_rows = user_rows

    def training_rows(self, user_id) -> tuple[int, int] | None:
        """(number of stored rows, largest row id) the user was trained on, from the
        ``row_ids`` given at training (see ``InteractionData.user_rows``); None for a user the
        bundle does not know or a bundle trained without row ids. A caller whose store still
        holds exactly that for the user can serve the trained vector without passing a history.
        """
        u = self.user_index.get(str(user_id)) if self.user_rows is not None else None
        if u is None:
            return None
        n, last = self.user_rows[u].tolist()
        return n, last

    def of(self, user_id, history):
        """(item idx array, weights array) from ``history`` or the training data."""
        if history is not None:
            items, weights = [], []
            get = self.item_index.get
            for entry in history:
                if type(entry) is tuple and len(entry) == 2:  # (id, weight): the usual form
                    iid, w = entry
                elif isinstance(entry, (tuple, list)):
                    iid, w = entry[0], (entry[1] if len(entry) > 1 else 1.0)
                else:
                    iid, w = entry, 1.0
                j = get(iid if type(iid) is str else str(iid))
                if j is not None and w is not None and (w := float(w)) > 0:
                    items.append(j)
                    weights.append(w)
            if not items:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            ia = np.asarray(items, np.int64)
            wa = np.asarray(weights, np.float32)
            uniq, inv = np.unique(ia, return_inverse=True)
            return uniq, np.bincount(inv, weights=wa).astype(np.float32)
        u = self.user_index.get(str(user_id)) if user_id is not None else None
        if u is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        s, e = self.indptr[u], self.indptr[u + 1]
        return self.indices[s:e].astype(np.int64), self.weights[s:e]

    def is_training_history(self, user_id, items: np.ndarray, w: np.ndarray) -> bool:
        """True when ``items``/``w`` (from a given history) are exactly what the bundle was
        trained on for this user: the trained vectors then serve, with no fold-in to solve."""
        u = self.user_index.get(str(user_id)) if user_id is not None else None
        if u is None:
            return False
        s, e = self.indptr[u], self.indptr[u + 1]
        return (
            e - s == len(items)
            and np.array_equal(self.indices[s:e], items)
            and bool((np.abs(self.weights[s:e] - w) <= 1e-6 * np.abs(w)).all())
        )
