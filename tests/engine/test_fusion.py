"""Keras scorer vs ONNX float / int8 parity, structured pruning, listwise training."""

import numpy as np
import pytest

from engine import fusion


@pytest.fixture(scope="module")
def scorer():
    rng = np.random.default_rng(0)
    d = 12
    x = rng.normal(size=(40, 8, d)).astype(np.float32)
    # a planted target: the candidate with the largest feature 0 is the positive
    labels = (x[..., 0] == x[..., 0].max(axis=1, keepdims=True)).astype(np.float32)
    valid = np.ones(labels.shape, bool)

    def evaluate(scores):
        return float(np.mean(scores.argmax(axis=1) == x[..., 0].argmax(axis=1)))

    res = fusion.train_fusion(x, labels, valid, x, evaluate, hidden=(32, 16), dropout=0.0,
                              learning_rate=1e-2, epochs=15, patience=15)  # fmt: skip
    return res, x, evaluate


def test_listwise_training_learns_the_planted_rule(scorer):
    res, x, evaluate = scorer
    assert res.best_ndcg > 0.9  # an untrained scorer picks the right one ~1/8 of the time


def test_onnx_float_matches_keras_and_int8_is_close(scorer, tmp_path):
    res, x, _ = scorer
    d = x.shape[-1]
    keras_scores = fusion.scorer_scores(res.scorer, x)
    fp = str(tmp_path / "f.onnx")
    fusion.export_onnx(res.scorer, fp, d)
    onnx_scores = fusion.onnx_scores(fp, x)
    np.testing.assert_allclose(onnx_scores, keras_scores, rtol=1e-4, atol=1e-4)
    ip = str(tmp_path / "i.onnx")
    fusion.quantize_int8(fp, ip)
    int8 = fusion.onnx_scores(ip, x)
    assert np.corrcoef(int8.ravel(), keras_scores.ravel())[0, 1] > 0.99


def test_pruning_removes_units_and_keeps_quality_after_finetune(scorer):
    res, x, evaluate = scorer
    small = fusion.prune_scorer(res.scorer, 0.5)
    widths = [ly.units for ly in small.layers if ly.name.startswith("hidden")]
    assert widths == [16, 8]
    labels = (x[..., 0] == x[..., 0].max(axis=1, keepdims=True)).astype(np.float32)
    ft = fusion.train_fusion(x, labels, np.ones(labels.shape, bool), x, evaluate,
                             learning_rate=5e-3, epochs=5, patience=5, scorer=small)  # fmt: skip
    assert ft.best_ndcg > 0.85
