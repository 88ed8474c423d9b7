"""Interactions, id maps, loaders and the MS Recommenders per-item stratified split.

Everything here is plain numpy/scipy. Ids are external strings; internally users and items are
dense int32 indices into ``InteractionData.user_ids`` / ``item_ids``.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = [
    "DataError",
    "InteractionData",
    "default_datasets_dir",
    "load_interactions",
    "stratified_split",
    "train_test_split",
]


class DataError(ValueError):
    """Input data that the engine cannot use; the message says what to fix."""


def default_datasets_dir() -> Path:
    """``$M6REC_DATASETS`` or ``<repo>/../shared/datasets``."""
    env = os.environ.get("M6REC_DATASETS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def _as_str_array(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(str)
    if arr.dtype.kind == "f":
        if np.all(np.mod(arr, 1) == 0):
            return arr.astype(np.int64).astype(str)
        return arr.astype(str)
    return np.array([str(v) for v in arr.tolist()], dtype=str)


@dataclass
class InteractionData:
    """Implicit-feedback interactions with id maps.

    Attributes:
        user_ids: (n_users,) unicode array of external user ids; index = internal user id.
        item_ids: (n_items,) unicode array of external item ids.
        users: (n,) int32 internal user index per interaction row.
        items: (n,) int32 internal item index per row.
        weights: (n,) float32 confidence (> 0), e.g. a rating or an event-type weight.
        timestamps: (n,) int64 seconds since the epoch (0 when unknown).
        values: optional (n,) float32 raw interaction values (e.g. 1-5 star ratings), kept
            next to the confidence ``weights`` for the explicit-ratings fusion mode
            (``TrainConfig.feedback="explicit"``); None when not given.
        user_rows: optional (n_users, 2) int64: per user, the number of input rows and the
            largest caller row id among them (``row_ids`` of :meth:`from_arrays`, e.g. database
            primary keys). Written to the bundle, it tells a server whether a user's stored rows
            are still the ones the model was trained on. None when not given.

    Duplicate (user, item) rows are merged at construction (weights summed, latest timestamp,
    largest raw value, first-occurrence order kept), so each pair appears once.
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    users: np.ndarray
    items: np.ndarray
    weights: np.ndarray
    timestamps: np.ndarray
    values: np.ndarray | None = None
    user_rows: np.ndarray | None = None

    @classmethod
    def from_arrays(
        cls, user_ids, item_ids, weights=None, timestamps=None, values=None, row_ids=None
    ) -> InteractionData:
        """Build from per-row external ids (any scalar type; converted to ``str``).

        ``values`` (optional) are the raw interaction values (e.g. ratings) kept alongside
        the confidence ``weights``; they may be any finite number. ``row_ids`` (optional,
        integers) identify the rows in the caller's store: see ``user_rows``.
        """
        u = _as_str_array(user_ids)
        i = _as_str_array(item_ids)
        if u.ndim != 1 or u.shape != i.shape:
            raise DataError("user_ids and item_ids must be 1-d arrays of the same length")
        n = u.shape[0]
        if n == 0:
            raise DataError("no interactions: the input is empty; add interactions and retry")
        w = (
            np.ones(n, dtype=np.float32)
            if weights is None
            else np.asarray(weights, dtype=np.float32).reshape(-1)
        )
        t = (
            np.zeros(n, dtype=np.int64)
            if timestamps is None
            else np.asarray(timestamps, dtype=np.float64).reshape(-1).astype(np.int64)
        )
        v = None if values is None else np.asarray(values, dtype=np.float32).reshape(-1)
        r = None if row_ids is None else np.asarray(row_ids).reshape(-1)
        if any(a is not None and a.shape[0] != n for a in (w, t, v, r)):
            raise DataError(
                "weights, timestamps, values and row ids must have one value per interaction"
            )
        if r is not None and r.dtype.kind not in "iu":
            raise DataError("row_ids must be integers (e.g. database primary keys)")
        if v is not None and not np.all(np.isfinite(v)):
            raise DataError("values must be finite numbers (e.g. ratings)")
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise DataError(
                "weights must be finite and > 0 (they are confidences); drop or remap "
                "non-positive values (e.g. dislikes) before training"
            )
        user_vocab, users = np.unique(u, return_inverse=True)
        item_vocab, items = np.unique(i, return_inverse=True)
        users = users.astype(np.int32)
        items = items.astype(np.int32)
        user_rows = None
        if r is not None:  # counted before duplicates merge: every stored row counts
            user_rows = np.zeros((len(user_vocab), 2), dtype=np.int64)
            user_rows[:, 0] = np.bincount(users, minlength=len(user_vocab))
            user_rows[:, 1] = np.iinfo(np.int64).min
            np.maximum.at(user_rows[:, 1], users, r.astype(np.int64))
        # merge duplicate pairs, keeping first-occurrence order
        key = users.astype(np.int64) * len(item_vocab) + items
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        if len(uniq) < n:
            wsum = np.bincount(inverse, weights=w, minlength=len(uniq)).astype(np.float32)
            tmax = np.full(len(uniq), np.iinfo(np.int64).min, dtype=np.int64)
            np.maximum.at(tmax, inverse, t)
            order = np.argsort(first, kind="stable")
            users, items = users[first[order]], items[first[order]]
            w, t = wsum[order], tmax[order]
            if v is not None:
                vmax = np.full(len(uniq), -np.inf, dtype=np.float32)
                np.maximum.at(vmax, inverse, v)
                v = vmax[order]
        return cls(
            user_ids=user_vocab.astype(str),
            item_ids=item_vocab.astype(str),
            users=users,
            items=items,
            weights=w.astype(np.float32),
            timestamps=t.astype(np.int64),
            values=None if v is None else v.astype(np.float32),
            user_rows=user_rows,
        )

    # ------------------------------------------------------------------ basics
    @property
    def n_users(self) -> int:
        return int(len(self.user_ids))

    @property
    def n_items(self) -> int:
        return int(len(self.item_ids))

    def __len__(self) -> int:
        return int(len(self.users))

    def subset(self, mask: np.ndarray) -> InteractionData:
        """Rows where ``mask`` is true, in the same id space."""
        return InteractionData(
            self.user_ids,
            self.item_ids,
            self.users[mask],
            self.items[mask],
            self.weights[mask],
            self.timestamps[mask],
            None if self.values is None else self.values[mask],
        )

    def csr(self, *, binary: bool = False) -> sp.csr_matrix:
        """(n_users, n_items) float32 CSR of weights (or ones)."""
        vals = np.ones(len(self), dtype=np.float32) if binary else self.weights
        m = sp.csr_matrix(
            (vals, (self.users, self.items)), shape=(self.n_users, self.n_items), dtype=np.float32
        )
        m.sum_duplicates()
        m.sort_indices()
        return m

    def value_csr(self) -> sp.csr_matrix:
        """(n_users, n_items) float32 CSR of the raw ``values`` (``weights`` when absent)."""
        vals = self.weights if self.values is None else self.values
        m = sp.csr_matrix(
            (vals, (self.users, self.items)), shape=(self.n_users, self.n_items), dtype=np.float32
        )
        m.sum_duplicates()
        m.sort_indices()
        return m

    def counts(self) -> dict[str, int]:
        return {"interactions": len(self), "users": self.n_users, "items": self.n_items}


def stratified_split(items: np.ndarray, ratio: float = 0.75, seed: int = 42) -> np.ndarray:
    """MS Recommenders ``python_stratified_split(filter_by="item")``, reproduced exactly.

    ``np.random.seed(seed)`` then one uniform key per row (in row order); rows sorted by item
    then key; a row is *train* when its 1-based rank within its item is
    ``<= round(ratio * item_count)`` (numpy round-half-even, like pandas).

    Args:
        items: (n,) group key per row (internal item index).
    Returns:
        (n,) bool mask, True for train rows.
    """
    items = np.asarray(items)
    n = items.shape[0]
    key = np.random.RandomState(seed).rand(n)
    order = np.lexsort((key, items))
    sorted_items = items[order]
    starts = np.r_[0, np.flatnonzero(sorted_items[1:] != sorted_items[:-1]) + 1]
    counts = np.diff(np.r_[starts, n])
    group_start = np.repeat(starts, counts)
    rank = np.arange(n) - group_start + 1
    limit = np.round(ratio * np.repeat(counts, counts))
    train_sorted = rank <= limit
    mask = np.empty(n, dtype=bool)
    mask[order] = train_sorted
    return mask


def train_test_split(
    data: InteractionData, ratio: float = 0.75, seed: int = 42
) -> tuple[InteractionData, InteractionData]:
    """Per-item stratified split (see :func:`stratified_split`) into (train, test)."""
    mask = stratified_split(data.items, ratio=ratio, seed=seed)
    return data.subset(mask), data.subset(~mask)


# ---------------------------------------------------------------------- loaders
_USER_COLS = ("user_id", "userid", "user")
_ITEM_COLS = ("item_id", "itemid", "movieid", "item")
_VALUE_COLS = ("value", "rating", "weight", "score")
_TIME_COLS = ("timestamp", "time", "ts")


def _pick(header: list[str], names: tuple[str, ...]) -> int | None:
    low = [h.strip().lower() for h in header]
    for n in names:
        if n in low:
            return low.index(n)
    return None


def load_interactions(path: str | Path) -> InteractionData:
    """Load interactions from a file.

    Accepted formats:
      * CSV with a header ``user_id,item_id,value,timestamp`` (value and timestamp optional;
        MovieLens ``ratings.csv`` headers ``userId,movieId,rating,timestamp`` work too);
      * MovieLens ml-100k ``u.data`` (tab separated, no header);
      * MovieLens ml-1m ``ratings.dat`` (``::`` separated).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"interactions file {path} does not exist; check the path")
    if path.is_dir():
        for cand in ("u.data", "ratings.csv", "ratings.dat", "interactions.csv"):
            if (path / cand).is_file():
                return load_interactions(path / cand)
        raise DataError(f"{path} is a directory without u.data/ratings.csv; pass the file")
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise DataError(
            f"interactions file {path} is empty; expected a CSV with header "
            "user_id,item_id,value,timestamp"
        )
    first = lines[0]
    if "::" in first:
        rows = [ln.split("::") for ln in lines]
        header = None
    elif "\t" in first and "," not in first:
        rows = [ln.split("\t") for ln in lines]
        header = None
        if not rows[0][0].strip().lstrip("-").isdigit():
            header, rows = rows[0], rows[1:]
    else:
        rows = list(csv.reader(lines))
        header, rows = rows[0], rows[1:]
    if header is not None:
        ui, ii = _pick(header, _USER_COLS), _pick(header, _ITEM_COLS)
        if ui is None or ii is None:
            raise DataError(
                f"{path}: header {header!r} has no user/item columns; expected "
                "user_id,item_id,value,timestamp"
            )
        vi, ti = _pick(header, _VALUE_COLS), _pick(header, _TIME_COLS)
    else:
        ui, ii, vi, ti = 0, 1, 2, 3
    if not rows:
        raise DataError(f"interactions file {path} has a header but no rows; add interactions")
    width = max(c for c in (ui, ii, vi, ti) if c is not None) + 1
    bad = [n for n, r in enumerate(rows[:1000]) if len(r) < min(width, 2)]
    if bad:
        raise DataError(f"{path}: row {bad[0] + 2} has too few columns")
    try:
        users = [r[ui].strip() for r in rows]
        items = [r[ii].strip() for r in rows]
        values = (
            np.array([float(r[vi]) if len(r) > vi and r[vi] != "" else 1.0 for r in rows])
            if vi is not None
            else None
        )
        times = (
            np.array([float(r[ti]) if len(r) > ti and r[ti] != "" else 0.0 for r in rows])
            if ti is not None
            else None
        )
    except (ValueError, IndexError) as exc:
        raise DataError(f"{path}: could not parse a value/timestamp column ({exc})") from exc
    if values is not None:
        keep = values > 0
        if not keep.all():
            users = [u for u, k in zip(users, keep, strict=True) if k]
            items = [i for i, k in zip(items, keep, strict=True) if k]
            values = values[keep]
            times = times[keep] if times is not None else None
    # the file's value column is both the confidence weight and the raw value (e.g. a rating)
    return InteractionData.from_arrays(
        np.array(users), np.array(items), values, times, values=values
    )
