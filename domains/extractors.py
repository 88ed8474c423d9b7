"""Shared feature extractors: robust property access, hashing, one-hot and H_u aggregates.

Column sets never depend on the data passed (fixed vocabularies or feature hashing with a
stable CRC32), so features computed at serving time line up with training-time columns.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from domains.records import InteractionRecord, ItemRecord, UserRecord, to_datetime
from engine.features import FeatureMatrix

if TYPE_CHECKING:
    from domains.base import Domain


def as_float(value: Any) -> float | None:
    """A finite float, or ``None`` for missing / non-numeric / non-finite values."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def as_str_list(value: Any) -> list[str]:
    """A list of non-empty strings from a string, list or ``None`` (lower-cased, stripped)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        return []
    return [str(v).strip().lower() for v in value if str(v).strip()]


def category_path_tokens(path: Any) -> list[str]:
    """``"Home > Kitchen > Knives"`` (or a list) → ``["home", "home>kitchen", ...]``."""
    if isinstance(path, str):
        parts = [p for p in path.replace("/", ">").split(">")]
    else:
        parts = as_str_list(path)
    parts = [p.strip().lower() for p in parts if p.strip()]
    return [">".join(parts[: i + 1]) for i in range(len(parts))]


def stable_bucket(token: str, buckets: int) -> int:
    """Deterministic bucket of ``token`` (CRC32, same in every process)."""
    return zlib.crc32(token.encode("utf-8")) % buckets


class FeatureBuilder:
    """Accumulates named column blocks for ``n`` rows, then builds a :class:`FeatureMatrix`."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._blocks: list[np.ndarray] = []
        self._names: list[str] = []

    def block(self, names: Sequence[str], values: np.ndarray) -> FeatureBuilder:
        """Add columns ``values`` (n, len(names))."""
        values = np.asarray(values, dtype=np.float32).reshape(self.n, len(names))
        self._blocks.append(values)
        self._names.extend(names)
        return self

    def numeric(
        self,
        name: str,
        values: Sequence[Any],
        *,
        transform: Callable[[float], float] = lambda x: x,
        fill: float = 0.0,
        missing_flag: bool = True,
    ) -> FeatureBuilder:
        """One column ``transform(value)`` (missing → ``fill``) plus ``<name>:missing``."""
        col = np.full((self.n, 1), fill, dtype=np.float64)
        missing = np.ones((self.n, 1), dtype=np.float64)
        for r, v in enumerate(values):
            x = as_float(v)
            if x is not None:
                y = transform(x)
                if math.isfinite(y):
                    col[r, 0], missing[r, 0] = y, 0.0
        self.block([name], col)
        if missing_flag:
            self.block([f"{name}:missing"], missing)
        return self

    def one_hot(
        self, name: str, values: Sequence[Any], vocabulary: Sequence[str]
    ) -> FeatureBuilder:
        """Columns ``<name>=<v>`` for a fixed vocabulary plus ``<name>=other`` (missing → 0)."""
        index = {v.lower(): j for j, v in enumerate(vocabulary)}
        out = np.zeros((self.n, len(vocabulary) + 1))
        for r, v in enumerate(values):
            if v is None or v == "":
                continue
            out[r, index.get(str(v).strip().lower(), len(vocabulary))] = 1.0
        return self.block([f"{name}={v}" for v in vocabulary] + [f"{name}=other"], out)

    def multi_hot(
        self, name: str, values: Sequence[Iterable[str]], vocabulary: Sequence[str]
    ) -> FeatureBuilder:
        """Columns ``<name>=<v>`` (1 when present), for a fixed vocabulary; others ignored."""
        index = {v.lower(): j for j, v in enumerate(vocabulary)}
        out = np.zeros((self.n, len(vocabulary)))
        for r, tokens in enumerate(values):
            for t in tokens:
                if t in index:
                    out[r, index[t]] = 1.0
        return self.block([f"{name}={v}" for v in vocabulary], out)

    def hashed(self, name: str, values: Sequence[Iterable[str]], buckets: int) -> FeatureBuilder:
        """``buckets`` columns ``<name>#<b>``: hashed multi-hot of open-vocabulary tokens."""
        out = np.zeros((self.n, buckets))
        for r, tokens in enumerate(values):
            for t in tokens:
                out[r, stable_bucket(f"{name}:{t}", buckets)] = 1.0
        return self.block([f"{name}#{b}" for b in range(buckets)], out)

    def build(self, ids: Sequence[str]) -> FeatureMatrix:
        """The matrix: float32 (n, d), non-finite values replaced by 0."""
        values = np.concatenate(self._blocks, axis=1) if self._blocks else np.zeros((self.n, 0))
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
        return FeatureMatrix(ids=[str(i) for i in ids], values=values, names=list(self._names))


def behaviour_aggregates(
    domain: Domain,
    users: Sequence[UserRecord],
    interactions: Sequence[InteractionRecord],
    *,
    config: Mapping[str, Any] | None = None,
    items: Sequence[ItemRecord] | None = None,
    item_features: FeatureMatrix | None = None,
    recency_days: float = 30.0,
) -> FeatureMatrix:
    """Behaviour features H_u, one row per user (input order).

    Columns: ``log1p(count)`` per declared interaction type, ``log1p`` of total confidence
    weight and of distinct items, recency ``exp(-days since last event / recency_days)``
    (days relative to the latest event passed), and, when ``item_features`` (or ``items``)
    is given, the weight-averaged item features of the user's items (``taste:<name>``).
    Unknown interaction types count towards nothing. Shapes: (n_users, d).
    """
    types = list(domain.interaction_types)
    type_col = {t: j for j, t in enumerate(types)}
    row_of = {u.user_id: r for r, u in enumerate(users)}
    n = len(users)
    if item_features is None and items is not None:
        item_features = domain.item_features(items, config=config)
    events = [e for e in interactions if e.type in type_col]
    weights = domain.confidence_weights(events, config=config).astype(np.float64)
    stamps = [to_datetime(e.timestamp) for e in events]
    secs = np.array([s.timestamp() if s is not None else -np.inf for s in stamps])
    latest = float(secs[np.isfinite(secs)].max()) if np.isfinite(secs).any() else 0.0
    rows = np.array([row_of.get(e.user_id, -1) for e in events], dtype=np.int64)
    mine = rows >= 0  # events of the users asked for
    rows, weights, secs = rows[mine], weights[mine], secs[mine]
    events = [e for e, keep in zip(events, mine, strict=True) if keep]
    cols = np.array([type_col[e.type] for e in events], dtype=np.int64)
    counts = np.zeros((n, len(types)))
    np.add.at(counts, (rows, cols), 1.0)
    total = np.bincount(rows, weights=weights, minlength=n)
    distinct = np.zeros(n)
    pairs = {(r, e.item_id) for r, e in zip(rows.tolist(), events, strict=True)}
    np.add.at(distinct, np.array([r for r, _ in pairs], dtype=np.int64), 1.0)
    last = np.full(n, -np.inf)
    np.maximum.at(last, rows, secs)
    recency = np.where(np.isfinite(last), np.exp(-(latest - last) / 86400.0 / recency_days), 0.0)
    fb = FeatureBuilder(n)
    fb.block([f"count:{t}" for t in types], np.log1p(counts))
    fb.block(["log_total_weight"], np.log1p(total)[:, None])
    fb.block(["log_distinct_items"], np.log1p(distinct)[:, None])
    fb.block(["recency"], recency[:, None])
    if item_features is not None:
        item_row = {i: r for r, i in enumerate(item_features.ids)}
        j = np.array([item_row.get(e.item_id, -1) for e in events], dtype=np.int64)
        ok = j >= 0
        taste = np.zeros((n, item_features.values.shape[1]))
        np.add.at(taste, rows[ok], weights[ok, None] * item_features.values[j[ok]])
        taste_weight = np.bincount(rows[ok], weights=weights[ok], minlength=n)
        taste = taste / np.maximum(taste_weight, 1e-12)[:, None]
        fb.block([f"taste:{name}" for name in item_features.names], taste)
    return fb.build([u.user_id for u in users])


def time_context(interactions: Sequence[InteractionRecord]) -> FeatureBuilder:
    """Context columns per event: hour of day (sin, cos), weekend flag, ``has_time``.

    Returns the builder (callers may add columns) for ``len(interactions)`` rows.
    """
    fb = FeatureBuilder(len(interactions))
    rows = np.zeros((len(interactions), 4))
    for r, event in enumerate(interactions):
        stamp = to_datetime(event.timestamp)
        if stamp is None:
            continue
        angle = 2 * math.pi * (stamp.hour + stamp.minute / 60.0) / 24.0
        rows[r] = (math.sin(angle), math.cos(angle), float(stamp.weekday() >= 5), 1.0)
    return fb.block(["hour_sin", "hour_cos", "weekend", "has_time"], rows)


def event_ids(interactions: Sequence[InteractionRecord]) -> list[str]:
    """Row ids for interaction features: ``"<row>:<user_id>:<item_id>"`` (unique per row)."""
    return [f"{r}:{e.user_id}:{e.item_id}" for r, e in enumerate(interactions)]


def concat(ids: Sequence[str], *matrices: FeatureMatrix) -> FeatureMatrix:
    """Column-wise concatenation of matrices that share ``ids`` (same order)."""
    for m in matrices:
        if list(m.ids) != [str(i) for i in ids]:
            raise ValueError("concat: feature matrices are not aligned on the same ids")
    values = (
        np.concatenate([m.values for m in matrices], axis=1)
        if matrices
        else np.zeros((len(ids), 0), dtype=np.float32)
    )
    names = [name for m in matrices for name in m.names]
    return FeatureMatrix(ids=[str(i) for i in ids], values=values, names=names)
