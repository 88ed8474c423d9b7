"""Reproducible training: the work is fixed by the configuration, never by the clock."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from engine.pipeline import train_bundle

from .conftest import tiny_config


def _cpu_hogs() -> list[subprocess.Popen]:
    """One busy-looping process per core, so the training below runs on a loaded machine."""
    code = "while True: pass"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(os.cpu_count() or 2)]


def test_same_data_and_seed_give_the_same_bundle_under_cpu_load(tmp_path, planted_data):
    data, _, _, feats = planted_data
    cfg = dict(fusion_folds=2, mf_max_trials=2, mf_regularization=(0.1, 1.0))
    quiet = train_bundle(data, tmp_path / "quiet", item_features=feats, config=tiny_config(**cfg))
    hogs = _cpu_hogs()
    try:
        busy = train_bundle(data, tmp_path / "busy", item_features=feats, config=tiny_config(**cfg))
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert quiet["budget"]["cap_hit"] is False and busy["budget"]["cap_hit"] is False
    assert busy["served_model"] == quiet["served_model"]
    assert busy["gate"] == quiet["gate"]
    assert busy["metrics"] == quiet["metrics"]
    assert busy["tuning"] == quiet["tuning"]
    assert busy["fusion"]["validation_ndcg@10"] == quiet["fusion"]["validation_ndcg@10"]
    # every array byte for byte; the ONNX models' weights value for value (their node names
    # carry Keras's per-process layer counters, which differ between two trainings in one
    # process)
    onnx_files = {k for k in quiet["files"] if k.endswith(".onnx")}
    assert onnx_files and set(busy["files"]) == set(quiet["files"])
    for name in set(quiet["files"]) - onnx_files:
        assert busy["files"][name]["sha256"] == quiet["files"][name]["sha256"], name
    for name in onnx_files:
        a, b = _weights(tmp_path / "quiet" / name), _weights(tmp_path / "busy" / name)
        assert len(a) == len(b) and all(map(np.array_equal, a, b)), name


def _weights(path) -> list[np.ndarray]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    return [numpy_helper.to_array(t) for t in model.graph.initializer]


def test_the_safety_stop_is_recorded(tmp_path, planted_data):
    data, _, _, feats = planted_data
    m = train_bundle(data, tmp_path / "b", config=tiny_config(time_budget_s=1e-3, fusion_folds=2))
    assert m["budget"]["cap_hit"] is True and m["budget"]["wall_clock_cap_s"] == 1e-3
    assert "fusion:resplits" in m["budget"]["cut_short"]
