"""Fixtures for the engine tests: synthetic data with planted structure, tiny configs."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from engine.data import InteractionData  # noqa: E402
from engine.features import FeatureMatrix  # noqa: E402
from engine.pipeline import TrainConfig  # noqa: E402


def planted(n_users=120, n_items=120, n_groups=4, per_user=12, noise=0.1, seed=0):
    """Users belong to one of ``n_groups`` taste groups; each group likes its own block of
    items (item i is in group i % n_groups). Most interactions fall in the user's block.

    Returns (InteractionData, user_group (n_users,), item_group (n_items,), FeatureMatrix of
    items whose one-hot feature is the item's group).
    """
    rng = np.random.default_rng(seed)
    item_group = np.arange(n_items) % n_groups
    user_group = rng.integers(0, n_groups, n_users)
    us, its, ws, ts = [], [], [], []
    for u in range(n_users):
        block = np.flatnonzero(item_group == user_group[u])
        other = np.flatnonzero(item_group != user_group[u])
        n_noise = rng.binomial(per_user, noise)
        chosen = np.r_[
            rng.choice(block, per_user - n_noise, replace=False),
            rng.choice(other, n_noise, replace=False),
        ]
        for i in chosen:
            us.append(f"u{u}")
            its.append(f"i{i}")
            ws.append(float(rng.integers(1, 6)))
            ts.append(1_000_000 + int(rng.integers(0, 86400 * 30)))
    # row ids as a database would give them (the bundle then records each user's rows)
    data = InteractionData.from_arrays(us, its, ws, ts, row_ids=np.arange(len(us)) + 1000)
    feats = FeatureMatrix(
        ids=[f"i{i}" for i in range(n_items)],
        values=np.eye(n_groups, dtype=np.float32)[item_group],
        names=[f"g{g}" for g in range(n_groups)],
    )
    ug = np.array([user_group[int(u[1:])] for u in data.user_ids])
    ig = np.array([item_group[int(i[1:])] for i in data.item_ids])
    return data, ug, ig, feats


ITEM_NBR_ARRAYS = ("item_nbr_indptr", "item_nbr_indices", "item_nbr_weights")


def drop_item_item(arrays: dict) -> dict:
    """A bundle's arrays without the item-item weights (the MF-only scoring paths)."""
    for name in ITEM_NBR_ARRAYS:
        arrays.pop(name, None)
    return arrays


def tiny_config(**kw) -> TrainConfig:
    base = dict(
        time_budget_s=600.0,  # a safety stop only; these trainings take seconds
        ease_lambdas=(10.0, 50.0),
        mf_factors=(8,),
        mf_regularization=(0.1,),
        mf_alpha=(3.0,),
        mf_transform=("log",),
        mf_iterations=8,
        mf_max_trials=1,
        n_candidates=20,
        fusion_hidden=(16, 8),
        fusion_epochs=4,
        fusion_patience=2,
        fusion_folds=1,
        finetune_epochs=1,
        fusion_min_users=10,
        time_bins=4,
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="session")
def planted_data():
    return planted()


@pytest.fixture(scope="session")
def trained_bundle(tmp_path_factory, planted_data):
    """One bundle trained with the fusion stage on planted data, shared by several tests."""
    from engine.pipeline import train_bundle

    data, _, _, feats = planted_data
    out = tmp_path_factory.mktemp("bundle") / "b"
    stages = []
    manifest = train_bundle(
        data,
        out,
        item_features=feats,
        config=tiny_config(),
        progress=lambda s, f: stages.append((s, f)),
    )
    return out, manifest, stages
