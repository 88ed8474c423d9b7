"""Fusion training, pruning + fine-tune, float/int8 ONNX export and their gate metrics."""

from __future__ import annotations

import os
import time

import numpy as np

from engine.pipeline.config import K


def train_and_compress(cfg, clock, fb, labels, gb, gate_metrics, tmpdir, onnx_files) -> dict:
    """Fit the fusion scorer, prune + fine-tune, export float/int8 ONNX, evaluate both."""
    from engine import fusion

    def gate_eval(scores: np.ndarray) -> float:
        return gate_metrics(scores)[f"ndcg@{K}"]

    clock.report("fusion", 0.0)
    fusion.configure_tensorflow(cfg.num_threads or None)
    t0 = time.time()
    valid = fb["candidates"] >= 0
    feats, gfeats = fb["features"], gb["features"]
    d = feats.shape[2]
    loss = "mse" if cfg.feedback == "explicit" else "listwise"
    res = fusion.train_fusion(
        feats,
        labels,
        valid,
        gfeats,
        gate_eval,
        hidden=tuple(cfg.fusion_hidden),
        dropout=cfg.fusion_dropout,
        learning_rate=cfg.fusion_learning_rate,
        epochs=cfg.fusion_epochs,
        patience=cfg.fusion_patience,
        batch_users=cfg.fusion_batch_users,
        seed=cfg.seed,
        deadline=clock.deadline(0.75),  # safety stop only (see TrainConfig.time_budget_s)
        min_epochs=cfg.fusion_min_epochs,
        progress=lambda ep, sc: clock.report("fusion", ep / cfg.fusion_epochs),
        loss=loss,
    )
    train_s = time.time() - t0
    if res.cut_short:
        clock.note_cut_short("fusion")
    clock.done("fusion")
    clock.report("compression", 0.0)
    float_path = os.path.join(tmpdir, "fusion_float.onnx")
    fusion.export_onnx(res.scorer, float_path, d)
    nd_float = gate_eval(fusion.onnx_scores(float_path, gfeats))
    pruned = fusion.prune_scorer(res.scorer, cfg.prune_keep)
    nd_pruned0 = gate_eval(fusion.scorer_scores(pruned, gfeats))
    ft = fusion.train_fusion(
        feats,
        labels,
        valid,
        gfeats,
        gate_eval,
        learning_rate=cfg.fusion_learning_rate * 0.5,
        epochs=cfg.finetune_epochs,
        patience=cfg.finetune_epochs,
        scorer=pruned,
        seed=cfg.seed + 1,
        loss=loss,
    )
    pruned_path = os.path.join(tmpdir, "fusion_pruned.onnx")
    fusion.export_onnx(ft.scorer, pruned_path, d)
    int8_path = os.path.join(tmpdir, "fusion_int8.onnx")
    fusion.quantize_int8(pruned_path, int8_path)
    nd_pruned = gate_eval(fusion.onnx_scores(pruned_path, gfeats))
    int8_scores = fusion.onnx_scores(int8_path, gfeats)
    nd_int8 = gate_eval(int8_scores)
    float_scores = fusion.onnx_scores(float_path, gfeats)
    int8_ok = nd_int8 >= (1.0 - cfg.int8_tolerance) * nd_float
    clock.done("compression")
    onnx_files["fusion_float.onnx"] = float_path
    onnx_files["fusion_int8.onnx"] = int8_path
    sizes = {
        "float_bytes": os.path.getsize(float_path),
        "pruned_float_bytes": os.path.getsize(pruned_path),
        "int8_bytes": os.path.getsize(int8_path),
    }
    hidden_pruned = [int(ly.units) for ly in ft.scorer.layers if ly.name.startswith("hidden")]
    return {
        "trained": True,
        "loss": fusion.LOSSES[loss],
        "served_file": "fusion_int8" if int8_ok else "fusion_float",
        "int8_within_tolerance": bool(int8_ok),
        "hyperparameters": {
            "hidden": list(cfg.fusion_hidden),
            "hidden_pruned": hidden_pruned,
            "dropout": cfg.fusion_dropout,
            "learning_rate": cfg.fusion_learning_rate,
            "epochs_best": res.epochs,
            "loss": fusion.LOSSES[loss],
            "n_features": int(d),
        },
        "train_seconds": round(train_s, 2),
        "train_users": int(len(feats)),
        "gate_users": int(len(gfeats)),
        "validation_ndcg@10": {
            "keras": round(res.best_ndcg, 6),
            "float_onnx": round(nd_float, 6),
            "pruned_before_finetune": round(nd_pruned0, 6),
            "pruned_float_onnx": round(nd_pruned, 6),
            "int8_onnx": round(nd_int8, 6),
        },
        "history": [round(h, 5) for h in res.history],
        "sizes": sizes,
        "int8_vs_float_size": round(sizes["int8_bytes"] / sizes["float_bytes"], 4),
        "int8_vs_pruned_float_size": round(sizes["int8_bytes"] / sizes["pruned_float_bytes"], 4),
        # the served file's scores for the gate users (the gate's paired test); not in the
        # manifest
        "gate_scores": int8_scores if int8_ok else float_scores,
        "val_metrics": {
            "fusion_float": gate_metrics(float_scores),
            "fusion_int8": gate_metrics(int8_scores),
        },
    }
