"""Training settings (:class:`TrainConfig`) and pipeline-wide constants."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.ann import DEFAULT_THRESHOLD

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
    # "implicit": listwise softmax loss over each user's candidates (held-out items = 1);
    # "explicit": MSE on the same candidate lists, target = the user's raw rating of a held-out
    # item (InteractionData.values, else weights) and 0 for candidates the user did not rate
    feedback: str = "implicit"
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
