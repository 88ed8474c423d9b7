"""The trained bundle: arrays, feature names and the manifest, written atomically."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine.bundle import write_bundle
from engine.pipeline.clock import Clock
from engine.pipeline.config import ENGINE_VERSION, K, TrainConfig
from engine.pipeline.selection import Selection
from engine.scoring import BASE_FEATURES, SECOND_MF_FEATURES


@dataclass(frozen=True)
class TrainState:
    """Everything training produced that the bundle stores, besides the :class:`Selection`.

    Shapes: ``w_all`` (n_users, n_items) CSR of confidence weights; ``pop`` (n_items,);
    ``ut`` / ``it`` (n_users / n_items, time_bins) time histograms with bin ``edges``;
    ``item_f`` / ``user_f`` side features (rows aligned with ``data``'s ids) and their names.
    ``full_mf`` / ``full_ii``: MF and item-item refit on all data; ``rotation``: the
    Procrustes rotation onto the inner model's axes (or None); ``ann_info`` and ``onnx_files``
    (bundle file name → path) describe the extra files to copy in.
    """

    full_mf: Any
    full_ii: Any
    rotation: np.ndarray | None
    pop: np.ndarray
    w_all: Any
    ut: np.ndarray
    it: np.ndarray
    edges: np.ndarray
    item_f: np.ndarray
    user_f: np.ndarray
    item_names: list[str]
    user_names: list[str]
    split: Any
    ann_info: dict
    onnx_files: dict[str, str]


def write_trained_bundle(
    out_dir, data, cfg: TrainConfig, sel: Selection, clock: Clock, state: TrainState
) -> dict:
    """Assemble the arrays and the manifest and write the bundle; returns the manifest."""
    full_mf, full_ii, rotation, pop, w_all = (
        state.full_mf,
        state.full_ii,
        state.rotation,
        state.pop,
        state.w_all,
    )
    ut, it, edges, item_f, user_f = state.ut, state.it, state.edges, state.item_f, state.user_f
    item_names, user_names, split = state.item_names, state.user_names, state.split
    ann_info, onnx_files = state.ann_info, state.onnx_files
    metrics_val, gate_info, tuning = sel.metrics_val, sel.gate_info, sel.tuning
    mf_hp, served, fusion_info = sel.mf_hp, sel.served, sel.fusion_info
    nf = full_mf.item_factors.shape[1] if cfg.fusion_features == "full" else 0
    side = cfg.fusion_features in ("side", "full")
    feature_names = (
        BASE_FEATURES
        + (SECOND_MF_FEATURES if full_mf.second is not None else [])
        + ([f"user:{n}" for n in user_names] + [f"item:{n}" for n in item_names] if side else [])
        + [f"{pre}{j}" for pre in ("P", "Q", "PQ") for j in range(nf)]
    )
    arrays = {
        "user_ids": data.user_ids.astype(str),
        "item_ids": data.item_ids.astype(str),
        "user_factors": full_mf.user_factors.astype(np.float32),
        "item_factors": full_mf.item_factors.astype(np.float32),
        "popularity": pop.astype(np.float32),
        "seen_indptr": w_all.indptr.astype(np.int64),
        "seen_indices": w_all.indices.astype(np.int32),
        "seen_weights": w_all.data.astype(np.float32),
        "user_time": ut,
        "item_time": it,
        "time_edges": edges.astype(np.int64),
        "item_features": item_f,
        "user_features": user_f,
        **full_ii.arrays(),
    }
    if data.user_rows is not None:
        arrays["user_rows"] = data.user_rows
    if full_mf.second is not None:
        arrays["user_factors2"] = full_mf.second.user_factors.astype(np.float32)
        arrays["item_factors2"] = full_mf.second.item_factors.astype(np.float32)
    ts = data.timestamps
    manifest = {
        "engine_version": ENGINE_VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "stages": ["split", "itemcf", "mf", "fusion", "compression", "onnx", "gate", "refit"],
        "served_model": served,
        "hyperparameters": {
            "item_item": {"kind": sel.item_kind, "param": sel.item_param},
            "mf": {**mf_hp, "kind": cfg.mf_kind, "iterations": cfg.mf_iterations},
            "mf_second_factors": (
                int(full_mf.second.item_factors.shape[1]) if full_mf.second is not None else None
            ),
            "n_candidates": cfg.n_candidates,
            "fusion_features": cfg.fusion_features,
            "feedback": cfg.feedback,
            "time_bins": int(len(edges) + 1),
            "fusion": fusion_info.get("hyperparameters"),
        },
        "config": _jsonable(asdict(cfg)),
        "tuning": tuning,
        "fusion": {k: v for k, v in fusion_info.items() if k not in ("val_metrics", "gate_scores")},
        "item_item": {
            "kind": sel.item_kind,
            "model": "RP3β" if sel.item_kind == "rp3b" else "EASE",
            "param": {"beta" if sel.item_kind == "rp3b" else "lambda": sel.item_param},
            **({"alpha": cfg.rp3b_alpha} if sel.item_kind == "rp3b" else {}),
            **full_ii.describe(),
        },
        "budget": clock.budget_info(),
        "features": {"names": feature_names, "item": item_names, "user": user_names},
        "data": {
            **data.counts(),
            "timestamp_min": int(ts.min()),
            "timestamp_max": int(ts.max()),
            "validation_rows": int(len(split.val)) if split is not None else 0,
            "gate_users": int(fusion_info.get("gate_users", 0)),
        },
        "metrics": {
            "validation": {
                **(
                    {
                        m: round(v, 6)
                        for m, v in metrics_val[served].items()
                        if m not in ("users", "resplits")
                    }
                    if served in metrics_val
                    else {f"ndcg@{K}": None}
                ),
                "model": served,
                "by_model": {
                    k: {m: round(x, 6) for m, x in v.items()} for k, v in metrics_val.items()
                },
            }
        },
        "gate": gate_info,
        "ann": ann_info,
        "timings_s": clock.stages,
    }
    if rotation is not None:
        manifest["hyperparameters"]["mf"]["procrustes_aligned"] = True
    if ann_info["index"]:
        manifest["stages"].append("ann")
    manifest = write_bundle(out_dir, arrays, manifest, files=onnx_files)
    return manifest


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x
