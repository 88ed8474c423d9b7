"""End-to-end quality through the serving API (issue 4): nDCG@10 on the MS Recommenders split
of ml-100k, fetched over HTTP from gunicorn, against the engine's own evaluation.

    python benchmarks/api_quality.py [--engine-bench]

Steps
  1. ml-100k (``$M6REC_DATASETS/ml-100k/u.data``, never copied into the repo) split with the
     engine's ``train_test_split`` (per-item stratified 75/25, seed 42);
  2. items (u.item) and users (u.user) pushed, then the *train* part ingested, for a fresh tenant
     (domain ``content``; rules that reorder by publication date switched off, so the API ranks
     by the model alone), trained and promoted
     through the platform's training service (what production does);
  3. ``GET /api/v1/users/{id}/recommendations?k=10`` for every test user over HTTP (production
     settings, gunicorn, exclude_seen=true: the stored train interactions are folded in and
     excluded); nDCG@10 / P@10 / R@10 / MAP with ``engine.metrics.ranking_metrics``;
  4. the same served bundle evaluated the way ``python -m engine bench`` evaluates a model
     (``Recommender.load(bundle).recommend(user, 10)`` with trained user vectors, seen items
     excluded) — the target is the API within 1% of it;
  5. with ``--engine-bench``, also ``python -m engine bench --data ml-100k`` itself (its own
     training run; minutes) and its figure for the model it serves.
Prints the figures; writes JSON (default ``bench-results/api_quality.json``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_load import (  # noqa: E402
    REPO,
    Server,
    analyze,
    bench_key,
    django_setup,
    ensure_model,
    ensure_tenant,
    production_env,
)

K = 10


def load_split(datasets: Path):
    from engine.data import load_interactions, train_test_split

    path = datasets / "ml-100k" / "u.data"
    if not path.is_file():
        raise SystemExit(f"{path} not found: set M6REC_DATASETS to the datasets directory")
    data = load_interactions(path)
    train, test = train_test_split(data)
    return data, train, test


def ingest_side_information(tenant, datasets: Path) -> None:
    """Items from u.item and users from u.user, as a tenant would push them: the engine bench
    reads the same files for its item/user features, so both models see the same information."""
    from m6rec.catalog.importers import import_items, read_movielens_items
    from m6rec.catalog.services import users_upsert

    import_items(tenant=tenant, rows=read_movielens_items(datasets / "ml-100k" / "u.item"))
    genders = {"M": "male", "F": "female"}
    users = []
    with open(datasets / "ml-100k" / "u.user", encoding="latin-1") as fh:
        for line in fh:
            user_id, age, gender, occupation, _zip = line.rstrip("\n").split("|")
            props = {"age": int(age), "occupation": occupation}
            if gender in genders:
                props["gender"] = genders[gender]
            users.append({"user_id": user_id, "properties": props})
    users_upsert(tenant=tenant, rows=users)


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


def fetch_all(port: int, token: str, user_ids: list[str], *, threads: int = 4) -> dict:
    import http.client

    headers = {"Authorization": f"Bearer {token}"}

    def one(uid: str):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        path = f"/api/v1/users/{urllib.parse.quote(uid)}/recommendations?k={K}&exclude_seen=true"
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
        if resp.status != 200:
            raise SystemExit(f"HTTP {resp.status} for user {uid}: {body}")
        return uid, body

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(one, user_ids))


def evaluate(lists: dict[str, list[str]], data, test) -> dict:
    from engine.metrics import ranking_metrics

    truth = test.csr(binary=True)
    users = np.unique(test.users).astype(np.int64)
    iidx = {str(i): j for j, i in enumerate(data.item_ids.tolist())}
    top = np.full((len(users), K), -1, dtype=np.int64)
    for row, u in enumerate(users):
        got = [iidx.get(i, -1) for i in lists[str(data.user_ids[u])]][:K]
        top[row, : len(got)] = got
    return ranking_metrics(top, truth, users, K)


def engine_eval(bundle: Path, data, test) -> tuple[str, dict]:
    """What ``python -m engine bench`` computes for a served bundle (trained user vectors)."""
    from engine.recommender import Recommender

    rec = Recommender.load(bundle)
    users = np.unique(test.users)
    lists = {
        str(data.user_ids[u]): [i for i, _ in rec.recommend(str(data.user_ids[u]), K)]
        for u in users
    }
    return rec.model, evaluate(lists, data, test)


def run_engine_bench(datasets: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "engine", "bench", "--data", str(datasets / "ml-100k")]
    cmd += ["--json", str(out)]
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    from engine.data import default_datasets_dir

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=Path, default=default_datasets_dir())
    ap.add_argument("--train-budget", type=float, default=120.0, help="seconds")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine-bench", action="store_true", help="also run python -m engine bench")
    ap.add_argument("--out", type=Path, default=REPO / "bench-results" / "api_quality.json")
    args = ap.parse_args(argv)

    env = production_env()
    django_setup(env)
    from django.db import connections

    from m6rec.registry.selectors import version_get_active
    from m6rec.registry.storage import bundle_local_path

    data, train, test = load_split(args.datasets)
    test_users = [str(data.user_ids[u]) for u in np.unique(test.users)]
    print(
        f"ml-100k split: {len(train)} train / {len(test)} test rows, {len(test_users)} test users",
        flush=True,
    )
    slug = f"bench-ml100k-{int(time.time())}"
    tenant = ensure_tenant(slug, config={"rules": {"freshness": False}})
    t = time.perf_counter()
    ingest_side_information(tenant, args.datasets)
    ingest_train(tenant, data, train)
    print(f"ingested the train part for {slug} in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    version = ensure_model(tenant, time_budget_s=args.train_budget)
    train_s = time.perf_counter() - t
    active = version_get_active(tenant=tenant)
    bundle = bundle_local_path(uri=active.bundle_uri)
    token = bench_key(tenant)
    connections.close_all()

    with Server(env, workers=args.workers, threads=2) as server:
        t = time.perf_counter()
        responses = fetch_all(server.port, token, test_users)
        fetch_s = time.perf_counter() - t
    strategies = {}
    for body in responses.values():
        strategies[body["strategy"]] = strategies.get(body["strategy"], 0) + 1
    versions = {body["model_version"] for body in responses.values()}
    api_lists = {u: [it["item_id"] for it in body["items"]] for u, body in responses.items()}
    api = evaluate(api_lists, data, test)
    served_model, offline = engine_eval(bundle, data, test)
    rel = (api["ndcg@10"] - offline["ndcg@10"]) / offline["ndcg@10"]
    print(
        f"served model: {served_model} (v{version}, trained in {train_s:.0f} s)\n"
        f"API     nDCG@10 {api['ndcg@10']:.4f}  P@10 {api['precision@10']:.4f}  "
        f"R@10 {api['recall@10']:.4f}  MAP {api['map@10']:.4f}  ({len(responses)} users over "
        f"HTTP in {fetch_s:.1f} s; strategies {strategies}; versions {sorted(versions)})\n"
        f"engine  nDCG@10 {offline['ndcg@10']:.4f}  P@10 {offline['precision@10']:.4f}  "
        f"R@10 {offline['recall@10']:.4f}  MAP {offline['map@10']:.4f}  (same bundle, engine "
        f"bench procedure)\n"
        f"relative difference {rel * 100:+.2f}% (target within ±1%)",
        flush=True,
    )
    result = {
        "benchmark": "api_quality",
        "dataset": "ml-100k (MS Recommenders per-item stratified split 75/25, seed 42)",
        "split": {"train": len(train), "test": len(test), "test_users": len(test_users)},
        "tenant": slug,
        "model_version": version,
        "served_model": served_model,
        "train_s": round(train_s, 1),
        "api": api,
        "api_strategies": strategies,
        "api_fetch_s": round(fetch_s, 2),
        "engine_same_bundle": offline,
        "relative_difference": rel,
        "within_1_percent": abs(rel) <= 0.01,
    }
    if args.engine_bench:
        with tempfile.TemporaryDirectory() as tmp:
            bench = run_engine_bench(args.datasets, Path(tmp) / "bench.json")
        row = bench["rows"].get(f"ours_{bench['served_model']}") or {}
        result["engine_bench"] = {
            "served_model": bench["served_model"],
            "served_row": row,
            "rows": {k: v.get("ndcg@10") for k, v in bench["rows"].items()},
        }
        if row:
            rel_b = (api["ndcg@10"] - row["ndcg@10"]) / row["ndcg@10"]
            result["engine_bench"]["relative_difference_api_vs_bench"] = rel_b
            print(
                f"python -m engine bench: served {bench['served_model']} nDCG@10 "
                f"{row['ndcg@10']:.4f} (its own training run); API vs bench {rel_b * 100:+.2f}%",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
