"""Model selection on the validation split: tune EASE / MF, train and compress the fusion
reranker on several re-splits, and let the gate pick the served model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.cf import popularity
from engine.data import InteractionData
from engine.mf import MFModel, procrustes_align
from engine.pipeline.clock import Clock
from engine.pipeline.compression import train_and_compress
from engine.pipeline.config import K, TrainConfig
from engine.pipeline.fusion_data import candidate_features, labelled_candidates, scoring_context
from engine.pipeline.gate import GateSet
from engine.pipeline.splits import Split, validation_split
from engine.pipeline.tuning import (
    _mf_grid,
    _tune_item_item,
    _tune_mf,
    fit_item_item_cfg,
    fit_tuned_mf_pair,
    item_item_grid,
    rotated_mf,
)


@dataclass
class Selection:
    """What validation decided: hyperparameters, metrics, the gate and the served model."""

    metrics_val: dict
    gate_info: dict
    tuning: dict
    item_kind: str  # "ease" | "rp3b" (engine.itemitem)
    item_param: float  # EASE λ or RP3β β
    mf_hp: dict
    served: str
    fusion_info: dict
    inner_mf: MFModel | None


def select_models(
    data: InteractionData,
    split: Split | None,
    cfg: TrainConfig,
    clock: Clock,
    item_kind: str,
    item_f: np.ndarray,
    user_f: np.ndarray,
    edges: np.ndarray,
    tmpdir: str,
    onnx_files: dict[str, str],
) -> Selection:
    """Tune, train the fusion (ONNX files go to ``tmpdir`` / ``onnx_files``) and run the gate;
    without a usable validation split, the defaults (the item-item model, middle of its grid)."""
    metrics_val: dict[str, dict] = {}
    gate_info: dict = {"winner": None, "rule": "no validation split: default model"}
    tuning: dict = {}
    grid = item_item_grid(item_kind, cfg)
    item_param = grid[len(grid) // 2]
    mf_hp = _mf_grid(cfg)[0]
    served = "itemcf"
    fusion_info: dict = {"trained": False}
    inner_mf: MFModel | None = None

    if split is not None and len(split.val_users) > 0:
        item_param, inner_ii, res = _tune_item_item(split, item_kind, cfg, clock)
        tuning["item_item"] = {"kind": item_kind, "trials": res}
        clock.done("tune_itemcf")
        mf_hp, nd_mf, trials = _tune_mf(split, cfg, clock)
        tuning["mf_trials"] = trials
        clock.done("tune_mf")
        inner_mf = fit_tuned_mf_pair(split.w_inner, mf_hp, cfg)
        ctx_in, ut_in = scoring_context(split.inner, inner_mf, inner_ii, item_f, user_f, edges, cfg)
        rng = np.random.default_rng(cfg.seed)
        users = split.val_users.copy()
        rng.shuffle(users)
        users = users[: cfg.fusion_max_users]
        n_gate = max(1, int(round(cfg.gate_fraction * len(users))))
        gate, fit_users = np.sort(users[:n_gate]), np.sort(users[n_gate:])
        gate_set = GateSet()
        gb = candidate_features(ctx_in, gate, split.x_inner, inner_mf, ut_in, user_f, _pop(split))
        gate_set.add(gb, split, gate)
        enough = len(fit_users) >= cfg.fusion_min_users and cfg.use_fusion
        if enough:
            clock.report("fusion:features", 0.0)
            parts = [
                labelled_candidates(ctx_in, split, fit_users, inner_mf, ut_in, user_f, cfg.feedback)
            ]
            for j in range(1, cfg.fusion_folds):
                if clock.over(0.4, "fusion:resplits"):
                    break
                sj = validation_split(data, cfg, seed=cfg.seed + j)
                if sj is None:
                    break
                mf_j = fit_tuned_mf_pair(sj.w_inner, mf_hp, cfg)
                mf_j = rotated_mf(mf_j, procrustes_align(mf_j.item_factors, inner_mf.item_factors))
                ii_j = fit_item_item_cfg(sj.x_inner, item_kind, item_param, cfg)
                ctx_j, ut_j = scoring_context(sj.inner, mf_j, ii_j, item_f, user_f, edges, cfg)
                fit_j = np.intersect1d(fit_users, sj.val_users)
                parts.append(
                    labelled_candidates(ctx_j, sj, fit_j, mf_j, ut_j, user_f, cfg.feedback)
                )
                # the gate users never train the fusion in any fold, so each re-split gives
                # another (correlated but leak-free) look at them: less noise in the gate
                gate_j = np.intersect1d(gate, sj.val_users)
                gb_j = candidate_features(ctx_j, gate_j, sj.x_inner, mf_j, ut_j, user_f, _pop(sj))
                gate_set.add(gb_j, sj, gate_j)
                clock.report("fusion:features", j / cfg.fusion_folds)
            fb = {
                "features": np.concatenate([p[0] for p in parts]),
                "candidates": np.concatenate([p[1] for p in parts]),
            }
            labels = np.concatenate([p[2] for p in parts])
            fusion_info_folds = len(parts)
            del parts
            clock.done("fusion_features")
            fusion_info = train_and_compress(
                cfg, clock, fb, labels, {"features": gate_set.features()}, gate_set.fusion_metrics,
                tmpdir, onnx_files,
            )  # fmt: skip
            fusion_info["folds"] = fusion_info_folds
        metrics_val.update(gate_set.model_metrics())
        if fusion_info.get("trained"):
            for name in ("fusion_float", "fusion_int8"):
                metrics_val[name] = fusion_info["val_metrics"][name]
        served, gate_info = _gate(metrics_val, gate_set, fusion_info, cfg)

    return Selection(
        metrics_val, gate_info, tuning, item_kind, item_param, mf_hp, served, fusion_info, inner_mf
    )


def _pop(split: Split) -> np.ndarray:
    return popularity(split.x_inner)


def _gate(metrics_val: dict, gate_set: GateSet, fusion_info: dict, cfg: TrainConfig):
    """(served model, manifest["gate"]). The single models compete on mean gate nDCG@10; the
    fusion (its float ONNX standing for the family) replaces the best of them only when its
    per-user gain is positive by ``cfg.gate_z`` standard errors, so that a gain the gate
    users cannot tell from noise never ships. A winning fusion is served as int8 when int8 is
    within ``int8_tolerance`` of the float model, else as float (the compression rule)."""
    family = {k: v[f"ndcg@{K}"] for k, v in metrics_val.items() if k != "fusion_int8"}
    single = {k: v for k, v in family.items() if not k.startswith("fusion")}
    best_single = max(single, key=lambda k: single[k])
    winner, test = best_single, None
    if fusion_info.get("trained"):
        test = gate_set.paired_gain(fusion_info["gate_scores"], best_single)
        if test["mean"] - cfg.gate_z * test["se"] > 0:
            winner = "fusion_float"
    served = fusion_info["served_file"] if winner == "fusion_float" else winner
    info = {
        "compared_ndcg@10": {k: round(v, 6) for k, v in family.items()},
        "winner": winner,
        "served": served,
        "rule": f"best single model by validation nDCG@10 on the gate users; the fusion "
        f"instead when its per-user gain over it is > {cfg.gate_z:g} standard errors; "
        f"fusion served as int8 when int8 loses <= {cfg.int8_tolerance:.0%} vs float",
    }
    if test is not None:  # se is inf below two users: JSON (and PostgreSQL) take no inf
        finite = {k: (v if np.isfinite(v) else None) for k, v in test.items()}
        info["fusion_vs_best_single"] = {"against": best_single, **finite}
    return served, info
