"""Explicit-ratings mode (``TrainConfig.feedback="explicit"``): the fusion stage regresses
ratings with MSE on the same candidate lists; the default (implicit, listwise) is unchanged."""

import json

import numpy as np
import pytest

from engine import fusion
from engine.data import InteractionData, load_interactions
from engine.pipeline import train_bundle
from engine.recommender import Recommender

from .conftest import tiny_config


def _rated_lists(n, c=8, d=6, seed=0):
    """Candidate lists whose first 3 candidates were rated 1-5 by the user; feature 0 is the
    (noisy) rating for rated candidates and low for the others, the rest is noise."""
    rng = np.random.default_rng(seed)
    y = np.zeros((n, c), np.float32)
    y[:, :3] = rng.integers(1, 6, (n, 3))
    x = rng.normal(size=(n, c, d)).astype(np.float32)
    x[..., 0] = np.where(y > 0, y, -1.0) + 0.3 * rng.normal(size=(n, c))
    perm = np.argsort(rng.random((n, c)), axis=1)  # rated candidates anywhere in the list
    return np.take_along_axis(x, perm[..., None], 1), np.take_along_axis(y, perm, 1)


def _top1_is_best_rated(scores, y):
    return float(np.mean(y[np.arange(len(y)), scores.argmax(axis=1)] == y.max(axis=1)))


@pytest.fixture(scope="module")
def mse_model():
    x, y = _rated_lists(60)
    xv, yv = _rated_lists(40, seed=1)
    res = fusion.train_fusion(x, y, np.ones(y.shape, bool), xv,
                              lambda s: _top1_is_best_rated(s, yv), hidden=(16, 8),
                              dropout=0.0, learning_rate=1e-2, epochs=12, patience=12,
                              loss="mse")  # fmt: skip
    return res, xv, yv


def test_mse_fusion_learns_the_planted_ratings_and_random_fails(mse_model):
    import keras

    res, xv, yv = mse_model
    assert isinstance(res.scorer.loss, keras.losses.MeanSquaredError)
    pred = fusion.scorer_scores(res.scorer, xv)
    # it regresses the rating itself (0 for unrated candidates), not just an order
    assert np.mean((pred - yv) ** 2) < 0.5 * np.mean((yv - yv.mean()) ** 2)
    assert np.corrcoef(pred.ravel(), yv.ravel())[0, 1] > 0.9
    assert _top1_is_best_rated(pred, yv) > 0.75
    # the same assertions fail for an untrained scorer
    rand = fusion.build_scorer(xv.shape[-1], (16, 8), 0.0, np.zeros(6), np.ones(6), seed=3)
    rp = fusion.scorer_scores(rand, xv)
    assert _top1_is_best_rated(rp, yv) < 0.6
    assert np.mean((rp - yv) ** 2) >= 0.5 * np.mean((yv - yv.mean()) ** 2)
    assert np.corrcoef(rp.ravel(), yv.ravel())[0, 1] < 0.9


def test_mse_scorer_exports_to_onnx_with_parity(mse_model, tmp_path):
    res, xv, _ = mse_model
    fp, ip = str(tmp_path / "f.onnx"), str(tmp_path / "i.onnx")
    fusion.export_onnx(res.scorer, fp, xv.shape[-1])
    keras_scores = fusion.scorer_scores(res.scorer, xv)
    np.testing.assert_allclose(fusion.onnx_scores(fp, xv), keras_scores, rtol=1e-4, atol=1e-4)
    fusion.quantize_int8(fp, ip)
    assert np.corrcoef(fusion.onnx_scores(ip, xv).ravel(), keras_scores.ravel())[0, 1] > 0.99


def test_unknown_loss_is_rejected():
    x = np.zeros((2, 3, 2), np.float32)
    with pytest.raises(ValueError, match="unknown fusion loss"):
        fusion.train_fusion(x, np.ones((2, 3)), np.ones((2, 3), bool), x, float, loss="hinge")


def test_values_are_kept_next_to_weights(tmp_path):
    d = InteractionData.from_arrays(["a", "a", "b"], ["x", "x", "y"], [1.0, 2.0, 1.0],
                                    values=[4.0, 2.0, 5.0])  # fmt: skip
    assert len(d) == 2 and d.values.dtype == np.float32
    assert d.value_csr()[0, 0] == 4.0 and d.csr()[0, 0] == 3.0  # max value, summed weight
    assert d.subset(d.users == 1).values.tolist() == [5.0]
    assert InteractionData.from_arrays(["a"], ["x"]).values is None
    p = tmp_path / "u.data"
    p.write_text("1\t10\t5\t100\n2\t10\t3\t101\n")
    loaded = load_interactions(p)
    assert loaded.values.tolist() == [5.0, 3.0] == loaded.weights.tolist()


@pytest.fixture(scope="module")
def explicit_bundle(tmp_path_factory, planted_data):
    """Planted data whose users rate their own group's items 4-5 and the others 1-2."""
    data, ug, ig, feats = planted_data
    rng = np.random.default_rng(1)
    own = ig[data.items] == ug[data.users]
    stars = np.where(own, rng.integers(4, 6, len(data)), rng.integers(1, 3, len(data)))
    rated = InteractionData.from_arrays(data.user_ids[data.users], data.item_ids[data.items],
                                        stars, data.timestamps, values=stars)  # fmt: skip
    out = tmp_path_factory.mktemp("explicit") / "b"
    manifest = train_bundle(rated, out, item_features=feats,
                            config=tiny_config(feedback="explicit"))  # fmt: skip
    return out, manifest, rated


def test_explicit_pipeline_trains_mse_fusion_and_records_it(explicit_bundle, planted_data):
    out, manifest, rated = explicit_bundle
    _, ug, ig, _ = planted_data
    on_disk = json.loads((out / "manifest.json").read_text())
    fz = on_disk["fusion"]
    assert fz["trained"] is True and fz["loss"] == "mse"
    assert fz["hyperparameters"]["loss"] == "mse"
    assert on_disk["hyperparameters"]["fusion"]["loss"] == "mse"
    assert on_disk["hyperparameters"]["feedback"] == "explicit"
    assert on_disk["config"]["feedback"] == "explicit"
    # the gate still compares it with the other models and serves the winner
    assert {"fusion_float", "itemcf", "mf"} <= set(on_disk["gate"]["compared_ndcg@10"])
    assert on_disk["served_model"] == on_disk["gate"]["served"]
    # the MSE fusion (as served from the bundle, int8 ONNX) recovers the planted groups
    rec = Recommender.load(out, model="fusion_int8")
    pos = {i: j for j, i in enumerate(rated.item_ids)}
    prec = np.mean([np.mean([ig[pos[i]] == ug[u] for i, _ in rec.recommend(uid, k=5)])
                    for u, uid in enumerate(rated.user_ids)])  # fmt: skip
    assert prec > 0.8, prec  # 4 groups: ~0.25 for a random ranking


def test_default_mode_stays_listwise(trained_bundle):
    _, manifest, _ = trained_bundle
    assert manifest["config"]["feedback"] == "implicit"
    assert manifest["hyperparameters"]["feedback"] == "implicit"
    assert manifest["fusion"]["loss"] == "listwise softmax cross-entropy"
    assert manifest["fusion"]["hyperparameters"]["loss"] == "listwise softmax cross-entropy"


def test_bad_feedback_is_rejected(tmp_path, planted_data):
    with pytest.raises(ValueError, match="feedback"):
        train_bundle(planted_data[0], tmp_path / "b", config=tiny_config(feedback="stars"))


def test_cli_feedback_flag(monkeypatch, tmp_path, planted_data):
    import engine.pipeline
    from engine import cli

    seen = []

    def fake_train(data, out, *, item_features=None, config=None, progress=None):
        seen.append(config.feedback)
        return {"served_model": "mf", "bundle_bytes": 1, "metrics": {"validation": {}}}

    monkeypatch.setattr(engine.pipeline, "train_bundle", fake_train)
    p = tmp_path / "r.csv"
    p.write_text("user_id,item_id,rating\nu1,a,5\nu1,b,3\nu2,a,4\n")
    base = ["train", "--interactions", str(p), "--out", str(tmp_path / "b")]
    assert cli.main(base) == 0
    assert cli.main([*base, "--feedback", "explicit"]) == 0
    assert seen == ["implicit", "explicit"]
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args([*base, "--feedback", "stars"])
