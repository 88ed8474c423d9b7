"""Item-item CF (engine.itemitem): exact EASE, RP3β, sparse neighbours, and the signal in a
trained bundle above the old 6k-item limit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from engine.data import InteractionData
from engine.itemitem import (
    EaseDual,
    SparseNeighbours,
    ease_dense,
    ease_dual,
    fit_item_item,
    item_item_from_arrays,
    item_item_kind,
    neighbour_count,
    row_scores,
    rp3b_neighbours,
    sparsify_rows,
)
from engine.pipeline import train_bundle
from engine.recommender import Recommender

from .conftest import tiny_config


def _random_x(n_users=60, n_items=40, density=0.15, seed=0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    x = (rng.random((n_users, n_items)) < density).astype(np.float32)
    x[:, 0] = 1.0  # a popular item
    return sp.csr_matrix(x)


def test_ease_dense_matches_the_closed_form():
    x = _random_x()
    lam = 7.0
    g = (x.T @ x).toarray().astype(np.float64) + lam * np.eye(x.shape[1])
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    np.fill_diagonal(b, 0.0)
    got = ease_dense(x, lam)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, b, atol=2e-5)
    assert np.all(np.diag(got) == 0)


def test_sparsify_keeps_the_largest_magnitudes_per_row():
    rng = np.random.default_rng(1)
    d = rng.normal(size=(30, 50)).astype(np.float32)
    w = sparsify_rows(d, 5)
    assert w.shape == d.shape and w.nnz == 30 * 5
    for r in range(30):
        want = set(np.argsort(-np.abs(d[r]))[:5].tolist())
        row = w.getrow(r)
        assert set(row.indices.tolist()) == want
        np.testing.assert_array_equal(row.data, d[r, np.sort(list(want))])
    full = sparsify_rows(d, 50)  # every weight kept: exact
    np.testing.assert_array_equal(full.toarray(), d)


def test_rp3b_matches_its_definition():
    x = _random_x(seed=2)
    alpha, beta = 0.8, 0.5
    xb = x.toarray().astype(np.float64)
    p_ui = xb / np.maximum(xb.sum(axis=1, keepdims=True), 1)
    p_iu = xb.T / np.maximum(xb.sum(axis=0)[:, None], 1)
    want = (p_iu**alpha) @ (p_ui**alpha) / np.maximum(xb.sum(axis=0), 1)[None, :] ** beta
    np.fill_diagonal(want, 0.0)
    got = rp3b_neighbours(x, alpha=alpha, beta=beta, n_neighbours=x.shape[1])
    np.testing.assert_allclose(got.toarray(), want, rtol=1e-5, atol=1e-7)
    top = rp3b_neighbours(x, alpha=alpha, beta=beta, n_neighbours=4)
    assert np.diff(top.indptr).max() <= 4


def test_row_scores_sum_the_history_rows():
    model = fit_item_item(_random_x(seed=3), kind="ease", param=5.0, n_neighbours=10)
    assert isinstance(model, SparseNeighbours) and model.dense is not None  # small: also dense
    w = model.w
    for items in ([0], [3, 7, 11], list(range(0, 40, 3)), []):
        items = np.asarray(items, np.int64)
        want = np.asarray(w[items].sum(axis=0)).ravel() if len(items) else np.zeros(40)
        np.testing.assert_allclose(row_scores(w, items), want, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(model.scores(items), want, rtol=1e-6, atol=1e-6)


def test_user_space_ease_is_exact_ease():
    """EaseDual (Woodbury: M = (XXᵀ + λI)⁻¹) scores exactly as the dense item-space EASE,
    one history at a time and in batches, with nothing of size n_items²."""
    x = _random_x(n_users=30, n_items=200, density=0.08, seed=4)
    lam = 3.0
    dense = ease_dense(x, lam)
    dual = ease_dual(x, lam)
    assert isinstance(dual, EaseDual) and dual.m.shape == (30, 30) and dual.d.shape == (200,)
    rng = np.random.default_rng(5)
    hist = (rng.random((6, 200)) < 0.05).astype(np.float32)
    np.testing.assert_allclose(dual.batch_scores(hist), hist @ dense, atol=2e-5)
    for h in hist:
        items = np.flatnonzero(h)
        np.testing.assert_allclose(dual.scores(items), h @ dense, atol=2e-5)
    # and through the bundle's arrays (X is the bundle's training matrix)
    again = item_item_from_arrays(dual.arrays(), x)
    np.testing.assert_allclose(again.scores(np.array([1, 5])), dual.scores(np.array([1, 5])))


def test_item_item_kind_prefers_exact_ease():
    kw = dict(max_nnz=4_000_000, ease_max_items=12_000, dual_max_users=2_000)
    assert item_item_kind(100_000, 1_500, **kw) == "ease"  # every weight kept: exact
    assert item_item_kind(610, 9_724, **kw) == "ease_dual"  # few users: exact in user space
    assert item_item_kind(50_000, 9_724, **kw) == "ease"  # top-N neighbours
    assert item_item_kind(50_000, 100_000, **kw) == "rp3b"
    assert item_item_kind(1_500, 100_000, **kw) == "ease_dual"


def test_neighbour_count():
    assert neighbour_count(1000, max_nnz=4_000_000, min_neighbours=100) == 999  # all: exact
    assert neighbour_count(10_000, max_nnz=4_000_000, min_neighbours=100) == 400
    assert neighbour_count(1_000_000, max_nnz=4_000_000, min_neighbours=100) == 100
    with pytest.raises(ValueError, match="unknown item-item model"):
        fit_item_item(_random_x(), kind="knn", param=1.0, n_neighbours=5)


def _large_catalogue(n_users=1500, n_items=6500, per_user=25, n_groups=20, seed=0):
    """Users who each like one group of items (plus a little noise): item-item structure."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n_items)
    members = [np.flatnonzero(group == g) for g in range(n_groups)]
    users, items = [], []
    for u in range(n_users):
        g = u % n_groups
        liked = rng.choice(members[g], per_user - 2, replace=False)
        noise = rng.choice(n_items, 2, replace=False)
        for i in np.concatenate([liked, noise]):
            users.append(f"u{u}")
            items.append(f"i{i}")
    return InteractionData.from_arrays(users, items), group


def test_item_item_signal_is_in_the_bundle_and_used_above_6k_items(tmp_path):
    """Above the old 6,000-item cut (where EASE used to be skipped) the bundle carries exact
    EASE as sparse neighbours, the gate compares it, and serving reads it: the fusion's
    item-item feature is non-zero and the itemcf model recommends the user's group."""
    data, group = _large_catalogue()
    assert data.n_items > 6000
    cfg = tiny_config(
        ease_lambdas=(50.0,), itemcf_max_nnz=400_000, itemcf_min_neighbours=50,
        ease_dual_max_users=1000,  # 1,500 users: the top-N neighbour form
    )  # fmt: skip
    manifest = train_bundle(data, tmp_path / "b", config=cfg)
    ii = manifest["item_item"]
    assert ii["kind"] == "ease" and ii["neighbours_per_item"] == 61 and ii["nnz"] > 0
    assert "itemcf" in manifest["gate"]["compared_ndcg@10"]
    assert "ease.npy" not in manifest["files"]  # no dense n² matrix in the bundle
    rec = Recommender.load(tmp_path / "b", model="itemcf")
    assert rec.ctx.item_item is not None and rec.ctx.item_item.w.nnz == ii["nnz"]
    hits = []
    for u in range(0, data.n_users, 50):
        uid = data.user_ids[u]
        g = int(uid[1:]) % 20
        top = rec.recommend(uid, k=10)
        hits.append(np.mean([group[int(i[1:])] == g for i, _ in top]))
    assert np.mean(hits) > 0.8, np.mean(hits)
    if "fusion_float.onnx" in manifest["files"]:
        fused = Recommender.load(tmp_path / "b", model="fusion_float")
        items, w = fused._hist.of(data.user_ids[0], None)
        elig = np.ones(fused.n_items, bool)
        elig[items] = False
        from engine.scoring import build_features

        out = build_features(fused.ctx, fused._batch(data.user_ids[0], items, w, False, elig))
        assert np.abs(out["features"][0, :, 0]).max() > 0  # z_icf


def test_few_users_many_items_get_exact_ease_in_user_space(tmp_path):
    """A young tenant (fewer users than items, more items than the neighbour budget keeps
    whole) is served exact EASE through the user-space form."""
    data, group = _large_catalogue(n_users=400, n_items=3000)
    cfg = tiny_config(ease_lambdas=(20.0,), itemcf_max_nnz=1_000_000, use_fusion=False)
    manifest = train_bundle(data, tmp_path / "b", config=cfg)
    assert manifest["item_item"]["kind"] == "ease_dual"
    assert {"item_dual_m.npy", "item_dual_d.npy"} <= set(manifest["files"])
    rec = Recommender.load(tmp_path / "b", model="itemcf")
    x = data.csr(binary=True)
    dense = ease_dense(x, 20.0)
    for u in (0, 7, 123):
        items = x.indices[x.indptr[u] : x.indptr[u + 1]]
        want = np.asarray(x[u] @ dense).ravel()
        want[items] = -np.inf
        top = [rec._iidx[i] for i, _ in rec.recommend(data.user_ids[u], k=10)]
        assert top == list(np.argsort(-want, kind="stable")[:10]), u


def test_similar_items_follow_the_item_item_weights(trained_bundle):
    """Similar items are the item's strongest positive item-item weights, then (to fill k)
    the rest by MF cosine, with scores that keep falling."""
    out, _, _ = trained_bundle
    rec = Recommender.load(out, model="itemcf")
    j = 3
    w = rec.ctx.item_item.scores(np.array([j]))
    w[j] = -np.inf
    linked = int((w > 0).sum())
    k = linked + 5
    got = rec.similar_items(rec._item_list[j], k=k)
    assert len(got) == k and rec._item_list[j] not in {i for i, _ in got}
    want = [rec._item_list[i] for i in np.argsort(-w, kind="stable")[:linked]]
    assert [i for i, _ in got[:linked]] == want
    scores = [s for _, s in got]
    assert scores == sorted(scores, reverse=True)
