import numpy as np
import pytest
import scipy.sparse as sp

from engine.metrics import ranking_metrics, topk_from_scores


def test_metrics_match_hand_computed_values():
    # user 0: relevant {1, 3, 5}; list [1, 2, 3] -> hits at ranks 1 and 3
    # user 1: relevant {0};       list [4, 0, 2] -> hit at rank 2
    # user 2: no relevant items   -> ignored
    truth = sp.csr_matrix(([1, 1, 1, 1], ([0, 0, 0, 1], [1, 3, 5, 0])), shape=(3, 6))
    topk = np.array([[1, 2, 3], [4, 0, 2], [0, 1, 2]])
    m = ranking_metrics(topk, truth, np.array([0, 1, 2]), k=3)
    ln = np.log2
    ndcg0 = (1 / ln(2) + 1 / ln(4)) / (1 / ln(2) + 1 / ln(3) + 1 / ln(4))
    ndcg1 = (1 / ln(3)) / (1 / ln(2))
    assert m["users"] == 2
    assert m["ndcg@3"] == pytest.approx((ndcg0 + ndcg1) / 2)
    assert m["precision@3"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert m["recall@3"] == pytest.approx((2 / 3 + 1 / 1) / 2)
    # MAP (MS Recommenders): sum of precision at hits / number of relevant items
    assert m["map@3"] == pytest.approx(((1 / 1 + 2 / 3) / 3 + (1 / 2) / 1) / 2)


def test_perfect_and_empty_lists():
    truth = sp.csr_matrix(([1, 1], ([0, 0], [0, 1])), shape=(1, 4))
    assert ranking_metrics(np.array([[0, 1]]), truth, np.array([0]), k=2)["ndcg@2"] == 1.0
    assert ranking_metrics(np.array([[-1, -1]]), truth, np.array([0]), k=2)["ndcg@2"] == 0.0


def test_topk_from_scores_orders_and_marks_excluded():
    s = np.array([[0.1, 0.9, -np.inf, 0.5]])
    assert topk_from_scores(s, 3).tolist() == [[1, 3, 0]]
    assert topk_from_scores(np.array([[1.0, -np.inf]]), 2).tolist() == [[0, -1]]


def test_topk_from_scores_breaks_ties_by_lowest_index():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, size=(50, 200)).astype(np.float32)  # many ties
    scores[:, ::7] = -np.inf
    top = topk_from_scores(scores, 10)
    reference = np.argsort(-scores, axis=1, kind="stable")[:, :10]  # full sort, index order
    assert top.tolist() == reference.tolist()
    assert topk_from_scores(np.zeros((1, 5), np.float32), 3).tolist() == [[0, 1, 2]]
