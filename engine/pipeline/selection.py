"""Model selection on the validation split: tune EASE / MF, train and compress the fusion
reranker on several re-splits, and let the gate pick the served model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.cf import ease_fit
from engine.data import InteractionData
from engine.mf import MFModel, procrustes_align
from engine.pipeline.clock import _Clock
from engine.pipeline.compression import _train_and_compress
from engine.pipeline.config import K, TrainConfig
from engine.pipeline.fusion_data import _batch, _context, _labelled
from engine.pipeline.gate import _GateSet
from engine.pipeline.splits import _Split, _split
from engine.pipeline.tuning import _fit_mf_pair, _mf_grid, _rotated, _tune_ease, _tune_mf
from engine.scoring import build_features


@dataclass
class Selection:
    """What validation decided: hyperparameters, metrics, the gate and the served model."""

    metrics_val: dict
    gate_info: dict
    tuning: dict
    ease_lam: float
    mf_hp: dict
    served: str
    fusion_info: dict
    inner_mf: MFModel | None


def select_models(
    data: InteractionData,
    split: _Split | None,
    cfg: TrainConfig,
    clock: _Clock,
    use_ease: bool,
    item_f: np.ndarray,
    user_f: np.ndarray,
    edges: np.ndarray,
    tmpdir: str,
    onnx_files: dict[str, str],
) -> Selection:
    """Tune, train the fusion (ONNX files go to ``tmpdir`` / ``onnx_files``) and run the gate;
    without a usable validation split, the defaults (EASE, or MF above EASE_MAX_ITEMS)."""
    metrics_val: dict[str, dict] = {}
    gate_info: dict = {"winner": None, "rule": "no validation split: default model"}
    tuning: dict = {}
    ease_lam = cfg.ease_lambdas[min(3, len(cfg.ease_lambdas) - 1)]
    mf_hp = _mf_grid(cfg)[0]
    served = "ease" if use_ease else "mf"
    fusion_info: dict = {"trained": False}
    inner_mf: MFModel | None = None

    if split is not None and len(split.val_users) > 0:
        inner_ease = None
        if use_ease:
            ease_lam, inner_ease, res = _tune_ease(split, cfg, clock)
            tuning["ease_lambda"] = res
        clock.done("tune_ease")
        mf_hp, nd_mf, trials = _tune_mf(split, cfg, clock)
        tuning["mf_trials"] = trials
        clock.done("tune_mf")
        inner_mf = _fit_mf_pair(split.w_inner, mf_hp, cfg)
        ctx_in, ut_in = _context(split.inner, inner_mf, inner_ease, item_f, user_f, edges, cfg)
        rng = np.random.default_rng(cfg.seed)
        users = split.val_users.copy()
        rng.shuffle(users)
        users = users[: cfg.fusion_max_users]
        n_gate = max(1, int(round(cfg.gate_fraction * len(users))))
        gate, fit_users = np.sort(users[:n_gate]), np.sort(users[n_gate:])
        gate_set = _GateSet(use_ease)
        gb = build_features(ctx_in, _batch(gate, split.x_inner, inner_mf, ut_in, user_f))
        gate_set.add(gb, split, gate)
        enough = len(fit_users) >= cfg.fusion_min_users and cfg.use_fusion
        if enough:
            clock.report("fusion:features", 0.0)
            parts = [_labelled(ctx_in, split, fit_users, inner_mf, ut_in, user_f, cfg.feedback)]
            for j in range(1, cfg.fusion_folds):
                if clock.time_spent_frac() > 0.4:
                    break
                sj = _split(data, cfg, seed=cfg.seed + j)
                if sj is None:
                    break
                mf_j = _fit_mf_pair(sj.w_inner, mf_hp, cfg)
                mf_j = _rotated(mf_j, procrustes_align(mf_j.item_factors, inner_mf.item_factors))
                ease_j = ease_fit(sj.x_inner, ease_lam) if use_ease else None
                ctx_j, ut_j = _context(sj.inner, mf_j, ease_j, item_f, user_f, edges, cfg)
                fit_j = np.intersect1d(fit_users, sj.val_users)
                parts.append(_labelled(ctx_j, sj, fit_j, mf_j, ut_j, user_f, cfg.feedback))
                # the gate users never train the fusion in any fold, so each re-split gives
                # another (correlated but leak-free) look at them: less noise in the gate
                gate_j = np.intersect1d(gate, sj.val_users)
                gate_set.add(build_features(ctx_j, _batch(gate_j, sj.x_inner, mf_j, ut_j, user_f)),
                             sj, gate_j)  # fmt: skip
                clock.report("fusion:features", j / cfg.fusion_folds)
            fb = {
                "features": np.concatenate([p[0] for p in parts]),
                "candidates": np.concatenate([p[1] for p in parts]),
            }
            labels = np.concatenate([p[2] for p in parts])
            fusion_info_folds = len(parts)
            del parts
            clock.done("fusion_features")
            fusion_info = _train_and_compress(
                cfg, clock, fb, labels, {"features": gate_set.features()}, gate_set.fusion_metrics,
                tmpdir, onnx_files,
            )  # fmt: skip
            fusion_info["folds"] = fusion_info_folds
        metrics_val.update(gate_set.model_metrics())
        if fusion_info.get("trained"):
            for name in ("fusion_float", "fusion_int8"):
                metrics_val[name] = fusion_info["val_metrics"][name]
        # the gate: serve whatever wins on the gate users
        # Families compete with their best uncompressed form (the fusion with its float ONNX);
        # a winning fusion is then served as int8 when int8 is within ``int8_tolerance`` of the
        # float model, else as float (the compression rule).
        candidates = {k: v[f"ndcg@{K}"] for k, v in metrics_val.items()}
        family = dict(candidates)
        if "fusion_float" in family:
            family.pop("fusion_int8", None)
        winner = max(family, key=lambda k: family[k])
        served = fusion_info["served_file"] if winner == "fusion_float" else winner
        gate_info = {
            "compared_ndcg@10": {k: round(v, 6) for k, v in family.items()},
            "winner": winner,
            "served": served,
            "rule": "max validation nDCG@10 on gate users; fusion served as int8 when int8 "
            f"loses <= {cfg.int8_tolerance:.0%} vs float",
        }

    return Selection(metrics_val, gate_info, tuning, ease_lam, mf_hp, served, fusion_info, inner_mf)
