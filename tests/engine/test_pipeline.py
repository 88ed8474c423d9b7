"""End-to-end pipeline on planted data, degenerate inputs, and the serving API."""

import json

import numpy as np
import pytest

from engine.data import DataError, InteractionData
from engine.pipeline import train_bundle
from engine.recommender import Recommender

from .conftest import tiny_config


def _group_precision(rec_lists, data, ug, ig):
    pos = {i: j for j, i in enumerate(data.item_ids)}
    hits = [
        np.mean([ig[pos[i]] == ug[u] for i, _ in recs]) for u, recs in rec_lists.items() if recs
    ]
    return float(np.mean(hits))


def test_pipeline_recovers_planted_structure_and_random_fails(trained_bundle, planted_data):
    out, manifest, stages = trained_bundle
    data, ug, ig, _ = planted_data
    rec = Recommender.load(out)
    recs = {u: rec.recommend(data.user_ids[u], k=5) for u in range(data.n_users)}
    model_precision = _group_precision(recs, data, ug, ig)
    # the same assertion against a random recommender (seen items excluded too)
    rng = np.random.default_rng(0)
    seen = data.csr()
    rand = {}
    for u in range(data.n_users):
        pool = np.setdiff1d(np.arange(data.n_items), seen[u].indices)
        rand[u] = [(data.item_ids[i], 0.0) for i in rng.choice(pool, 5, replace=False)]
    random_precision = _group_precision(rand, data, ug, ig)
    assert model_precision > 0.8, model_precision
    assert random_precision < 0.5, random_precision  # 4 groups -> ~0.2 by chance


def test_manifest_records_stages_metrics_and_compression(trained_bundle):
    out, manifest, stages = trained_bundle
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["served_model"] == manifest["served_model"]
    assert manifest["format_version"] == 1
    val = manifest["metrics"]["validation"]
    assert val["ndcg@10"] is not None and 0 <= val["ndcg@10"] <= 1
    assert val["model"] == manifest["served_model"]
    assert manifest["gate"]["served"] == manifest["served_model"]
    assert {"itemcf", "mf", "blend", "popularity"} <= set(val["by_model"])
    ii = manifest["item_item"]
    assert ii["kind"] == "ease" and ii["nnz"] > 0
    assert {"item_nbr_indptr.npy", "item_nbr_indices.npy", "item_nbr_weights.npy"} <= set(
        manifest["files"]
    )
    assert manifest["budget"]["cap_hit"] is False
    fz = manifest["fusion"]
    assert fz["trained"] is True
    # (this tiny net is too small for int8 to pay off; ml-100k sizes are in the bench)
    assert min(fz["sizes"].values()) > 0
    assert set(fz["validation_ndcg@10"]) >= {"keras", "float_onnx", "int8_onnx"}
    assert fz["served_file"] in ("fusion_int8", "fusion_float")
    if fz["served_file"] == "fusion_int8":
        vn = fz["validation_ndcg@10"]
        assert vn["int8_onnx"] >= 0.99 * vn["float_onnx"]
    assert fz["hyperparameters"]["hidden_pruned"][0] < fz["hyperparameters"]["hidden"][0]
    for name, meta in manifest["files"].items():
        assert len(meta["sha256"]) == 64 and meta["bytes"] == (out / name).stat().st_size
    assert {s for s, _ in stages} >= {"split", "fusion", "compression", "bundle"}
    assert manifest["data"]["interactions"] > 0


def test_recommend_api_filters_and_fallbacks(trained_bundle, planted_data):
    out, _, _ = trained_bundle
    data = planted_data[0]
    rec = Recommender.load(out)
    uid = data.user_ids[0]
    seen = {data.item_ids[i] for i in data.csr()[0].indices}
    top = rec.recommend(uid, k=10)
    assert len(top) == 10 and not ({i for i, _ in top} & seen)
    scores = [s for _, s in top]
    assert scores == sorted(scores, reverse=True)
    assert rec.strategy_for(uid, None) == "model" and rec.knows_user(uid)
    # filters
    allowed = [i for i, _ in top[5:]] + [next(iter(seen))]
    got = rec.recommend(uid, k=10, allowed_items=allowed)
    assert {i for i, _ in got} == {i for i, _ in top[5:]}
    excl = rec.recommend(uid, k=10, exclude_items=[top[0][0]])
    assert top[0][0] not in {i for i, _ in excl}
    with_seen = rec.recommend(uid, k=data.n_items, exclude_seen=False)
    assert seen <= {i for i, _ in with_seen}
    # unknown user: popularity, honestly labelled
    assert rec.strategy_for("nobody", None) == "popularity"
    assert rec.recommend("nobody", k=3) == rec.popular(3)
    # a known user whose current history is empty: popularity, honestly labelled
    assert rec.strategy_for(uid, []) == "popularity"
    assert rec.recommend(uid, k=3, history=[]) == rec.popular(3)
    # new user with history: fold-in, history excluded
    hist = [(i, 1.0) for i in list(seen)[:5]]
    assert rec.strategy_for("nobody", hist) == "model"
    new = rec.recommend("nobody", k=5, history=hist)
    assert len(new) == 5 and not ({i for i, _ in new} & {i for i, _ in hist})
    anon = rec.recommend_from_items([i for i, _ in hist], k=5)
    assert [i for i, _ in anon] == [i for i, _ in new]
    sim = rec.similar_items(data.item_ids[0], k=4)
    assert len(sim) == 4 and data.item_ids[0] not in {i for i, _ in sim}
    assert rec.similar_items("no-such-item") == []
    assert len(rec.popular(5, allowed_items=allowed)) == 5


def test_fold_in_recommendations_match_the_trained_user(trained_bundle, planted_data):
    out, _, _ = trained_bundle
    data = planted_data[0]
    rec = Recommender.load(out, model="mf")
    w = data.csr()
    overlaps = []
    for u in range(0, data.n_users, 5):
        uid = data.user_ids[u]
        hist = list(zip(data.item_ids[w[u].indices], w[u].data, strict=True))
        a = {i for i, _ in rec.recommend(uid, k=10)}
        b = {i for i, _ in rec.recommend(uid, k=10, history=hist)}
        overlaps.append(len(a & b) / 10)
    assert np.mean(overlaps) >= 0.7, np.mean(overlaps)


@pytest.mark.parametrize("model", ["itemcf", "mf", "blend", "popularity", "fusion_float"])
def test_every_servable_model_loads_and_recommends(trained_bundle, planted_data, model):
    out, _, _ = trained_bundle
    rec = Recommender.load(out, model=model)
    assert len(rec.recommend(planted_data[0].user_ids[3], k=5)) == 5


def test_degenerate_inputs(tmp_path):
    cfg = tiny_config(use_fusion=False)
    # one user: trains, recommends the unseen items, unknown user gets popularity
    d = InteractionData.from_arrays(["u"] * 4, ["a", "b", "c", "d"])
    m = train_bundle(d, tmp_path / "one_user", config=cfg)
    rec = Recommender.load(tmp_path / "one_user")
    assert m["served_model"] in ("itemcf", "mf", "blend", "popularity")
    assert rec.recommend("u", k=3) == []  # everything seen
    assert len(rec.recommend("x", k=3)) == 3
    # one item: a clear error
    with pytest.raises(DataError, match="2 different items"):
        train_bundle(InteractionData.from_arrays(["a", "b"], ["i", "i"]), tmp_path / "x",
                     config=cfg)  # fmt: skip
    # every interaction on the same item (plus one other): sensible output
    users = [f"u{j}" for j in range(30)] + ["u0"]
    items = ["hit"] * 30 + ["other"]
    train_bundle(InteractionData.from_arrays(users, items), tmp_path / "same", config=cfg)
    rec = Recommender.load(tmp_path / "same")
    assert [i for i, _ in rec.recommend("u5", k=5)] == ["other"]
    assert [i for i, _ in rec.popular(1)] == ["hit"]
    # empty input
    with pytest.raises(DataError, match="empty"):
        InteractionData.from_arrays([], [])


def test_batch_features_equal_single_user_features(trained_bundle, planted_data):
    """Training builds features in batches, serving one user at a time: they must agree."""
    from engine.scoring import UserBatch, build_features

    out, _, _ = trained_bundle
    rec = Recommender.load(out, model="mf")
    users = np.arange(6)
    batch = UserBatch(
        history=np.stack([rec._batch(rec._user_ids[u], *rec._hist.of(rec._user_ids[u], None),
                                     False, np.ones(rec.n_items, bool)).history[0]
                          for u in users]),
        user_vectors=rec._P[users],
        time_hist=rec._user_time[users],
        user_features=rec._user_f[users],
        eligible=np.ones((len(users), rec.n_items), bool),
    )  # fmt: skip
    batch.eligible = batch.history == 0
    if rec._P2 is not None:
        batch.user_vectors2 = rec._P2[users]
    many = build_features(rec.ctx, batch)
    for j, u in enumerate(users):
        one = build_features(
            rec.ctx,
            UserBatch(batch.history[j : j + 1], batch.user_vectors[j : j + 1],
                      batch.time_hist[j : j + 1], batch.user_features[j : j + 1],
                      batch.eligible[j : j + 1],
                      None if batch.user_vectors2 is None else batch.user_vectors2[j : j + 1]),
        )  # fmt: skip
        assert np.array_equal(one["candidates"][0], many["candidates"][j]), u
        np.testing.assert_allclose(one["features"][0], many["features"][j], rtol=1e-4, atol=1e-4)


def test_large_catalogue_path_uses_rp3b(tmp_path, planted_data):
    """Above ``ease_max_items`` the item-item signal comes from RP3β (sparse, any size): it is
    tuned, gated, stored as top-N neighbours and served."""
    data, ug, ig, feats = planted_data
    cfg = tiny_config(ease_max_items=10, itemcf_max_nnz=10 * data.n_items, itemcf_min_neighbours=5)
    manifest = train_bundle(data, tmp_path / "b", item_features=feats, config=cfg)
    ii = manifest["item_item"]
    assert ii["kind"] == "rp3b" and 0 < ii["neighbours_per_item"] <= 10
    assert manifest["tuning"]["item_item"]["kind"] == "rp3b"
    assert set(manifest["tuning"]["item_item"]["trials"]) == {str(b) for b in cfg.rp3b_betas}
    assert "itemcf" in manifest["metrics"]["validation"]["by_model"]
    assert "ease.npy" not in manifest["files"]
    rec = Recommender.load(tmp_path / "b")
    recs = {u: rec.recommend(data.user_ids[u], k=5) for u in range(data.n_users)}
    assert _group_precision(recs, data, ug, ig) > 0.7
    assert len(rec.recommend("nobody", k=5, history=[(data.item_ids[0], 1.0)])) == 5
