"""Ranking metrics exactly as MS Recommenders computes them (binary relevance).

For each evaluated user with ``n`` relevant (test) items and a top-k list:
  * precision@k = hits / k
  * recall@k    = hits / n
  * nDCG@k      = sum_{hit at rank r} 1/log2(1+r)  /  sum_{r=1..min(n,k)} 1/log2(1+r)
  * MAP         = sum_{hit at rank r} (hits up to r)/r  /  n      (MS ``map_at_k``: divides by n)
Each is averaged over the users that have at least one test item.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["ranking_metrics", "topk_from_scores"]


def topk_from_scores(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores per row, best first. scores: (n, m); -inf = excluded.

    Equal scores are ordered by index (lowest first), at the cut as well as inside the list:
    numpy's argpartition leaves the order of ties to its implementation (it differs between
    numpy versions and with the CPU's SIMD support), and popularity scores tie a lot.

    Returns (n, min(k, m)) int64; positions whose score is -inf are set to -1.
    """
    n, m = scores.shape
    k = min(k, m)
    if k <= 0:
        return np.zeros((n, 0), np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    kth = part_scores.min(axis=1)
    # rows where argpartition had to choose among items tied at the k-th score
    ties = np.flatnonzero((scores >= kth[:, None]).sum(axis=1) > k)
    for r in ties:
        above = np.flatnonzero(scores[r] > kth[r])
        tied = np.flatnonzero(scores[r] == kth[r])[: k - len(above)]
        part[r] = np.concatenate([above, tied])
    part.sort(axis=1)  # index order, which the stable sort below keeps among equal scores
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1).astype(np.int64)
    top_scores = np.take_along_axis(part_scores, order, axis=1)
    top[~np.isfinite(top_scores) & (top_scores < 0)] = -1
    return top


def ranking_metrics(
    topk: np.ndarray, truth: sp.csr_matrix, users: np.ndarray, k: int = 10, per_user: bool = False
) -> dict:
    """Binary ranking metrics.

    Args:
        topk: (len(users), >=k) recommended internal item ids, best first; -1 = empty slot.
        truth: (n_users, n_items) CSR; a nonzero entry is a relevant (held-out) item.
        users: internal user ids, one per row of ``topk``. Users without relevant items are
            ignored (MS Recommenders evaluates the users present in the test set).
        k: cut-off.
        per_user: also return ``ndcg_per_user`` (float64 array) and ``evaluated`` (the
            users it is for: those with relevant items, in input order).
    Returns:
        dict with ``ndcg@k``, ``precision@k``, ``recall@k``, ``map@k`` and ``users``.
    """
    truth = truth.tocsr()
    topk = np.asarray(topk)[:, :k]
    users = np.asarray(users)
    n_rel = np.diff(truth.indptr)[users]
    keep = n_rel > 0
    topk, users, n_rel = topk[keep], users[keep], n_rel[keep]
    if len(users) == 0:
        out = {f"ndcg@{k}": 0.0, f"precision@{k}": 0.0, f"recall@{k}": 0.0, f"map@{k}": 0.0,
               "users": 0}  # fmt: skip
        if per_user:
            out.update(ndcg_per_user=np.zeros(0), evaluated=users)
        return out
    sub = truth[users]
    hits = np.zeros(topk.shape, dtype=bool)
    for r in range(len(users)):
        rel = sub.indices[sub.indptr[r] : sub.indptr[r + 1]]
        row = topk[r]
        hits[r] = np.isin(row, rel) & (row >= 0)
    width = topk.shape[1]
    disc = 1.0 / np.log2(np.arange(2, width + 2))
    dcg = (hits * disc).sum(axis=1)
    ideal_len = np.minimum(n_rel, k)
    cdisc = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))]
    idcg = cdisc[ideal_len]
    nhits = hits.sum(axis=1)
    cum = np.cumsum(hits, axis=1)
    prec_at = cum / np.arange(1, width + 1)
    ap = (prec_at * hits).sum(axis=1) / n_rel
    out = {
        f"ndcg@{k}": float(np.mean(dcg / idcg)),
        f"precision@{k}": float(np.mean(nhits / k)),
        f"recall@{k}": float(np.mean(nhits / n_rel)),
        f"map@{k}": float(np.mean(ap)),
        "users": int(len(users)),
    }
    if per_user:
        out.update(ndcg_per_user=dcg / idcg, evaluated=users)
    return out
