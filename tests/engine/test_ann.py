"""ANN candidates (hnswlib) for large catalogues: recall vs exact, filters, bundle integrity."""

import shutil

import numpy as np
import pytest

import engine.ann as annmod
from engine.ann import ANN_FILE
from engine.bundle import BundleError, read_bundle
from engine.pipeline import train_bundle
from engine.recommender import Recommender
from engine.scoring import build_features

from .conftest import tiny_config


def synthetic_arrays(n_users=300, n_items=4000, f=32, per_user=15, seed=0):
    """A servable MF bundle's arrays without training: clustered item factors whose norms grow
    with popularity (like trained MF), users near a cluster, a few seen items each."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((40, f))
    ic = rng.integers(0, 40, n_items)
    pop = rng.pareto(1.5, n_items) + 1.0
    q = centers[ic] + 0.7 * rng.standard_normal((n_items, f))
    q *= (0.5 + np.log1p(pop) / 3)[:, None] / np.sqrt(f)
    p = centers[rng.integers(0, 40, n_users)] + 0.7 * rng.standard_normal((n_users, f))
    seen = [np.sort(rng.choice(n_items, per_user, replace=False)) for _ in range(n_users)]
    return {
        "user_ids": np.array([f"u{u}" for u in range(n_users)]),
        "item_ids": np.array([f"i{i}" for i in range(n_items)]),
        "user_factors": p.astype(np.float32),
        "item_factors": q.astype(np.float32),
        "popularity": pop.astype(np.float32),
        "seen_indptr": np.r_[0, np.cumsum([len(s) for s in seen])].astype(np.int64),
        "seen_indices": np.concatenate(seen).astype(np.int32),
        "seen_weights": np.ones(n_users * per_user, np.float32),
        "user_time": np.full((n_users, 4), 0.25, np.float32),
        "item_time": np.full((4, n_items), 1.0 / n_items, np.float32),
        "item_features": np.zeros((n_items, 0), np.float32),
        "user_features": np.zeros((n_users, 0), np.float32),
    }


MANIFEST = {
    "served_model": "mf",
    "files": {},
    "hyperparameters": {"mf": {"alpha": 1.0, "transform": "binary", "regularization": 1.0}},
}


def _recall(got, want):
    return len({i for i, _ in got} & {i for i, _ in want}) / max(len(want), 1)


@pytest.fixture(scope="module")
def synthetic_pair(tmp_path_factory):
    arrays = synthetic_arrays()
    path = tmp_path_factory.mktemp("syn")
    exact = Recommender(MANIFEST, arrays, path, ann_threshold=10**9)
    ann = Recommender(MANIFEST, arrays, path, ann_threshold=1000)
    return exact, ann


def test_ann_recall_vs_exact_and_filters(synthetic_pair):
    exact, ann = synthetic_pair
    assert ann.uses_ann and not exact.uses_ann
    rng = np.random.default_rng(1)
    users = [f"u{u}" for u in range(0, 300, 3)]
    excl = [f"i{i}" for i in rng.choice(4000, 300, replace=False)]
    allowed = [f"i{i}" for i in rng.choice(4000, 3000, replace=False)]
    rec_plain, rec_filt, calls = [], [], []
    orig = ann._ann_pool

    def spy(*a, **kw):
        out = orig(*a, **kw)
        calls.append(out is not None)
        return out

    ann._ann_pool = spy
    for u in users:
        want = exact.recommend(u, k=10)
        got = ann.recommend(u, k=10)
        rec_plain.append(_recall(got, want))
        seen = {f"i{j}" for j in exact._hist.of(u, None)[0]}
        assert not seen & {i for i, _ in got}
        kw = {"k": 10, "exclude_items": excl, "allowed_items": allowed}
        want_f, got_f = exact.recommend(u, **kw), ann.recommend(u, **kw)
        assert len(got_f) == 10
        ids = {i for i, _ in got_f}
        assert not ids & (set(excl) | seen) and ids <= set(allowed)
        rec_filt.append(_recall(got_f, want_f))
        # scores are exact MF scores, best first
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    assert all(calls), "ANN path not taken"
    assert np.mean(rec_plain) >= 0.9, np.mean(rec_plain)
    assert np.mean(rec_filt) >= 0.9, np.mean(rec_filt)
    # fold-in users go through the ANN too
    hist = [(f"i{i}", 1.0) for i in range(0, 40, 4)]
    assert _recall(ann.recommend(None, k=10, history=hist),
                   exact.recommend(None, k=10, history=hist)) >= 0.8  # fmt: skip


def test_small_allowed_set_falls_back_to_exact(synthetic_pair):
    exact, ann = synthetic_pair
    allowed = [f"i{i}" for i in range(0, 4000, 8)]  # 500 items: exact scoring
    uvec = ann.user_vector("u1")
    elig = ann._mask((), allowed)
    assert ann._ann_pool(uvec, elig, 10) is None
    assert ann.recommend("u1", k=10, allowed_items=allowed) == exact.recommend(
        "u1", k=10, allowed_items=allowed
    )


def test_pool_features_equal_exact_features(trained_bundle):
    """With the pool holding every eligible item, the pool path gives the exact features."""
    out, _, _ = trained_bundle
    manifest, arrays = read_bundle(out)
    rec = Recommender(manifest, arrays, out, ann_threshold=10**9)
    ctx = rec.ctx
    for uid in ("u0", "u5", "u17"):
        items, w = rec._hist.of(uid, None)
        elig = np.ones(rec.n_items, bool)
        elig[items] = False
        elig[::7] = False
        b = rec._batch(uid, items, w, False, elig)
        a = build_features(ctx, b)
        p = build_features(ctx, b, pool=np.flatnonzero(elig)[::-1])
        assert np.array_equal(a["candidates"], p["candidates"])
        np.testing.assert_allclose(p["features"], a["features"], rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(p["mf"], a["mf"], rtol=1e-5)


def test_fusion_through_ann_matches_exact(trained_bundle, monkeypatch):
    out, manifest, _ = trained_bundle
    model = manifest["fusion"]["served_file"]  # the fusion, whichever model the gate chose
    _, arrays = read_bundle(out)
    monkeypatch.setattr(annmod, "ANN_EXACT_BELOW", 0)
    monkeypatch.setattr(annmod, "ANN_MIN_RATIO", 1)
    exact = Recommender(manifest, arrays, out, model=model, ann_threshold=10**9)
    ann = Recommender(manifest, arrays, out, model=model, ann_threshold=10)
    assert ann.uses_ann
    uvec, elig = ann.user_vector("u0"), np.ones(ann.n_items, bool)
    assert ann._ann_pool(uvec, elig, ann.ctx.n_candidates) is not None
    recalls = []
    for uid in exact._user_ids[:60].tolist():
        want = exact.recommend(uid, k=10)
        got = ann.recommend(uid, k=10, exclude_items=["i3"])
        assert "i3" not in {i for i, _ in got}
        recalls.append(_recall(got, [x for x in want if x[0] != "i3"]))
    assert np.mean(recalls) >= 0.9


def test_train_time_index_saved_verified_and_thresholded(planted_data, trained_bundle, tmp_path):
    data, _, _, _ = planted_data
    # below the threshold (default 50k): no index built
    out0, manifest0, _ = trained_bundle
    assert manifest0["ann"]["index"] is None and not (out0 / ANN_FILE).exists()
    assert not Recommender.load(out0, model="mf").uses_ann
    # a tiny threshold: the index is built at train time, stored and checksummed
    out = tmp_path / "b"
    m = train_bundle(data, out, config=tiny_config(use_fusion=False, ann_threshold=50))
    assert m["ann"]["index"] == ANN_FILE and ANN_FILE in m["files"] and "ann" in m["stages"]
    assert Recommender.load(out, model="mf").uses_ann
    assert not Recommender.load(out, model="mf", ann_threshold=10**6).uses_ann  # override
    if m["served_model"] in ("itemcf", "blend", "popularity"):
        assert not Recommender.load(out).uses_ann  # those models always score exactly
    raw = bytearray((out / ANN_FILE).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (out / ANN_FILE).write_bytes(bytes(raw))
    with pytest.raises(BundleError, match=f"checksum mismatch for {ANN_FILE}"):
        Recommender.load(out, model="mf")
    shutil.rmtree(out)
