"""A tenant's catalog as engine inputs: interaction arrays and domain feature matrices.

Rows come from :func:`m6rec.catalog.selectors.interaction_chunks` as arrays (a server-side
cursor on PostgreSQL, no model objects), weights
and features from the tenant's domain plugin. Plugin failures are re-raised as
:class:`~m6rec.training.errors.TrainingDataError` naming the plugin, so the run's error message
says what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from domains.records import InteractionRecord
from engine.data import DataError, InteractionData
from engine.features import FeatureMatrix
from m6rec.catalog import selectors as catalog_selectors
from m6rec.training.errors import TrainingDataError


@dataclass
class TenantDataset:
    data: InteractionData
    item_features: FeatureMatrix | None
    user_features: FeatureMatrix | None
    counts: dict[str, int] = field(default_factory=dict)
    interactions_total: int = 0


def _plugin_call(domain, what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - any plugin failure fails the run, with its name
        name = getattr(domain, "name", type(domain).__name__)
        raise TrainingDataError(
            f'domain plugin "{name}" failed in {what}: {type(exc).__name__}: {exc}'
        ) from exc


def load_tenant_dataset(
    *,
    tenant,
    domain,
    with_features: bool = True,
    chunk_size: int = 100_000,
    progress: Callable[[str, float], None] | None = None,
) -> TenantDataset:
    """Stream the tenant's interactions into arrays and build its feature matrices.

    ``domain`` may be ``None`` (no plugin): every interaction then weighs its ``value`` if
    positive, else 1, and there are no side features.
    """
    config = tenant.domain_config
    report = progress or (lambda stage, frac: None)
    report("data", 0.0)

    user_chunks: list[np.ndarray] = []
    item_chunks: list[np.ndarray] = []
    weight_chunks: list[np.ndarray] = []
    time_chunks: list[np.ndarray] = []
    id_chunks: list[np.ndarray] = []
    records: list[InteractionRecord] = []
    weight_cache: dict[tuple[str, float], float] = {}

    def weight_of(type_: str, value: float) -> float:
        key = (type_, value)
        w = weight_cache.get(key)
        if w is None:
            if domain is None:
                w = value if value > 0 else 1.0
            else:
                w = _plugin_call(
                    domain,
                    f'interaction_weight("{type_}")',
                    lambda: float(domain.interaction_weight(type_, value, config=config)),
                )
            weight_cache[key] = w
        return w

    total = 0
    for chunk in catalog_selectors.interaction_chunks(tenant=tenant, chunk_size=chunk_size):
        n = len(chunk["id"])
        types, values = chunk["type"], chunk["value"].astype(float)
        user_chunks.append(chunk["user_id"])
        item_chunks.append(chunk["item_id"])
        weight_chunks.append(
            np.fromiter(
                (weight_of(t, v) for t, v in zip(types, values.tolist(), strict=True)),
                dtype=np.float32,
                count=n,
            )
        )
        time_chunks.append(chunk["timestamp"])
        id_chunks.append(chunk["id"])
        if with_features and domain is not None:
            records.extend(
                InteractionRecord(u, i, t, v, datetime.fromtimestamp(ts, tz=UTC))
                for u, i, t, v, ts in zip(
                    chunk["user_id"],
                    chunk["item_id"],
                    types,
                    values.tolist(),
                    chunk["timestamp"].tolist(),
                    strict=True,
                )
            )
        total += n
        report("data", 0.5)
    if total == 0:
        raise TrainingDataError(
            f'tenant "{tenant.slug}" has no interactions yet; ingest some '
            "(POST /api/v1/interactions) before training"
        )
    try:
        data = InteractionData.from_arrays(
            np.concatenate(user_chunks),
            np.concatenate(item_chunks),
            np.concatenate(weight_chunks),
            np.concatenate(time_chunks),
            # each user's stored rows as trained on: serving skips re-reading unchanged ones
            row_ids=np.concatenate(id_chunks),
        )
    except DataError as exc:
        raise TrainingDataError(str(exc)) from exc
    del user_chunks, item_chunks, weight_chunks, time_chunks, id_chunks
    report("data", 1.0)

    item_features = user_features = None
    n_catalog_items = n_catalog_users = 0
    if with_features and domain is not None:
        report("features", 0.0)
        items = catalog_selectors.item_records(tenant=tenant)
        n_catalog_items = len(items)
        item_features = _plugin_call(
            domain, "item_features", lambda: domain.item_features(items, config=config)
        )
        report("features", 0.5)
        users = catalog_selectors.user_records(tenant=tenant)
        n_catalog_users = len(users)
        user_features = _plugin_call(
            domain,
            "user_features",
            lambda: domain.user_features(users, records, config=config, items=items),
        )
        for what, fm in (("item_features", item_features), ("user_features", user_features)):
            if fm is not None and not isinstance(fm, FeatureMatrix):
                raise TrainingDataError(
                    f'domain plugin "{domain.name}" {what} returned {type(fm).__name__}, '
                    "expected engine.features.FeatureMatrix"
                )
        report("features", 1.0)

    counts = {
        "interactions": int(total),
        "pairs": int(len(data)),
        "users": int(data.n_users),
        "items": int(data.n_items),
        "catalog_items": int(n_catalog_items),
        "catalog_users": int(n_catalog_users),
        "item_feature_dim": int(item_features.dim) if item_features is not None else 0,
        "user_feature_dim": int(user_features.dim) if user_features is not None else 0,
    }
    return TenantDataset(
        data=data,
        item_features=item_features,
        user_features=user_features,
        counts=counts,
        interactions_total=int(total),
    )
