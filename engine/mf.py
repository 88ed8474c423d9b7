"""Matrix-factorisation stage: iALS with confidence weights (implicit), BPR option, fold-in.

Model: score(u, i) = P_u · Q_i. iALS minimises
    sum_{u,i} c_ui (p_ui - P_u·Q_i)² + reg (|P|² + |Q|²),
with p_ui = 1 for observed pairs and c_ui = 1 + alpha * f(w_ui) for them (1 elsewhere).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg.lapack import dpotrf, dpotrs

__all__ = ["MFModel", "confidence", "fit_mf", "fold_in", "procrustes_align"]

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit warns/slows otherwise


@dataclass
class MFModel:
    """user_factors (n_users, f) float32, item_factors (n_items, f) float32."""

    user_factors: np.ndarray
    item_factors: np.ndarray
    kind: str
    regularization: float
    second: MFModel | None = None  # optional second MF (other factor count) for the fusion


def confidence(x: sp.csr_matrix, alpha: float, transform: str = "log") -> sp.csr_matrix:
    """Confidence matrix C with c = 1 + alpha * f(w) on observed pairs.

    transform: "binary" (f = 1), "linear" (f = w) or "log" (f = log1p(w)).
    """
    c = x.tocsr(copy=True).astype(np.float32)
    if transform == "binary":
        c.data[:] = 1.0
    elif transform == "log":
        c.data = np.log1p(c.data)
    elif transform != "linear":
        raise ValueError(f"unknown confidence transform {transform!r}")
    c.data = 1.0 + alpha * c.data
    return c


def fit_mf(
    conf: sp.csr_matrix,
    *,
    factors: int = 64,
    regularization: float = 0.05,
    iterations: int = 15,
    kind: str = "als",
    learning_rate: float = 0.01,
    seed: int = 42,
    num_threads: int = 0,
) -> MFModel:
    """Fit iALS (``kind="als"``) or BPR (``kind="bpr"``) on a confidence matrix (users × items)."""
    from engine.deps import require_training_stack

    require_training_stack("fitting MF (implicit)")
    from threadpoolctl import threadpool_limits  # a dependency of implicit

    conf = conf.tocsr().astype(np.float32)
    with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, BLAS single
        return _fit(conf, factors, regularization, iterations, kind, learning_rate, seed,
                    num_threads)  # fmt: skip


def _fit(conf, factors, regularization, iterations, kind, learning_rate, seed, num_threads):
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    if kind == "als":
        model = AlternatingLeastSquares(
            factors=factors,
            regularization=regularization,
            alpha=1.0,
            iterations=iterations,
            random_state=seed,
            num_threads=num_threads,
        )
        model.fit(conf, show_progress=False)
        return MFModel(
            np.ascontiguousarray(model.user_factors, dtype=np.float32),
            np.ascontiguousarray(model.item_factors, dtype=np.float32),
            "als",
            float(regularization),
        )
    if kind == "bpr":
        model = BayesianPersonalizedRanking(
            factors=factors,
            learning_rate=learning_rate,
            regularization=regularization,
            iterations=iterations * 10,
            random_state=seed,
            num_threads=num_threads,
        )
        model.fit(conf, show_progress=False)
        # implicit's BPR appends a bias column to items (and a 1 to users): keep both.
        return MFModel(
            np.ascontiguousarray(model.user_factors, dtype=np.float32),
            np.ascontiguousarray(model.item_factors, dtype=np.float32),
            "bpr",
            float(regularization),
        )
    raise ValueError(f"unknown MF kind {kind!r} (use 'als' or 'bpr')")


def fold_in(
    item_factors: np.ndarray,
    items: np.ndarray,
    conf: np.ndarray,
    regularization: float,
    yty: np.ndarray | None = None,
) -> np.ndarray:
    """Exact iALS user solve for a user absent from training (or with new behaviour).

    Solves (YᵀY + Yᵀ(C_u − I)Y + reg·I) x = Yᵀ C_u p_u for the user's observed items.

    Args:
        item_factors: (n_items, f) Y.
        items: (m,) internal item ids the user interacted with.
        conf: (m,) confidences c_ui (>= 1), same transform as training.
        regularization: the model's reg.
        yty: optional precomputed YᵀY (f, f), float64.
    Returns:
        (f,) float32 user vector (zeros when ``items`` is empty).
    """
    f = item_factors.shape[1]
    if len(items) == 0:
        return np.zeros(f, dtype=np.float32)
    y = item_factors[np.asarray(items)]
    c = np.asarray(conf, dtype=np.float64)
    d = c - 1.0
    if yty is None:
        yty = item_factors.T.astype(np.float64) @ item_factors.astype(np.float64)
    y64 = y.astype(np.float64)
    b = y64.T @ c

    def apply_a(x: np.ndarray) -> np.ndarray:  # A·x exactly, in float64
        return yty @ x + regularization * x + y64.T @ (d * (y64 @ x))

    # The user's Gram term YᵀDY dominates the cost: form it in float32 (half the time of
    # float64), factor A ≈ YᵀY + YᵀDY + reg·I by Cholesky, and recover float64 accuracy with
    # one step of iterative refinement against the exact A (relative error ~1e-13).
    a = ((y.T * d.astype(y.dtype)) @ y).astype(np.float64)
    a += yty
    a.flat[:: f + 1] += regularization
    fac, info = dpotrf(a.T, lower=0, overwrite_a=True, clean=0)  # a.T: Fortran order
    if info != 0:  # not positive definite (reg = 0, confidences < 1): a general solve
        a = yty + (y64.T * d) @ y64 + regularization * np.eye(f)
        return np.linalg.solve(a, b).astype(np.float32)
    x = dpotrs(fac, b, lower=0)[0]
    x += dpotrs(fac, b - apply_a(x), lower=0)[0]
    return x.astype(np.float32)


def procrustes_align(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Orthogonal R minimising |source·R − target|_F (rows = the same items).

    Rotating a model's user and item factors by the same orthogonal R leaves every score
    unchanged, but puts its latent axes where a reference model (``target``) has them, so a
    fusion network trained on the reference model's vectors can read the new model's vectors.
    """
    m = source.astype(np.float64).T @ target.astype(np.float64)
    u, _, vt = np.linalg.svd(m)
    return (u @ vt).astype(np.float32)
