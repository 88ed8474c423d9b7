"""The api_quality benchmark's data set (api_quality.py): a MovieLens-like folder found by
name or path, and its side information and train part ingested into a tenant through the
platform's catalog services, as a tenant would push them.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

from platform_setup import analyze

K = 10
METRICS = (f"ndcg@{K}", f"precision@{K}", f"recall@{K}", f"map@{K}")
RATINGS_FILES = ("u.data", "ratings.csv", "ratings.dat")
ITEM_FILES = ("u.item", "movies.csv", "movies.dat")


def resolve_dataset(name: str, datasets: Path) -> Path:
    """``--dataset`` as a folder: an existing path, else a folder under ``--datasets``."""
    for folder in (Path(name), datasets / name):
        if folder.is_dir():
            if not any((folder / f).is_file() for f in RATINGS_FILES):
                raise SystemExit(
                    f"{folder} has none of {', '.join(RATINGS_FILES)}: pass a folder laid out "
                    "like ml-100k (u.data, u.item, u.user) or ml-latest-small (ratings.csv, "
                    "movies.csv)"
                )
            return folder.resolve()
    raise SystemExit(
        f"dataset {name!r} is neither a folder nor one under {datasets}: pass ml-100k, "
        "ml-latest-small or a folder path, or set --datasets / M6REC_DATASETS"
    )


def find_file(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def slug_for(dataset: str, seed: int) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", dataset.lower()).strip("-")[:30] or "data"
    return f"bench-{base}-s{seed}-{int(time.time())}"


def ingest_side_information(tenant, folder: Path) -> dict:
    """Items (u.item / movies.csv / movies.dat) and users (u.user) when the folder has them, as
    a tenant would push them; the engine bench reads the same files for its features."""
    from m6rec.catalog.importers import import_items, read_movielens_items
    from m6rec.catalog.services import users_upsert

    pushed = {"items": 0, "users": 0}
    items_path = find_file(folder, ITEM_FILES)
    if items_path is not None:
        totals = import_items(tenant=tenant, rows=read_movielens_items(items_path))
        pushed["items"] = totals["created"] + totals["updated"]
    users_path = find_file(folder, ("u.user",))
    if users_path is not None:
        genders = {"M": "male", "F": "female"}
        users = []
        with open(users_path, encoding="latin-1") as fh:
            for line in fh:
                if not line.strip():
                    continue
                user_id, age, gender, occupation, _zip = line.rstrip("\n").split("|")
                props = {"age": int(age), "occupation": occupation}
                if gender in genders:
                    props["gender"] = genders[gender]
                users.append({"user_id": user_id, "properties": props})
        users_upsert(tenant=tenant, rows=users)
        pushed["users"] = len(users)
    return pushed


def ingest_train(tenant, data, train, *, chunk: int = 10_000) -> None:
    from m6rec.catalog.services import interactions_ingest

    users = data.user_ids[train.users]
    items = data.item_ids[train.items]
    values = train.weights
    stamps = train.timestamps
    rows = [
        {
            "user_id": str(u),
            "item_id": str(i),
            "type": "like",
            "value": float(v),
            "timestamp": datetime.fromtimestamp(int(t), tz=UTC),
            "event_id": None,
        }
        for u, i, v, t in zip(users, items, values, stamps, strict=True)
    ]
    for start in range(0, len(rows), chunk):
        interactions_ingest(tenant=tenant, rows=rows[start : start + chunk])
    analyze()
