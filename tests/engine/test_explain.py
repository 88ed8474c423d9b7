"""Explanations: a history item's contribution is exactly its share of the item-item score."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from engine.itemitem import SparseNeighbours, ease_dense, ease_dual


def _data(seed: int = 3, users: int = 40, items: int = 60) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    x = (rng.random((users, items)) < 0.15).astype(np.float32)
    return sp.csr_matrix(x)


@pytest.mark.parametrize("kind", ["sparse", "dual"])
def test_contributions_sum_to_the_score_of_the_history(kind):
    x = _data()
    model = SparseNeighbours(sp.csr_matrix(ease_dense(x, 50.0))) if kind == "sparse" else None
    if kind == "dual":
        model = ease_dual(x, 50.0)
    history = np.array([1, 5, 9, 20])
    targets = np.array([0, 2, 3, 40, 59])
    c = model.contributions(history, targets)
    assert c.shape == (4, 5)
    np.testing.assert_allclose(c.sum(axis=0), model.scores(history)[targets], rtol=1e-4, atol=1e-5)


def test_dual_and_dense_ease_give_the_same_contributions():
    x = _data(users=30, items=80)
    dense = SparseNeighbours(sp.csr_matrix(ease_dense(x, 20.0)))
    dual = ease_dual(x, 20.0)
    history, targets = np.array([0, 3, 7]), np.array([1, 2, 3, 50])
    np.testing.assert_allclose(
        dual.contributions(history, targets), dense.contributions(history, targets), atol=1e-4
    )
