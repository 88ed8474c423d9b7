"""Side features: the :class:`FeatureMatrix` type and MovieLens feature loaders.

A :class:`FeatureMatrix` holds dense float32 features keyed by *external* ids (items or users).
Domain plugins build them; the pipeline aligns them to its internal index order.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "FeatureMatrix",
    "align_features",
    "load_item_features",
    "load_user_features",
]


@dataclass
class FeatureMatrix:
    """Dense features for a set of entities.

    Attributes:
        ids: external ids (strings), length n.
        values: float32 array of shape (n, d).
        names: d feature names.
    """

    ids: list[str]
    values: np.ndarray
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = [str(i) for i in self.ids]
        values = np.asarray(self.values, dtype=np.float32)
        if values.ndim == 1:
            values = values.reshape(-1, 1)
        if values.ndim != 2 or values.shape[0] != len(self.ids):
            raise ValueError(
                f"FeatureMatrix: values must have shape (len(ids), d); got {values.shape} "
                f"for {len(self.ids)} ids"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError("FeatureMatrix: values contain NaN or inf; clean them first")
        if not self.names:
            self.names = [f"f{j}" for j in range(values.shape[1])]
        if len(self.names) != values.shape[1]:
            raise ValueError(
                f"FeatureMatrix: {len(self.names)} names for {values.shape[1]} columns"
            )
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("FeatureMatrix: ids must be unique")
        self.values = values

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])


def align_features(features: FeatureMatrix | None, ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Rows of ``features`` in the order of ``ids``; missing ids get zeros.

    Columns are standardised (zero mean, unit variance over known rows) so that the fusion
    model sees comparable scales. Returns (array (len(ids), d) float32, names).
    """
    n = len(ids)
    if features is None or features.dim == 0:
        return np.zeros((n, 0), dtype=np.float32), []
    pos = {k: r for r, k in enumerate(features.ids)}
    out = np.zeros((n, features.dim), dtype=np.float32)
    rows = np.array([pos.get(str(k), -1) for k in ids], dtype=np.int64)
    known = rows >= 0
    if known.any():
        vals = features.values[rows[known]]
        mean = vals.mean(axis=0)
        std = vals.std(axis=0)
        std[std < 1e-6] = 1.0
        out[known] = (vals - mean) / std
    return out.astype(np.float32), list(features.names)


_YEAR = re.compile(r"\((\d{4})\)\s*$")


def _year_of(title: str, date: str = "") -> float:
    m = _YEAR.search(title.strip())
    if m:
        return float(m.group(1))
    m = re.search(r"(\d{4})", date or "")
    return float(m.group(1)) if m else float("nan")


def _finish_year(years: list[float]) -> np.ndarray:
    arr = np.array(years, dtype=np.float64)
    ok = np.isfinite(arr)
    fill = float(np.median(arr[ok])) if ok.any() else 0.0
    arr[~ok] = fill
    return arr.astype(np.float32)


def load_item_features(path: str | Path) -> FeatureMatrix:
    """Genres (multi-hot) and release year from MovieLens ``u.item`` or ``movies.csv``.

    Raises FileNotFoundError / ValueError with a hint when the file is missing or not a
    recognised format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"item file {path} does not exist; pass u.item or movies.csv")
    text = path.read_bytes().decode("latin-1")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"item file {path} is empty")
    if "|" in lines[0] and not lines[0].lower().startswith("movieid"):
        # ml-100k u.item: id|title|date|video date|url|19 genre flags
        genre_names = [
            "unknown", "Action", "Adventure", "Animation", "Children", "Comedy", "Crime",
            "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
            "Romance", "Sci-Fi", "Thriller", "War", "Western",
        ]  # fmt: skip
        ids, rows, years = [], [], []
        for ln in lines:
            parts = ln.split("|")
            if len(parts) < 5 + len(genre_names):
                raise ValueError(f"{path}: line {ln[:60]!r} is not in u.item format")
            ids.append(parts[0])
            rows.append([float(x or 0) for x in parts[5 : 5 + len(genre_names)]])
            years.append(_year_of(parts[1], parts[2]))
        genres = np.array(rows, dtype=np.float32)
    else:
        reader = csv.DictReader(lines)
        fields = [f.lower() for f in reader.fieldnames or []]
        if "movieid" not in fields or "genres" not in fields:
            raise ValueError(f"{path}: expected u.item or movies.csv (movieId,title,genres)")
        ids, glists, years = [], [], []
        for row in reader:
            row = {k.lower(): v for k, v in row.items()}
            ids.append(row["movieid"])
            glists.append([g for g in (row.get("genres") or "").split("|") if g])
            years.append(_year_of(row.get("title") or ""))
        genre_names = sorted({g for gl in glists for g in gl})
        col = {g: j for j, g in enumerate(genre_names)}
        genres = np.zeros((len(ids), len(genre_names)), dtype=np.float32)
        for r, gl in enumerate(glists):
            for g in gl:
                genres[r, col[g]] = 1.0
    year = _finish_year(years)
    values = np.concatenate([genres, year[:, None]], axis=1)
    names = [f"genre:{g}" for g in genre_names] + ["year"]
    return FeatureMatrix(ids=ids, values=values, names=names)


def load_user_features(path: str | Path) -> FeatureMatrix:
    """Age, gender and occupation (one-hot) from MovieLens ``u.user``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"user file {path} does not exist; pass u.user")
    lines = [ln for ln in path.read_bytes().decode("latin-1").splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"user file {path} is empty")
    recs = [ln.split("|") for ln in lines]
    if any(len(r) < 4 for r in recs):
        raise ValueError(f"{path}: expected u.user format id|age|gender|occupation|zip")
    occupations = sorted({r[3] for r in recs})
    col = {o: j for j, o in enumerate(occupations)}
    values = np.zeros((len(recs), 2 + len(occupations)), dtype=np.float32)
    for i, r in enumerate(recs):
        values[i, 0] = float(r[1])
        values[i, 1] = 1.0 if r[2].upper() == "F" else 0.0
        values[i, 2 + col[r[3]]] = 1.0
    names = ["age", "female"] + [f"occupation:{o}" for o in occupations]
    return FeatureMatrix(ids=[r[0] for r in recs], values=values, names=names)
