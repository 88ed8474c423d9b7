"""Item-item collaborative filtering at any catalogue size.

A model here maps a user's (binary) history h to scores over the catalogue, s = h·W, where W
(n_items × n_items, zero diagonal) is never held dense beyond a few thousand items:

* **EASE** (Steck, 2019), exact: B = I − P/diag(P), P = (XᵀX + λI)⁻¹, in float32 through a
  Cholesky factorisation (``spotrf`` + ``spotri``), kept as **sparse top-N neighbours**
  (:class:`SparseNeighbours`): every weight for small catalogues (then exactly EASE), the
  ``n_neighbours`` of largest magnitude per item up to ``EASE_MAX_ITEMS`` items;
* **EASE in user space** (:class:`EaseDual`), exact at any catalogue size while users are
  few: by Woodbury, P = (I − XᵀMX)/λ with M = (XXᵀ + λI)⁻¹ (n_users × n_users), so
  s = h − (h − ((hXᵀ)M)X) ⊘ d with d = λ·diag(P) = 1 − diag(XᵀMX). The bundle keeps M and d;
  X is the bundle's training matrix. Scoring costs |history|·users-per-item + n_users² +
  nnz(X), nothing in n_items²;
* **RP3β** (Paudel et al., 2017) from sparse co-occurrence, for any size (as
  :class:`SparseNeighbours`): W = P_iu · P_ui with the transition probabilities raised to α,
  each column divided by popularity^β; made a block of rows at a time as sparse products.

:func:`item_item_kind` picks the model from the tenant's shape; the bundle records which.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

__all__ = [
    "EASE_MAX_ITEMS",
    "KINDS",
    "EaseDual",
    "SparseNeighbours",
    "ease_dense",
    "ease_dual",
    "fit_item_item",
    "item_item_from_arrays",
    "item_item_kind",
    "neighbour_count",
    "row_scores",
    "sparsify_rows",
]

# Dense EASE needs an (n, n) float32 Gram matrix and its Cholesky inverse: 4·n² bytes and
# ~n³ flops (9.7k items: 380 MB, ~7–12 s on 2 cores; 12k: ~580 MB, ~15–25 s). Above this
# size the pipeline uses RP3β.
EASE_MAX_ITEMS = 12_000
KINDS = ("ease", "ease_dual", "rp3b")
# rows of a dense block at a time when sparsifying / building RP3β (bounds peak memory)
BLOCK_CELLS = 32_000_000
# neighbour weights of catalogues this small are also held dense in memory while serving
# (summing a few dense rows is ~5x faster than the sparse product; 32 MB at most)
DENSE_SERVING_BYTES = 32 << 20


def item_item_kind(
    n_users: int, n_items: int, *, max_nnz: int, ease_max_items: int, dual_max_users: int
) -> str:
    """Exact EASE whenever it is affordable, in its cheapest form, else RP3β:
    "ease" with every weight kept when n_items² <= ``max_nnz``; "ease_dual" when there are at
    most ``dual_max_users`` users (and fewer users than items); "ease" cut to top-N
    neighbours up to ``ease_max_items`` items; "rp3b" above."""
    if n_items * n_items <= max_nnz:
        return "ease"
    if n_users <= dual_max_users and n_users < n_items:
        return "ease_dual"
    return "ease" if n_items <= ease_max_items else "rp3b"


class SparseNeighbours:
    """Item-item weights W as CSR, each row its top-N neighbours (EASE or RP3β)."""

    def __init__(self, w: sp.csr_matrix):
        self.w = w.tocsr()
        n = self.w.shape[0]
        self.dense = self.w.toarray() if 4 * n * n <= DENSE_SERVING_BYTES else None

    @property
    def n_items(self) -> int:
        return int(self.w.shape[0])

    def scores(self, items: np.ndarray) -> np.ndarray:
        """(n_items,) float32 Σ_{i ∈ items} W[i, :]."""
        if self.dense is not None:
            return self.dense[items].sum(axis=0)
        return row_scores(self.w, items)

    def batch_scores(self, history: np.ndarray) -> np.ndarray:
        """(n, n_items) float32 scores of n binary histories (n, n_items)."""
        if self.dense is not None:
            return (history @ self.dense).astype(np.float32, copy=False)
        return (sp.csr_matrix(history) @ self.w).toarray().astype(np.float32, copy=False)

    def contributions(self, history: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(len(history), len(targets)) float32 W[i, j]: what each history item adds to each
        target's score (the score is their sum over a binary history)."""
        if self.dense is not None:
            return self.dense[np.ix_(history, targets)]
        return self.w[history][:, targets].toarray().astype(np.float32, copy=False)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "item_nbr_indptr": self.w.indptr.astype(np.int64),
            "item_nbr_indices": self.w.indices.astype(np.int32),
            "item_nbr_weights": self.w.data.astype(np.float32),
        }

    def describe(self) -> dict:
        return {
            "storage": "sparse top-N neighbours per item",
            "neighbours_per_item": int(np.diff(self.w.indptr).max(initial=0)),
            "nnz": int(self.w.nnz),
        }


class EaseDual:
    """Exact EASE in user space (see the module docstring) for tenants with few users.

    Args:
        x: (n_users, n_items) binary training matrix (CSR).
        m: (n_users, n_users) float32 (XXᵀ + λI)⁻¹.
        d: (n_items,) float32 1 − diag(XᵀMX) (= λ·diag(P), > 0).
    """

    def __init__(self, x: sp.csr_matrix, m: np.ndarray, d: np.ndarray):
        xb = x.tocsr().astype(np.float32)
        xb.data[:] = 1.0
        self.x = xb
        self.xt = xb.T.tocsr()  # item → users rows: hXᵀ is a sum of the history's rows
        self.m = np.ascontiguousarray(m, np.float32)
        self.d = np.asarray(d, np.float32)
        self.inv_d = (1.0 / np.maximum(self.d, 1e-12)).astype(np.float32)

    @property
    def n_items(self) -> int:
        return int(self.x.shape[1])

    def scores(self, items: np.ndarray) -> np.ndarray:
        items = np.asarray(items, np.int64)
        v = row_scores(self.xt, items)  # (n_users,) overlap of each training user with h
        t = self.xt @ (self.m @ v)  # ((hXᵀ)M)X, as X Mv (M is symmetric)
        s = t * self.inv_d
        s[items] = 1.0 - (1.0 - t[items]) * self.inv_d[items]
        return s.astype(np.float32, copy=False)

    def batch_scores(self, history: np.ndarray) -> np.ndarray:
        h = np.asarray(history, np.float32)
        v = (self.x @ h.T).T  # (n, n_users)
        t = (self.xt @ (self.m @ v.T)).T  # (n, n_items)
        return (h - (h - t) * self.inv_d[None, :]).astype(np.float32, copy=False)

    def contributions(self, history: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(len(history), len(targets)) float32 B[i, j] = (x_jᵀ M x_i) / d_j for i ≠ j (0 on
        the diagonal, as in EASE): a target's score is the sum over a binary history."""
        a = self.m @ self.xt[history].T.toarray()  # (n_users, |H|)
        c = (self.xt[targets] @ a).T * self.inv_d[targets][None, :]
        c[np.asarray(history)[:, None] == np.asarray(targets)[None, :]] = 0.0
        return c.astype(np.float32, copy=False)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"item_dual_m": self.m, "item_dual_d": self.d}

    def describe(self) -> dict:
        return {"storage": "user-space EASE (M, d; X from the bundle)", "users": len(self.m)}


def ease_dual(x: sp.csr_matrix, lam: float) -> EaseDual:
    """Exact EASE of ``x`` (n_users, n_items) with λ = ``lam`` in user space."""
    xb = x.tocsr().astype(np.float64)
    xb.data[:] = 1.0
    n_users = xb.shape[0]
    m = _regularised_inverse((xb @ xb.T).toarray(), lam)
    # diag(XᵀMX)_j = x_jᵀ M x_j, a block of item columns at a time: (M X_blk) ⊙ X_blk
    xc = xb.tocsc()
    n_items = xb.shape[1]
    q = np.empty(n_items)
    step = max(1, BLOCK_CELLS // max(n_users, 1))
    for s in range(0, n_items, step):
        blk = xc[:, s : s + step]
        q[s : s + step] = np.asarray(blk.multiply(m @ blk.toarray()).sum(axis=0)).ravel()
    return EaseDual(x, m.astype(np.float32), (1.0 - q).astype(np.float32))


def item_item_from_arrays(arrays: dict, x: sp.csr_matrix):
    """The model a bundle's arrays hold (``x``: its binary training matrix), or None."""
    if "item_dual_m" in arrays:
        return EaseDual(x, arrays["item_dual_m"], arrays["item_dual_d"])
    if "item_nbr_indptr" in arrays:
        indptr = arrays["item_nbr_indptr"]
        n = len(indptr) - 1
        w = sp.csr_matrix(
            (arrays["item_nbr_weights"], arrays["item_nbr_indices"], indptr), shape=(n, n)
        )
        return SparseNeighbours(w)
    if "ease" in arrays:  # bundles written before the weights became sparse
        return SparseNeighbours(sp.csr_matrix(arrays["ease"]))
    return None


def neighbour_count(n_items: int, *, max_nnz: int, min_neighbours: int) -> int:
    """Neighbours kept per item: every other item while ``n_items²`` fits in ``max_nnz``,
    else ``max(min_neighbours, max_nnz // n_items)`` (never more than ``n_items - 1``)."""
    n = max(min_neighbours, max_nnz // max(n_items, 1))
    return int(max(1, min(n, n_items - 1)))


def ease_dense(x: sp.csr_matrix, lam: float) -> np.ndarray:
    """EASE weights B, (n_items, n_items) float32 with a zero diagonal.

    Args:
        x: (n_users, n_items) interaction matrix (binary recommended).
        lam: L2 regularisation λ (> 0).
    """
    n = x.shape[1]
    if n > EASE_MAX_ITEMS:
        raise ValueError(f"dense EASE is limited to {EASE_MAX_ITEMS} items, not {n}; use RP3β")
    xf = x.astype(np.float32)
    p = _regularised_inverse((xf.T @ xf).toarray(), lam)
    d = np.diag(p).copy()
    p /= -d[None, :]
    p[np.diag_indices(n)] = 0.0
    return p


def _regularised_inverse(g: np.ndarray, lam: float) -> np.ndarray:
    """(G + λI)⁻¹ of a Gram matrix, in place through Cholesky (LAPACK ``?potrf`` + ``?potri``
    in G's precision, float32 or float64), both triangles filled."""
    g[np.diag_indices(len(g))] += g.dtype.type(lam)
    single = g.dtype == np.float32
    potrf, potri = (lapack.spotrf, lapack.spotri) if single else (lapack.dpotrf, lapack.dpotri)
    c, info = potrf(g, lower=1, overwrite_a=1)
    if info != 0:
        raise ValueError(f"EASE Gram matrix is not positive definite (λ={lam}); raise λ")
    p, info = potri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise ValueError(f"EASE inverse failed (LAPACK info {info}); raise λ")
    _mirror_lower(p)
    return p


def _mirror_lower(p: np.ndarray, step: int = 1024) -> None:
    """Copy the lower triangle onto the upper one in place (spotri fills only the lower),
    a block of columns at a time so that no second n × n array is made."""
    n = p.shape[0]
    for j0 in range(0, n, step):
        j1 = min(j0 + step, n)
        blk = p[j0:j1, j0:j1]
        p[j0:j1, j0:j1] = np.tril(blk) + np.tril(blk, -1).T
        p[j0:j1, j1:] = p[j1:, j0:j1].T


def sparsify_rows(dense: np.ndarray, n_neighbours: int) -> sp.csr_matrix:
    """CSR keeping each row's ``n_neighbours`` entries of largest magnitude (ties: lower
    column first); zeros are dropped."""
    n_rows, n_cols = dense.shape
    keep = min(n_neighbours, n_cols)
    indptr, indices, weights = [np.zeros(1, np.int64)], [], []
    step = max(1, BLOCK_CELLS // max(n_cols, 1))
    for s in range(0, n_rows, step):
        block = dense[s : s + step]
        cols, vals = _top_abs(block, keep)
        _append(cols, vals, indptr, indices, weights)
    return _csr(indptr, indices, weights, (n_rows, n_cols))


def _top_abs(block: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """(columns, values) of each row's ``keep`` largest |values|, columns ascending."""
    if keep >= block.shape[1]:
        cols = np.broadcast_to(np.arange(block.shape[1]), block.shape)
    else:
        cols = np.argpartition(-np.abs(block), keep - 1, axis=1)[:, :keep]
    cols = np.sort(cols, axis=1)
    return cols, np.take_along_axis(block, cols, axis=1)


def _append(cols, vals, indptr, indices, weights) -> None:
    nz = vals != 0
    counts = nz.sum(axis=1)
    indptr.append(indptr[-1][-1] + np.cumsum(counts))
    indices.append(cols[nz].astype(np.int32))
    weights.append(vals[nz].astype(np.float32))


def _csr(indptr, indices, weights, shape) -> sp.csr_matrix:
    ip = np.concatenate(indptr).astype(np.int64)
    ind = np.concatenate(indices) if indices else np.zeros(0, np.int32)
    w = np.concatenate(weights) if weights else np.zeros(0, np.float32)
    return sp.csr_matrix((w, ind, ip), shape=shape)


def rp3b_neighbours(
    x: sp.csr_matrix, *, alpha: float, beta: float, n_neighbours: int
) -> sp.csr_matrix:
    """RP3β weights as CSR top-``n_neighbours`` per row (zero diagonal).

    W_ij = Σ_u P(u | i)^α P(j | u)^α / pop_j^β, with P(u | i) = 1/|users of i| and
    P(j | u) = 1/|items of u| on the binary matrix ``x`` (n_users, n_items). Rows are made a
    block at a time as sparse products (cost: the co-occurring pairs, not n²); a block holds at
    most ``BLOCK_CELLS`` entries by an upper bound on each row's co-occurrences.
    """
    xb = x.tocsr(copy=True).astype(np.float32)
    xb.data[:] = 1.0
    n_items = xb.shape[1]
    user_deg = np.asarray(xb.sum(axis=1)).ravel()
    pop = np.asarray(xb.sum(axis=0)).ravel()
    xt = xb.T.tocsr()
    p_ui = (sp.diags((1.0 / np.maximum(user_deg, 1.0)).astype(np.float32)) @ xb).tocsr()
    p_iu = (sp.diags((1.0 / np.maximum(pop, 1.0)).astype(np.float32)) @ xt).tocsr()
    if alpha != 1.0:
        p_ui = p_ui.power(alpha).tocsr()
        p_iu = p_iu.power(alpha).tocsr()
    col_scale = (1.0 / np.power(np.maximum(pop, 1.0), beta)).astype(np.float32)
    keep = min(n_neighbours, n_items)
    # co-occurrences of row i are at most Σ over its users of their item counts (and n)
    bound = np.minimum(xt @ user_deg, n_items)
    cum = np.concatenate([[0], np.cumsum(bound, dtype=np.int64)])
    indptr, indices, weights = [np.zeros(1, np.int64)], [], []
    s = 0
    while s < n_items:
        e = int(np.searchsorted(cum, cum[s] + BLOCK_CELLS, side="right")) - 1
        e = min(max(e, s + 1), n_items)
        block = (p_iu[s:e] @ p_ui).tocsr()
        block.sort_indices()
        block.data *= col_scale[block.indices]
        rows = np.repeat(np.arange(e - s), np.diff(block.indptr))
        block.data[block.indices == rows + s] = 0.0  # the diagonal
        _append_csr(block, keep, indptr, indices, weights)
        s = e
    return _csr(indptr, indices, weights, (n_items, n_items))


def _append_csr(block: sp.csr_matrix, keep: int, indptr, indices, weights) -> None:
    """Append each row's ``keep`` non-zero entries of largest magnitude (columns ascending)
    of a CSR block with sorted indices; only rows longer than ``keep`` are partitioned."""
    ip, data = block.indptr, block.data
    mask = data != 0
    for r in np.flatnonzero(np.diff(ip) > keep):
        a, b = ip[r], ip[r + 1]
        drop = np.argpartition(-np.abs(data[a:b]), keep - 1)[keep:]
        mask[a + drop] = False
    kept = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    counts = kept[ip[1:]] - kept[ip[:-1]]
    indptr.append(indptr[-1][-1] + np.cumsum(counts))
    indices.append(block.indices[mask].astype(np.int32))
    weights.append(data[mask].astype(np.float32))


def fit_item_item(
    x: sp.csr_matrix, *, kind: str, param: float, n_neighbours: int, rp3b_alpha: float = 0.8
) -> SparseNeighbours | EaseDual:
    """The item-item model of ``kind`` on ``x`` ("ease" / "ease_dual": ``param`` = λ;
    "rp3b": ``param`` = β)."""
    if kind == "ease":
        return SparseNeighbours(sparsify_rows(ease_dense(x, param), n_neighbours))
    if kind == "ease_dual":
        return ease_dual(x, param)
    if kind == "rp3b":
        w = rp3b_neighbours(x, alpha=rp3b_alpha, beta=param, n_neighbours=n_neighbours)
        return SparseNeighbours(w)
    raise ValueError(f"unknown item-item model {kind!r}; expected one of {KINDS}")


def row_scores(w: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
    """(n_items,) float32 Σ_{i ∈ items} W[i, :] — one user's scores from a binary history.

    Gathers the history's rows of the CSR arrays and adds them in row order with
    ``np.add.at``: the same float32 sums, in the same order, as scipy's 1 × n product, at a
    quarter of its cost (no sparse matrices built per request).
    """
    items = np.asarray(items, np.int64)
    starts = w.indptr[items]
    lens = w.indptr[items + 1] - starts
    idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    out = np.zeros(w.shape[1], np.float32)
    np.add.at(out, w.indices[idx], w.data[idx].astype(np.float32, copy=False))
    return out
