"""Per-domain benchmark: deep fusion with the domain's features against MF alone.

    python -m domains.bench [--json OUT] [--domains ecommerce,content] [--budget 60] [--quick]
                            [--no-movielens]

For each built-in domain a synthetic tenant (:mod:`domains.synthetic`, planted preferences) is
split per item 75/25 (MS Recommenders' stratified split, seed 42); the engine trains on the 75%
twice with :func:`engine.pipeline.train_bundle` — with the domain's item/user
:class:`~engine.features.FeatureMatrix` and without — and every model is scored on the held-out
25%: binary nDCG@10 over test users, seen items excluded. MovieLens ml-100k stands in for the
content domain (genres, year; age, gender, occupation) on the same protocol; it is read from
``$M6REC_DATASETS/ml-100k`` (default ``<repo>/../shared/datasets``), never copied.
User features are computed from the training part only.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from domains.base import Domain
from domains.records import InteractionRecord, ItemRecord, UserRecord
from domains.synthetic import generate

K = 10
MODELS = ("popularity", "mf", "itemcf", "fusion_float")


def built_in_domains() -> dict[str, Domain]:
    """The five first-party domains (imported directly: the benchmark needs no Django)."""
    from domains.content import ContentDomain
    from domains.ecommerce import EcommerceDomain
    from domains.education import EducationDomain
    from domains.health import HealthDomain
    from domains.social import SocialDomain

    return {
        d.name: d
        for d in (
            EcommerceDomain(),
            ContentDomain(),
            SocialDomain(),
            HealthDomain(),
            EducationDomain(),
        )
    }


def interaction_data(domain: Domain, events: list[InteractionRecord], weights=None):
    """Events → :class:`engine.data.InteractionData` (domain confidence weights, epoch secs)."""
    from engine.data import InteractionData

    w = domain.confidence_weights(events) if weights is None else np.asarray(weights, np.float32)
    stamps = [e.timestamp.timestamp() if e.timestamp else 0.0 for e in events]
    return InteractionData.from_arrays(
        [e.user_id for e in events], [e.item_id for e in events], w, stamps
    )


def _evaluate(bundle: Path, model: str, test, train) -> float | None:
    """nDCG@10 of ``model`` from ``bundle`` on the test part (None if the bundle lacks it)."""
    from engine.bundle import BundleError
    from engine.metrics import ranking_metrics
    from engine.recommender import Recommender

    try:
        rec = Recommender.load(bundle, model=model)
    except BundleError:
        return None
    index = {str(i): j for j, i in enumerate(test.item_ids.tolist())}
    users = np.unique(test.users)
    topk = np.full((len(users), K), -1, dtype=np.int64)
    for r, u in enumerate(users):
        for c, (item, _score) in enumerate(rec.recommend(str(test.user_ids[u]), K)):
            topk[r, c] = index.get(item, -1)
    return float(ranking_metrics(topk, test.csr(binary=True), users, K)[f"ndcg@{K}"])


def run_tenant(
    name: str,
    domain: Domain,
    items: list[ItemRecord],
    users: list[UserRecord],
    events: list[InteractionRecord],
    *,
    budget: float,
    weights=None,
) -> dict[str, Any]:
    """Split, train with and without features, evaluate; one result row (dict)."""
    from engine.data import train_test_split
    from engine.pipeline import TrainConfig, train_bundle

    data = interaction_data(domain, events, weights)
    train, test = train_test_split(data, ratio=0.75, seed=42)
    train_users = set(train.user_ids[np.unique(train.users)].tolist())
    train_pairs = {
        (str(data.user_ids[u]), str(data.item_ids[i]))
        for u, i in zip(train.users, train.items, strict=True)
    }
    train_events = [e for e in events if (e.user_id, e.item_id) in train_pairs]
    t0 = time.time()
    item_f = domain.item_features(items)
    user_f = domain.user_features(
        [u for u in users if u.user_id in train_users], train_events, items=items
    )
    row: dict[str, Any] = {
        "tenant": name,
        "domain": domain.name,
        "users": int(data.n_users),
        "items": int(data.n_items),
        "train_rows": len(train),
        "test_rows": len(test),
        "item_features": item_f.dim,
        "user_features": user_f.dim,
        "features_s": round(time.time() - t0, 2),
    }
    with tempfile.TemporaryDirectory(prefix="m6rec-bench-") as tmp:
        for label, feats in (("plain", (None, None)), ("features", (item_f, user_f))):
            cfg = TrainConfig(time_budget_s=budget)
            t0 = time.time()
            path = Path(tmp) / label
            manifest = train_bundle(
                train, path, item_features=feats[0], user_features=feats[1], config=cfg
            )
            row[f"{label}_train_s"] = round(time.time() - t0, 1)
            row[f"{label}_served"] = manifest.get("served_model")
            models = (
                ("popularity", "mf", "itemcf", "fusion_float")
                if label == "plain"
                else ("mf", "fusion_float", manifest.get("served_model"))
            )
            for model in dict.fromkeys(models):
                key = f"{label}:{model}" if label == "features" else model
                if model and key not in row:
                    score = _evaluate(path, model, test, train)
                    row[key] = None if score is None else round(score, 4)
    row["fusion_no_features"] = row.pop("fusion_float", None)
    row["fusion_features"] = row.get("features:fusion_float")
    row["mf_features_run"] = row.get("features:mf")
    row["served_features"] = row.get(f"features:{row['features_served']}")
    return row


# ---------------------------------------------------------------- MovieLens ml-100k
ML_GENRES = (
    "unknown",
    "action",
    "adventure",
    "animation",
    "children",
    "comedy",
    "crime",
    "documentary",
    "drama",
    "fantasy",
    "film-noir",
    "horror",
    "musical",
    "mystery",
    "romance",
    "sci-fi",
    "thriller",
    "war",
    "western",
)


def movielens_100k(path: Path) -> tuple[list[ItemRecord], list[UserRecord], list, np.ndarray]:
    """ml-100k as content-domain records: (items, users, events, ratings as weights)."""

    def lines(name: str) -> list[list[str]]:
        text = (path / name).read_bytes().decode("latin-1")
        sep = "\t" if name == "u.data" else "|"
        return [ln.split(sep) for ln in text.splitlines() if ln.strip()]

    items = []
    for p in lines("u.item"):
        props: dict[str, Any] = {"title": p[1][:500]}
        props["genres"] = [g for g, flag in zip(ML_GENRES, p[5:24], strict=False) if flag == "1"]
        year = p[2][-4:]
        if year.isdigit():
            props["year"] = int(year)
        items.append(ItemRecord(p[0], props))
    gender = {"M": "male", "F": "female"}
    users = [
        UserRecord(p[0], {"age": int(p[1]), "gender": gender[p[2]], "occupation": p[3]})
        for p in lines("u.user")
    ]
    rows = lines("u.data")
    events = [
        InteractionRecord(r[0], r[1], "view", None, datetime.fromtimestamp(int(r[3]), UTC))
        for r in rows
    ]
    return items, users, events, np.array([float(r[2]) for r in rows], np.float32)


def _table(rows: list[dict[str, Any]]) -> str:
    """Plain run: popularity, MF, EASE, fusion; features run: MF, fusion, served model."""

    def f(x):
        return "  n/a " if x is None else f"{x:.4f}"

    head = (
        f"{'tenant':<22}{'rows':>8} | {'pop':>6}  {'MF':>6}  {'itemCF':>6}  {'fusion':>6} | "
        f"{'MF':>6}  {'fusion+feat':>11}  {'served':>20}"
    )
    out = [f"{'':<30} | {'without features':<30} | with the domain's features", head]
    out.append("-" * len(head))
    for r in rows:
        served = f"{f(r.get('served_features'))} ({r.get('features_served')})"
        out.append(
            f"{r['tenant']:<22}{r['train_rows'] + r['test_rows']:>8} | {f(r.get('popularity'))}  "
            f"{f(r.get('mf'))}  {f(r.get('itemcf'))}  {f(r.get('fusion_no_features'))} | "
            f"{f(r.get('mf_features_run'))}  {f(r.get('fusion_features')):>11}  {served:>20}"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m domains.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    parser.add_argument("--domains", default="ecommerce,content,social,health,education")
    parser.add_argument("--budget", type=float, default=60.0, help="train_bundle safety stop (s)")
    parser.add_argument("--users", type=int, default=1500)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--events", type=float, default=10.0, help="mean items per user")
    parser.add_argument("--quick", action="store_true", help="small data, 15 s budget (smoke)")
    parser.add_argument("--no-movielens", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.items, args.budget = 200, 150, 15.0
    domains = built_in_domains()
    rows = []
    for name in [n.strip() for n in args.domains.split(",") if n.strip()]:
        ds = generate(
            name,
            n_users=args.users,
            n_items=args.items,
            events_per_user=args.events,
            seed=args.seed,
        )
        row = run_tenant(
            f"{name} (synthetic)",
            domains[name],
            ds.items,
            ds.users,
            ds.interactions,
            budget=args.budget,
        )
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    if not args.no_movielens:
        from engine.data import default_datasets_dir

        path = default_datasets_dir() / "ml-100k"
        if (path / "u.data").is_file():
            items, users, events, ratings = movielens_100k(path)
            row = run_tenant(
                "ml-100k (content)",
                domains["content"],
                items,
                users,
                events,
                budget=args.budget,
                weights=ratings,
            )
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        else:
            print(f"ml-100k not found at {path}; set M6REC_DATASETS", file=sys.stderr)
    print(f"nDCG@{K} on the held-out 25% (per-item stratified split, seed 42)")
    print(_table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"k": K, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
