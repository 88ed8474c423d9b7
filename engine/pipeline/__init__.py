"""Training pipeline: split → item-item CF (EASE or RP3β) / MF (tuned on validation) → deep
fusion → compression → ONNX → gate → refit on all data → (ANN index) → bundle.

Protocol (no test data is ever seen here): the interactions given to :func:`train_bundle` are
split per item (the MS Recommenders procedure, seed 42) into an inner-train part and a
validation part. CF models are tuned inner → validation. The fusion network learns to rerank
the inner models' candidates against the validation items of 75% of the validation users
(early stopping on the other 25% — the "gate users"); on those gate users every servable model
(popularity, item-item, MF, item-item+MF blend, fusion float/int8) is compared: the best
single model is served unless the fusion beats it per user by a significant margin.
Finally item-item and MF are refit on all interactions with the chosen hyperparameters (MF
rotated onto the inner model's axes by orthogonal Procrustes, so the fusion network reads them).
The work done is fixed by the configuration; the clock is a safety stop only (``clock``).

Modules: ``config`` (TrainConfig), ``splits`` (validation re-splits, time histograms),
``clock`` (safety stop), ``tuning`` (item-item / MF search), ``fusion_data`` (labelled candidate
lists), ``compression`` (fusion training, pruning, ONNX, int8), ``gate`` (model comparison),
``selection`` (all of validation), ``refit`` (refit on all data, ANN index),
``bundle_writer`` (arrays + manifest).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from engine.cf import popularity
from engine.data import DataError, InteractionData
from engine.features import FeatureMatrix, align_features
from engine.pipeline.bundle_writer import TrainState, write_trained_bundle
from engine.pipeline.clock import Clock
from engine.pipeline.config import ENGINE_VERSION, K, TrainConfig
from engine.pipeline.gate import rerank_topk
from engine.pipeline.refit import build_ann_file, refit_all
from engine.pipeline.selection import select_models
from engine.pipeline.splits import time_bucket_edges, time_histograms, validation_split
from engine.pipeline.tuning import item_item_kind_cfg

__all__ = ["TrainConfig", "train_bundle", "time_histograms", "rerank_topk", "ENGINE_VERSION", "K"]


def train_bundle(
    data: InteractionData,
    out_dir: str | Path,
    *,
    item_features: FeatureMatrix | None = None,
    user_features: FeatureMatrix | None = None,
    config: TrainConfig | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> dict:
    """Train every stage and write the bundle at ``out_dir`` (atomically).

    Args:
        data: all interactions to learn from (the caller holds out its own test data).
        out_dir: bundle directory to create or replace.
        item_features / user_features: optional side features keyed by external ids.
        config: :class:`TrainConfig`.
        progress: called as ``progress(stage, fraction_done)``.
    Returns:
        the manifest dict (also written to ``out_dir/manifest.json``);
        ``manifest["metrics"]["validation"]["ndcg@10"]`` is the served model's gate metric.
    """
    cfg = config or TrainConfig()
    if cfg.feedback not in ("implicit", "explicit"):
        raise ValueError(f"feedback must be 'implicit' or 'explicit', not {cfg.feedback!r}")
    if len(data) < 2 or data.n_items < 2:
        raise DataError(
            f"too few interactions to train ({len(data)} rows, {data.n_items} items); need at "
            "least 2 interactions on 2 different items"
        )
    clock = Clock(cfg.time_budget_s, progress)
    clock.report("split", 0.0)
    x_all = data.csr(binary=True)
    w_all = data.csr()
    pop = popularity(x_all)
    item_f, item_names = align_features(item_features, data.item_ids)
    user_f, user_names = align_features(user_features, data.user_ids)
    edges = time_bucket_edges(data.timestamps, cfg.time_bins)
    split = validation_split(data, cfg)
    item_kind = item_item_kind_cfg(data.n_users, data.n_items, cfg)
    clock.done("split")

    onnx_files: dict[str, str] = {}
    tmpdir = tempfile.mkdtemp(prefix="m6rec-fusion-")
    sel = select_models(
        data, split, cfg, clock, item_kind, item_f, user_f, edges, tmpdir, onnx_files
    )
    clock.report("refit", 0.0)

    # ---- refit on all data with the chosen hyperparameters
    full_mf, rotation, full_ii, ut, it = refit_all(data, x_all, w_all, sel, cfg, edges)
    clock.done("refit")
    ann_info = build_ann_file(full_mf, data.n_items, cfg, clock, tmpdir, onnx_files)
    clock.report("bundle", 0.0)
    state = TrainState(
        full_mf=full_mf, full_ii=full_ii, rotation=rotation, pop=pop, w_all=w_all, ut=ut,
        it=it, edges=edges, item_f=item_f, user_f=user_f, item_names=item_names,
        user_names=user_names, split=split, ann_info=ann_info, onnx_files=onnx_files,
    )  # fmt: skip
    manifest = write_trained_bundle(out_dir, data, cfg, sel, clock, state)
    shutil.rmtree(tmpdir, ignore_errors=True)
    clock.report("bundle", 1.0)
    return manifest
