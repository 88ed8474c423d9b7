"""Refit EASE and MF on all interactions with the chosen hyperparameters, and build the ANN
index over the refit MF item factors for large catalogues."""

from __future__ import annotations

import os
import time

from engine.ann import ANN_FILE, build_index
from engine.mf import MFModel, procrustes_align
from engine.pipeline.clock import Clock
from engine.pipeline.config import TrainConfig
from engine.pipeline.selection import Selection
from engine.pipeline.splits import time_histograms
from engine.pipeline.tuning import fit_item_item_cfg, fit_tuned_mf, fit_tuned_mf_pair, rotated_mf


def refit_all(data, x_all, w_all, sel: Selection, cfg: TrainConfig, edges):
    """(MF on all data rotated onto the inner model's axes, Procrustes rotation or None,
    the item-item weights on all data, user_time, item_time)."""
    full_mf = (
        fit_tuned_mf_pair(w_all, sel.mf_hp, cfg)
        if sel.fusion_info.get("trained")
        else fit_tuned_mf(w_all, sel.mf_hp, cfg)
    )
    rotation = None
    if sel.inner_mf is not None and sel.inner_mf.item_factors.shape == full_mf.item_factors.shape:
        rotation = procrustes_align(full_mf.item_factors, sel.inner_mf.item_factors)
        full_mf = rotated_mf(full_mf, rotation)
    full_ii = fit_item_item_cfg(x_all, sel.item_kind, sel.item_param, cfg)
    ut, it = time_histograms(data, edges)
    return full_mf, rotation, full_ii, ut, it


def build_ann_file(
    full_mf: MFModel,
    n_items: int,
    cfg: TrainConfig,
    clock: Clock,
    tmpdir: str,
    onnx_files: dict[str, str],
) -> dict:
    """Above ``cfg.ann_threshold`` items, the hnswlib index saved to ``tmpdir`` and listed in
    ``onnx_files`` (the bundle's extra files); returns ``manifest["ann"]``."""
    ann_info = {"threshold": int(cfg.ann_threshold), "index": None}
    if n_items > cfg.ann_threshold:
        clock.report("ann", 0.0)
        t_ann = time.time()
        ann = build_index(
            full_mf.item_factors,
            m=cfg.ann_m,
            ef_construction=cfg.ann_ef_construction,
            ef_search=cfg.ann_ef_search,
            seed=cfg.seed,
            num_threads=1,  # hnswlib's multithreaded inserts are not reproducible
        )
        ann_path = os.path.join(tmpdir, ANN_FILE)
        ann.index.save_index(ann_path)
        onnx_files[ANN_FILE] = ann_path
        ann_info.update(index=ANN_FILE, library="hnswlib", space="ip", M=cfg.ann_m,
                        ef_construction=cfg.ann_ef_construction, ef_search=cfg.ann_ef_search,
                        build_s=round(time.time() - t_ann, 3))  # fmt: skip
        clock.done("ann")
    return ann_info
