"""Item-item collaborative filtering at any catalogue size, kept as sparse top-N neighbours.

Two models make the item-item weights W (n_items × n_items, zero diagonal; a user's scores are
the sum of W's rows over the items of their history):

* **EASE** (Steck, 2019), the exact closed form B = I − P / diag(P), P = (XᵀX + λI)⁻¹, in
  float32 through a Cholesky factorisation (``spotrf`` + ``spotri``: about n³ flops, half the
  memory of a general inverse), for catalogues up to ``EASE_MAX_ITEMS``;
* **RP3β** (Paudel et al., 2017) from sparse co-occurrence, for any size: W = P_iu · P_ui with
  the transition probabilities raised to α, each column divided by popularity^β; computed a
  block of rows at a time, so no dense n × n matrix ever exists.

Either way W is stored as CSR (``item_nbr_indptr / indices / weights``): each row keeps its
``n_neighbours`` weights of largest magnitude. :func:`neighbour_count` gives every weight to a
small catalogue (exact EASE) and a fixed memory budget to a large one.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

__all__ = [
    "EASE_MAX_ITEMS",
    "KINDS",
    "ease_dense",
    "fit_item_item",
    "neighbour_count",
    "row_scores",
    "sparsify_rows",
]

# Dense EASE needs an (n, n) float32 Gram matrix and its Cholesky inverse: 4·n² bytes and
# ~n³ flops (9.7k items: 380 MB, ~7–12 s on 2 cores; 12k: ~580 MB, ~15–25 s). Above this
# size the pipeline uses RP3β.
EASE_MAX_ITEMS = 12_000
KINDS = ("ease", "rp3b")
# rows of a dense block at a time when sparsifying / building RP3β (bounds peak memory)
BLOCK_CELLS = 32_000_000


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
    g = (xf.T @ xf).toarray()
    g[np.diag_indices(n)] += np.float32(lam)
    c, info = lapack.spotrf(g, lower=1, overwrite_a=1)
    if info != 0:
        raise ValueError(f"EASE Gram matrix is not positive definite (λ={lam}); raise λ")
    p, info = lapack.spotri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise ValueError(f"EASE inverse failed (LAPACK info {info}); raise λ")
    _mirror_lower(p)
    d = np.diag(p).copy()
    p /= -d[None, :]
    p[np.diag_indices(n)] = 0.0
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
) -> sp.csr_matrix:
    """Sparse item-item weights of ``kind`` ("ease": ``param`` = λ; "rp3b": ``param`` = β)."""
    if kind == "ease":
        return sparsify_rows(ease_dense(x, param), n_neighbours)
    if kind == "rp3b":
        return rp3b_neighbours(x, alpha=rp3b_alpha, beta=param, n_neighbours=n_neighbours)
    raise ValueError(f"unknown item-item model {kind!r}; expected one of {KINDS}")


def row_scores(w: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
    """(n_items,) float32 Σ_{i ∈ items} W[i, :] — one user's scores from a binary history
    (a 1 × n sparse product: scipy's C loop over the history's neighbours only)."""
    items = np.asarray(items, np.int64)
    h = sp.csr_matrix(
        (np.ones(len(items), np.float32), items, np.array([0, len(items)])), shape=(1, w.shape[0])
    )
    return (h @ w).toarray()[0].astype(np.float32, copy=False)
