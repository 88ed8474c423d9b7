"""Training settings (:class:`TrainConfig`) and pipeline-wide constants."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.ann import DEFAULT_THRESHOLD
from engine.itemitem import EASE_MAX_ITEMS

ENGINE_VERSION = "0.1.0"


K = 10
# users × items cells scored at a time while tuning and building fusion features, so memory
# stays bounded at any catalogue size
CHUNK_CELLS = 4_000_000


@dataclass
class TrainConfig:
    """Training settings.

    The work is fixed by the settings (grid sizes, trials, re-splits, epochs), never by the
    clock, so the same data, settings and seed give the same bundle on a busy or a quiet
    machine. ``time_budget_s`` is only a safety stop: past it the optional work still to do
    (further trials, re-splits, epochs) is skipped, and ``manifest["budget"]`` records that.
    """

    time_budget_s: float = 3600.0
    seed: int = 42
    split_ratio: float = 0.75
    # item-item CF (engine.itemitem.item_item_kind): exact EASE while affordable (every
    # weight kept while n_items² <= itemcf_max_nnz; in user space up to ease_dual_max_users
    # users; top-N neighbours up to ease_max_items items), RP3β above
    ease_lambdas: tuple[float, ...] = (50.0, 100.0, 200.0, 350.0, 500.0, 800.0, 1200.0, 2000.0)
    ease_max_items: int = EASE_MAX_ITEMS
    ease_dual_max_users: int = 2_000
    rp3b_alpha: float = 0.8
    rp3b_betas: tuple[float, ...] = (0.3, 0.5, 0.7)
    itemcf_max_nnz: int = 4_000_000
    itemcf_min_neighbours: int = 100
    # MF
    mf_kind: str = "als"  # "als" or "bpr"
    mf_factors: tuple[int, ...] = (32, 64)
    mf_regularization: tuple[float, ...] = (20.0, 5.0, 10.0, 35.0)
    mf_alpha: tuple[float, ...] = (1.0, 0.5, 2.0)
    mf_transform: tuple[str, ...] = ("binary", "log")
    mf_iterations: int = 15
    mf_max_trials: int = 8
    # validation users that score each item-item / MF trial (a fixed sample above this)
    tune_max_users: int = 10_000
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
    # the fusion is served only when its per-user nDCG@10 gain over the best single model on
    # the gate users is above zero by this many standard errors (a one-sided test)
    gate_z: float = 1.0
    fusion_folds: int = 8
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
