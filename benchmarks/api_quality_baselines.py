"""The api_quality benchmark's baselines (api_quality.py), plain numpy on the train part
(nothing from ``engine.cf``/``engine.itemitem``): popularity (distinct train users per item) and
EASE with λ chosen on a validation split of the train part, seen items masked.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from api_quality_data import K
from scipy.linalg import lapack

LAMBDAS = (50.0, 100.0, 200.0, 350.0, 500.0, 800.0, 1200.0, 2000.0)


def gram(x: sp.csr_matrix) -> np.ndarray:
    """(n_items, n_items) float32 dense XᵀX of a binary (n_users, n_items) matrix."""
    x = x.astype(np.float32)
    return (x.T @ x).toarray().astype(np.float32, copy=False)


def ease_weights(g: np.ndarray, lam: float) -> np.ndarray:
    """EASE item-item weights (Steck 2019) from the Gram matrix ``g`` = XᵀX (not modified).

    P = (XᵀX + λI)⁻¹ by Cholesky in float32 (LAPACK ``spotrf`` + ``spotri``: half the work and
    memory traffic of ``np.linalg.inv`` in float64), B = I - P / diag(P) (column j divided by
    P_jj), so diag(B) = 0. Returns (n_items, n_items) float32; scores = X B.
    """
    n = g.shape[0]
    a = np.array(g, dtype=np.float32, order="F", copy=True)
    a[np.diag_indices(n)] += np.float32(lam)
    c, info = lapack.spotrf(a, lower=1, clean=1, overwrite_a=1)
    if info != 0:
        raise SystemExit(
            f"EASE: spotrf failed (info={info}) for λ={lam}: XᵀX + λI is not positive definite "
            "in float32; use larger λ values"
        )
    p, info = lapack.spotri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise SystemExit(f"EASE: spotri failed (info={info}) for λ={lam}; use larger λ values")
    p = np.tril(p)  # spotri fills the lower triangle only
    p += np.tril(p, -1).T
    d = np.diag(p).copy()
    p /= -d[None, :]
    np.fill_diagonal(p, 0.0)
    return p


def masked_topk(score_rows, x: sp.csr_matrix, users: np.ndarray, *, chunk: int = 2048):
    """Top-K per user of ``score_rows(users_chunk) -> (len, n_items)``, seen items at -inf."""
    from engine.metrics import topk_from_scores

    out = []
    for start in range(0, len(users), chunk):
        rows = users[start : start + chunk]
        scores = np.array(score_rows(rows), dtype=np.float32, copy=True)
        r, c = x[rows].nonzero()
        scores[r, c] = -np.inf
        out.append(topk_from_scores(scores, K))
    return np.concatenate(out) if out else np.zeros((0, K), np.int64)


def baselines(train, test) -> dict:
    """Popularity and EASE (λ on validation inside ``train``) evaluated on ``test``."""
    from engine.data import stratified_split
    from engine.metrics import ranking_metrics

    x = train.csr(binary=True)
    truth = test.csr(binary=True)
    users = np.unique(test.users).astype(np.int64)
    t = time.perf_counter()
    pop = np.diff(x.tocsc().indptr).astype(np.float32)
    top = masked_topk(lambda rows: np.broadcast_to(pop, (len(rows), len(pop))), x, users)
    popularity = ranking_metrics(top, truth, users, K)

    vmask = stratified_split(train.items, ratio=0.75, seed=42)
    inner, val = train.subset(vmask), train.subset(~vmask)
    xi, vt = inner.csr(binary=True), val.csr(binary=True)
    vusers = np.unique(val.users).astype(np.int64)
    gi = gram(xi)
    validation = {}
    for lam in LAMBDAS:
        b = ease_weights(gi, lam)
        top = masked_topk(lambda rows, b=b: xi[rows] @ b, xi, vusers)
        validation[lam] = ranking_metrics(top, vt, vusers, K)[f"ndcg@{K}"]
        print(f"  EASE λ={lam:g}: validation nDCG@{K} {validation[lam]:.4f}", flush=True)
    del gi, b
    best = max(LAMBDAS, key=lambda lam: validation[lam])  # first of equals: the smallest λ
    b = ease_weights(gram(x), best)
    top = masked_topk(lambda rows: x[rows] @ b, x, users)
    ease = ranking_metrics(top, truth, users, K)
    validation_ndcg = {f"{lam:g}": v for lam, v in validation.items()}
    return {
        "popularity": popularity,
        "ease": {**ease, "lambda": best, "validation_ndcg": validation_ndcg},
        "baselines_s": round(time.perf_counter() - t, 1),
    }
