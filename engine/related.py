"""Item-to-item answers of a loaded bundle: similar items, and which history items explain a
recommendation. A part of :class:`engine.recommender.Recommender` (a mixin over its arrays:
``_iidx``, ``_Qn``, ``ctx.item_item``, ``_hist``, ``_mask``, ``_top``, ``_confidence``)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from engine.explain import top_evidence

__all__ = ["EXPLAIN_MAX_HISTORY", "RelatedItems"]

# explanations weigh at most this many history items (the heaviest)
EXPLAIN_MAX_HISTORY = 50


class RelatedItems:
    """Similar items and explanations (mixed into ``Recommender``)."""

    def similar_items(self, item_id, k: int = 10, *, allowed_items=None) -> list[tuple[str, float]]:
        """Items most related to ``item_id`` (itself excluded): first those the item-item model
        gives a positive weight from it (EASE / RP3β: "interacted with together"), by that
        weight; then, to fill k, the others by cosine of the MF item vectors, scored below the
        last weight. Without item-item weights, by cosine alone."""
        j = self._iidx.get(str(item_id))
        if j is None:
            return []
        elig = self._mask((), allowed_items)
        elig[j] = False
        cos = (self._Qn @ self._Qn[j]).astype(np.float64)
        if self.ctx.item_item is None:
            return self._top(np.where(elig, cos, -np.inf), k)
        w = self.ctx.item_item.scores(np.array([j])).astype(np.float64)
        linked = elig & (w > 0)
        out = self._top(np.where(linked, w, -np.inf), k)
        if len(out) < k:
            floor = out[-1][1] if out else 0.0
            rest = self._top(np.where(elig & ~linked, cos, -np.inf), k - len(out))
            out += [(i, floor - 1.0 - r) for r, (i, _) in enumerate(rest)]
        return out

    def explain(
        self,
        item_ids: Iterable,
        *,
        user_id=None,
        history: Iterable | None = None,
        top: int = 3,
        max_history: int = EXPLAIN_MAX_HISTORY,
    ) -> dict[str, list[tuple[str, float]]]:
        """Why each of ``item_ids`` was recommended: up to ``top`` (history item, share) pairs.

        The history is ``history`` or, without it, the user's training history (the
        ``max_history`` heaviest items). A history item's contribution to an item is its
        item-item weight towards it (EASE / RP3β; the item-item score of a binary history is
        the sum of these); without item-item weights, the cosine of their MF vectors times the
        history item's confidence. Only positive contributions count; ``share`` is the
        contribution over the item's positive total. Items the bundle does not know, or no
        positive evidence, are left out of the result.
        """
        items, w = self._hist.of(user_id, history)
        if len(items) > max_history:
            keep = np.argsort(-w, kind="stable")[:max_history]
            items, w = items[keep], w[keep]
        if self.ctx.item_item is not None:
            contributions = self.ctx.item_item.contributions
        else:
            conf = self._confidence(w)

            def contributions(hist, cols):
                return (self._Qn[hist] @ self._Qn[cols].T) * conf[:, None]

        return top_evidence(contributions, items, item_ids, self._hist, top=top)
