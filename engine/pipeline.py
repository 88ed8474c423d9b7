"""Training pipeline: split → EASE / MF (tuned on validation) → deep fusion → compression →
ONNX → gate → refit on all data → bundle.

Protocol (no test data is ever seen here): the interactions given to :func:`train_bundle` are
split per item (the MS Recommenders procedure, seed 42) into an inner-train part and a
validation part. CF models are tuned inner → validation. The fusion network learns to rerank
the inner models' candidates against the validation items of 85% of the validation users
(early stopping on the other 15% — the "gate users"); on those gate users every servable model
(popularity, EASE, MF, EASE+MF blend, fusion float/int8) is compared and the winner is served.
Finally EASE and MF are refit on all interactions with the chosen hyperparameters (MF rotated
onto the inner model's axes by orthogonal Procrustes, so the fusion network reads them).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from engine.ann import ANN_FILE, DEFAULT_THRESHOLD, build_index
from engine.bundle import write_bundle
from engine.cf import EASE_MAX_ITEMS, ease_fit, popularity
from engine.data import DataError, InteractionData, stratified_split
from engine.features import FeatureMatrix, align_features
from engine.metrics import ranking_metrics, topk_from_scores
from engine.mf import MFModel, confidence, fit_mf, procrustes_align
from engine.scoring import (
    BASE_FEATURES,
    SECOND_MF_FEATURES,
    ScoringContext,
    UserBatch,
    build_features,
)

__all__ = ["TrainConfig", "train_bundle", "time_histograms", "ENGINE_VERSION"]

ENGINE_VERSION = "0.1.0"
K = 10


@dataclass
class TrainConfig:
    """Training settings. Grids are searched on the validation split within ``time_budget_s``."""

    time_budget_s: float = 90.0
    seed: int = 42
    split_ratio: float = 0.75
    # CF / MF
    ease_lambdas: tuple[float, ...] = (500.0, 250.0, 800.0, 1200.0)
    mf_kind: str = "als"  # "als" or "bpr"
    mf_factors: tuple[int, ...] = (32, 64)
    mf_regularization: tuple[float, ...] = (20.0, 5.0, 10.0, 35.0)
    mf_alpha: tuple[float, ...] = (1.0, 0.5, 2.0)
    mf_transform: tuple[str, ...] = ("binary", "log")
    mf_iterations: int = 15
    mf_max_trials: int = 8
    # fusion
    use_fusion: bool = True
    n_candidates: int = 100
    fusion_hidden: tuple[int, ...] = (128, 64)
    fusion_dropout: float = 0.1
    fusion_learning_rate: float = 3e-4
    fusion_epochs: int = 40
    fusion_patience: int = 4
    fusion_batch_users: int = 64
    fusion_min_epochs: int = 3
    fusion_second_mf: bool = True
    fusion_max_users: int = 4000
    fusion_min_users: int = 20
    gate_fraction: float = 0.25
    fusion_folds: int = 4
    # "base": the 14 normalised-score/behaviour features (genre affinity included);
    # "side": + raw user and item features; "full": + MF vectors and their product.
    # On ml-100k validation the extra blocks overfit (see docs/engine.md), hence "base".
    fusion_features: str = "base"
    # compression
    prune_keep: float = 0.5
    finetune_epochs: int = 4
    int8_tolerance: float = 0.01
    # ANN candidates (hnswlib, inner product over the MF item factors) above this many items;
    # the index is built here and saved in the bundle (see docs/engine.md)
    ann_threshold: int = DEFAULT_THRESHOLD
    ann_m: int = 16
    ann_ef_construction: int = 200
    ann_ef_search: int = 200
    # features
    time_bins: int = 32
    num_threads: int = 0
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- helpers
def time_histograms(
    data: InteractionData, edges: np.ndarray, smoothing: float = 50.0
) -> tuple[np.ndarray, np.ndarray]:
    """(user_time (n_users, B) row-normalised, item_time (B, n_items) = P(item | bin)).

    P(item | bin) is smoothed towards overall popularity with ``smoothing`` pseudo-counts.
    """
    nb = len(edges) + 1
    bins = np.searchsorted(edges, data.timestamps, side="right")
    ut = np.zeros((data.n_users, nb), np.float64)
    np.add.at(ut, (data.users, bins), 1.0)
    rs = ut.sum(axis=1, keepdims=True)
    glob = np.bincount(bins, minlength=nb).astype(np.float64)
    glob = glob / max(glob.sum(), 1.0)
    ut = np.where(rs > 0, ut / np.maximum(rs, 1.0), glob[None, :])
    it = np.zeros((nb, data.n_items), np.float64)
    np.add.at(it, (bins, data.items), 1.0)
    p = it.sum(axis=0)
    p = p / max(p.sum(), 1.0)
    it = (it + smoothing * p[None, :]) / (it.sum(axis=1, keepdims=True) + smoothing)
    return ut.astype(np.float32), it.astype(np.float32)


def _time_edges(ts: np.ndarray, n_bins: int) -> np.ndarray:
    if len(ts) == 0 or n_bins <= 1:
        return np.zeros(0, np.int64)
    q = np.quantile(ts, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.unique(q.astype(np.int64))


def _ndcg_full(scores: np.ndarray, truth: sp.csr_matrix, users: np.ndarray) -> float:
    return ranking_metrics(topk_from_scores(scores, K), truth, users, K)[f"ndcg@{K}"]


def _masked(scores: np.ndarray, seen: sp.csr_matrix) -> np.ndarray:
    s = np.array(scores, dtype=np.float32, copy=True)
    r, c = seen.nonzero()
    s[r, c] = -np.inf
    return s


def rerank_topk(cands: np.ndarray, scores: np.ndarray, k: int = K) -> np.ndarray:
    """Top-k internal ids from candidates (n, C) by scores (n, C); padding (-1) goes last."""
    s = np.where(cands >= 0, scores, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(cands, order, axis=1)


@dataclass
class _Split:
    inner: InteractionData
    val: InteractionData
    x_inner: sp.csr_matrix  # binary
    w_inner: sp.csr_matrix  # weights
    truth: sp.csr_matrix
    val_users: np.ndarray


def _split(data: InteractionData, cfg: TrainConfig, seed: int | None = None) -> _Split | None:
    seed = cfg.seed if seed is None else seed
    mask = stratified_split(data.items, ratio=cfg.split_ratio, seed=seed)
    inner, val = data.subset(mask), data.subset(~mask)
    if len(val) == 0 or len(inner) == 0:
        return None
    return _Split(
        inner,
        val,
        inner.csr(binary=True),
        inner.csr(),
        val.csr(binary=True),
        np.unique(val.users).astype(np.int64),
    )


class _Clock:
    def __init__(self, budget: float, progress):
        self.t0 = time.time()
        self.budget = budget
        self.progress = progress
        self.stages: dict[str, float] = {}
        self._last = self.t0

    def left(self) -> float:
        return self.budget - (time.time() - self.t0)

    def deadline(self, frac: float) -> float:
        return self.t0 + frac * self.budget

    def report(self, stage: str, frac: float) -> None:
        if self.progress is not None:
            self.progress(stage, float(min(max(frac, 0.0), 1.0)))

    def done(self, stage: str) -> None:
        now = time.time()
        self.stages[stage] = round(self.stages.get(stage, 0.0) + now - self._last, 3)
        self._last = now


# ---------------------------------------------------------------- tuning
def _tune_ease(s: _Split, cfg: TrainConfig, clock: _Clock) -> tuple[float, np.ndarray, dict]:
    """Best λ on validation, its inner-split EASE matrix, and every trial's nDCG@10."""
    results = {}
    best = (-1.0, cfg.ease_lambdas[0], None)
    hist = s.x_inner[s.val_users]
    for j, lam in enumerate(cfg.ease_lambdas):
        if j > 0 and clock.time_spent_frac() > 0.2:
            break
        b = ease_fit(s.x_inner, lam)
        nd = _ndcg_full(_masked(hist @ b, hist), s.truth, s.val_users)
        results[str(lam)] = round(nd, 5)
        if nd > best[0]:
            best = (nd, lam, b)
        clock.report("tune:ease", (j + 1) / len(cfg.ease_lambdas))
    return best[1], best[2], results


def _mf_grid(cfg: TrainConfig) -> list[dict]:
    rng = np.random.default_rng(cfg.seed)
    grid = [
        {"factors": f, "regularization": r, "alpha": a, "transform": t}
        for f in cfg.mf_factors
        for r in cfg.mf_regularization
        for a in cfg.mf_alpha
        for t in cfg.mf_transform
    ]
    rng.shuffle(grid)
    # always try the first value of every grid first (a sensible default)
    default = {"factors": cfg.mf_factors[0], "regularization": cfg.mf_regularization[0],
               "alpha": cfg.mf_alpha[0], "transform": cfg.mf_transform[0]}  # fmt: skip
    return [default] + [g for g in grid if g != default]


def _second_factors(hp: dict) -> int:
    return 128 if hp["factors"] < 128 else 32


def _fit_mf_pair(w: sp.csr_matrix, hp: dict, cfg: TrainConfig) -> MFModel:
    """The chosen MF plus (``cfg.fusion_second_mf``) a second one with another factor count,
    whose scores are an extra fusion input (an ensemble of MF views)."""
    m = _fit_mf(w, hp, cfg)
    if cfg.fusion_second_mf:
        m.second = _fit_mf(w, {**hp, "factors": _second_factors(hp)}, cfg)
    return m


def _rotated(m: MFModel, rot: np.ndarray) -> MFModel:
    return MFModel(m.user_factors @ rot, m.item_factors @ rot, m.kind, m.regularization, m.second)


def _fit_mf(w: sp.csr_matrix, hp: dict, cfg: TrainConfig) -> MFModel:
    conf = confidence(w, hp["alpha"], hp["transform"])
    return fit_mf(
        conf,
        factors=hp["factors"],
        regularization=hp["regularization"],
        iterations=cfg.mf_iterations,
        kind=cfg.mf_kind,
        seed=cfg.seed,
        num_threads=cfg.num_threads,
    )


def _tune_mf(s: _Split, cfg: TrainConfig, clock: _Clock) -> tuple[dict, float, list]:
    trials = []
    best = (-1.0, None)
    hist = s.x_inner[s.val_users]
    grid = _mf_grid(cfg)[: cfg.mf_max_trials]
    for j, hp in enumerate(grid):
        if j > 0 and clock.time_spent_frac() > 0.3:
            break
        m = _fit_mf(s.w_inner, hp, cfg)
        sc = m.user_factors[s.val_users] @ m.item_factors.T
        nd = _ndcg_full(_masked(sc, hist), s.truth, s.val_users)
        trials.append({**hp, "ndcg@10": round(nd, 5)})
        if nd > best[0]:
            best = (nd, hp)
        clock.report("tune:mf", (j + 1) / len(grid))
    return best[1], best[0], trials


def _clock_frac(self: _Clock) -> float:
    return (time.time() - self.t0) / max(self.budget, 1e-9)


_Clock.time_spent_frac = _clock_frac  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the pipeline
class _GateSet:
    """Gate users' candidate lists and baseline scores over one or more re-splits.

    Metrics are averaged over the re-splits, weighted by the number of evaluated users.
    """

    def __init__(self, use_ease: bool):
        self.use_ease = use_ease
        self.parts: list[dict] = []

    def add(self, gb: dict, split: _Split, users: np.ndarray) -> None:
        if len(users) == 0:
            return
        pop_in = popularity(split.x_inner)
        rows = {
            "popularity": np.where(gb["mf"] > -np.inf, pop_in[None, :], -np.inf),
            "mf": gb["mf"],
        }
        if self.use_ease:
            rows["ease"], rows["blend"] = gb["ease"], gb["blend"]
        metrics = {
            k: ranking_metrics(topk_from_scores(v, K), split.truth, users, K)
            for k, v in rows.items()
        }
        self.parts.append({"features": gb.get("features"), "candidates": gb["candidates"],
                           "truth": split.truth, "users": users, "metrics": metrics})  # fmt: skip

    @staticmethod
    def _average(dicts: list[dict]) -> dict:
        n = np.array([d["users"] for d in dicts], dtype=np.float64)
        out = {}
        for key in dicts[0]:
            if key == "users":
                out[key] = int(n.sum())
            else:
                out[key] = float(np.dot([d[key] for d in dicts], n) / max(n.sum(), 1.0))
        out["resplits"] = len(dicts)
        return out

    def model_metrics(self) -> dict[str, dict]:
        names = self.parts[0]["metrics"].keys()
        return {k: self._average([p["metrics"][k] for p in self.parts]) for k in names}

    def features(self) -> np.ndarray:
        return np.concatenate([p["features"] for p in self.parts])

    def fusion_metrics(self, scores: np.ndarray) -> dict:
        """Metrics of a reranking given scores for :meth:`features` (rows in the same order)."""
        out, start = [], 0
        for p in self.parts:
            n = len(p["users"])
            top = rerank_topk(p["candidates"], scores[start : start + n])
            out.append(ranking_metrics(top, p["truth"], p["users"], K))
            start += n
        return self._average(out)


def _context(inner, mf, ease, item_f, user_f, edges, cfg) -> tuple[ScoringContext, np.ndarray]:
    ut, it = time_histograms(inner, edges)
    ctx = ScoringContext(
        item_factors=mf.item_factors,
        ease=ease,
        item_factors2=mf.second.item_factors if mf.second is not None else None,
        pop_log=np.log1p(popularity(inner.csr(binary=True))),
        item_time=it,
        item_features=item_f,
        n_candidates=cfg.n_candidates,
        user_dim=user_f.shape[1],
        feature_set=cfg.fusion_features,
    )
    return ctx, ut


def _labelled(ctx, split, users, mf, ut, user_f):
    """(features (n, C, D), candidates (n, C), labels (n, C)) for ``users`` of a split."""
    fb = build_features(ctx, _batch(users, split.x_inner, mf, ut, user_f))
    cands = fb["candidates"]
    labels = np.asarray(split.truth[users[:, None], np.maximum(cands, 0)].todense())
    labels = labels.astype(np.float32)
    labels[cands < 0] = 0.0
    return fb["features"], cands, labels


def _batch(
    users: np.ndarray,
    x_bin: sp.csr_matrix,
    mf: MFModel,
    user_time: np.ndarray,
    user_feats: np.ndarray,
) -> UserBatch:
    hist = x_bin[users].toarray().astype(np.float32)
    return UserBatch(
        history=hist,
        user_vectors=mf.user_factors[users],
        user_vectors2=mf.second.user_factors[users] if mf.second is not None else None,
        time_hist=user_time[users],
        user_features=user_feats[users],
        eligible=hist == 0,
    )


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
    if len(data) < 2 or data.n_items < 2:
        raise DataError(
            f"too few interactions to train ({len(data)} rows, {data.n_items} items); need at "
            "least 2 interactions on 2 different items"
        )
    clock = _Clock(cfg.time_budget_s, progress)
    clock.report("split", 0.0)
    x_all = data.csr(binary=True)
    w_all = data.csr()
    pop = popularity(x_all)
    item_f, item_names = align_features(item_features, data.item_ids)
    user_f, user_names = align_features(user_features, data.user_ids)
    edges = _time_edges(data.timestamps, cfg.time_bins)
    split = _split(data, cfg)
    use_ease = data.n_items <= EASE_MAX_ITEMS
    clock.done("split")

    metrics_val: dict[str, dict] = {}
    gate_info: dict = {"winner": None, "rule": "no validation split: default model"}
    tuning: dict = {}
    ease_lam = cfg.ease_lambdas[min(3, len(cfg.ease_lambdas) - 1)]
    mf_hp = _mf_grid(cfg)[0]
    served = "ease" if use_ease else "mf"
    fusion_info: dict = {"trained": False}
    inner_mf: MFModel | None = None
    onnx_files: dict[str, str] = {}
    tmpdir = tempfile.mkdtemp(prefix="m6rec-fusion-")

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
            parts = [_labelled(ctx_in, split, fit_users, inner_mf, ut_in, user_f)]
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
                parts.append(_labelled(ctx_j, sj, fit_j, mf_j, ut_j, user_f))
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
    clock.report("refit", 0.0)

    # ---- refit on all data with the chosen hyperparameters
    full_mf = (
        _fit_mf_pair(w_all, mf_hp, cfg)
        if fusion_info.get("trained")
        else _fit_mf(w_all, mf_hp, cfg)
    )
    rotation = None
    if inner_mf is not None and inner_mf.item_factors.shape == full_mf.item_factors.shape:
        rotation = procrustes_align(full_mf.item_factors, inner_mf.item_factors)
        full_mf = _rotated(full_mf, rotation)
    full_ease = ease_fit(x_all, ease_lam) if use_ease else None
    ut, it = time_histograms(data, edges)
    clock.done("refit")
    ann_info = {"threshold": int(cfg.ann_threshold), "index": None}
    if data.n_items > cfg.ann_threshold:
        clock.report("ann", 0.0)
        t_ann = time.time()
        ann = build_index(
            full_mf.item_factors,
            m=cfg.ann_m,
            ef_construction=cfg.ann_ef_construction,
            ef_search=cfg.ann_ef_search,
            seed=cfg.seed,
            num_threads=cfg.num_threads,
        )
        ann_path = os.path.join(tmpdir, ANN_FILE)
        ann.index.save_index(ann_path)
        onnx_files[ANN_FILE] = ann_path
        ann_info.update(index=ANN_FILE, library="hnswlib", space="ip", M=cfg.ann_m,
                        ef_construction=cfg.ann_ef_construction, ef_search=cfg.ann_ef_search,
                        build_s=round(time.time() - t_ann, 3))  # fmt: skip
        clock.done("ann")
    clock.report("bundle", 0.0)

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
    }
    if full_ease is not None:
        arrays["ease"] = full_ease
    if full_mf.second is not None:
        arrays["user_factors2"] = full_mf.second.user_factors.astype(np.float32)
        arrays["item_factors2"] = full_mf.second.item_factors.astype(np.float32)
    ts = data.timestamps
    manifest = {
        "engine_version": ENGINE_VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "stages": ["split", "ease", "mf", "fusion", "compression", "onnx", "gate", "refit"],
        "served_model": served,
        "hyperparameters": {
            "ease_lambda": ease_lam if use_ease else None,
            "mf": {**mf_hp, "kind": cfg.mf_kind, "iterations": cfg.mf_iterations},
            "mf_second_factors": (
                int(full_mf.second.item_factors.shape[1]) if full_mf.second is not None else None
            ),
            "n_candidates": cfg.n_candidates,
            "fusion_features": cfg.fusion_features,
            "time_bins": int(len(edges) + 1),
            "fusion": fusion_info.get("hyperparameters"),
        },
        "config": _jsonable(asdict(cfg)),
        "tuning": tuning,
        "fusion": {k: v for k, v in fusion_info.items() if k not in ("val_metrics",)},
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
    shutil.rmtree(tmpdir, ignore_errors=True)
    clock.report("bundle", 1.0)
    return manifest


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def _train_and_compress(cfg, clock, fb, labels, gb, gate_metrics, tmpdir, onnx_files) -> dict:
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
        deadline=clock.deadline(0.75),
        min_epochs=cfg.fusion_min_epochs,
        progress=lambda ep, sc: clock.report("fusion", ep / cfg.fusion_epochs),
    )
    train_s = time.time() - t0
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
        "served_file": "fusion_int8" if int8_ok else "fusion_float",
        "int8_within_tolerance": bool(int8_ok),
        "hyperparameters": {
            "hidden": list(cfg.fusion_hidden),
            "hidden_pruned": hidden_pruned,
            "dropout": cfg.fusion_dropout,
            "learning_rate": cfg.fusion_learning_rate,
            "epochs_best": res.epochs,
            "loss": "listwise softmax cross-entropy",
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
        "val_metrics": {
            "fusion_float": gate_metrics(float_scores),
            "fusion_int8": gate_metrics(int8_scores),
        },
    }
