"""End-to-end quality through the serving API (issue 4): nDCG@10 of the model the platform trains
and serves, fetched over HTTP from gunicorn, side by side with popularity and EASE computed with
plain numpy on the same split, over several split seeds.

    python benchmarks/api_quality.py                                  # ml-latest-small, seeds 42 7
    python benchmarks/api_quality.py --dataset ml-100k --seeds 42
    python benchmarks/api_quality.py --dataset /path/to/folder --seeds 42 7 --engine-bench

``--dataset`` is ``ml-100k``, ``ml-latest-small`` (folders under ``--datasets``, default
``$M6REC_DATASETS``; never copied into the repo) or any folder laid out like one of them:
``u.data`` + ``u.item`` (+ ``u.user``), or ``ratings.csv`` (+ ``movies.csv``).

For each seed of ``--seeds`` (default 42 7):
  1. the ratings split with the engine's ``train_test_split(data, seed=seed)`` (MS Recommenders
     per-item stratified 75/25; seed 42 is the published protocol);
  2. baselines on the train part, plain numpy (nothing from ``engine.cf``/``engine.itemitem``):
     popularity (distinct train users per item) and EASE (B = I - P/diag(P),
     P = (XᵀX + λI)⁻¹ in float32 by Cholesky, ``spotrf``/``spotri``), λ chosen on a per-item
     stratified 75/25 validation split of the train part (``stratified_split(train.items,
     0.75, seed=42)``) over ``LAMBDAS``, then refit on the whole train part; seen items masked;
  3. a fresh tenant per (dataset, seed) (domain ``content``; rules that reorder by publication
     date switched off, so the API ranks by the model alone): items (``u.item``/``movies.csv``:
     title, genres, year as properties, genres as categories) and users (``u.user``) pushed when
     the folder has them, then the *train* part ingested, trained and promoted through the
     platform's training service (what production does; minutes per seed; done before the
     baselines so that a failing training run stops the benchmark early);
  4. ``GET /api/v1/users/{id}/recommendations?k=10&exclude_seen=true`` for every test user over
     HTTP (production settings, gunicorn; the stored train interactions are folded in and
     excluded); nDCG@10 / P@10 / R@10 / MAP with ``engine.metrics.ranking_metrics``;
  5. the same served bundle evaluated the way ``python -m engine bench`` evaluates a model
     (``Recommender.load(bundle).recommend(user, 10)``, trained user vectors, seen excluded):
     the API should be within 1% of it.
Prints one table per (dataset, seed) (API, engine on the same bundle, EASE with its λ,
popularity; the served model and version; the ratio API/EASE of nDCG@10), then the mean ratio
over the seeds. ``--engine-bench`` also runs ``python -m engine bench --data <folder> --seeds 42``
(its own training run, minutes; it uses the engine's own baselines), compared
with the seed-42 API figure when seed 42 is among ``--seeds``.

Writes JSON (default ``bench-results/api_quality.json``): ``entries``, one per (dataset, seed);
entries of other datasets/seeds already in the file are kept, the ones measured now replace
theirs; ``summary`` holds, per dataset, the means over the seeds of the latest run.
Environment overrides as in ``platform_setup.py`` (BENCH_DATABASE_URL, BENCH_REDIS_URL,
BENCH_MEDIA_ROOT). About 5 minutes per seed on ml-latest-small with two shared cores (training
~100 s, the EASE λ grid ~190 s), well under a minute of baselines on ml-100k.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_quality_baselines import baselines  # noqa: E402
from api_quality_data import (  # noqa: E402
    RATINGS_FILES,
    K,
    find_file,
    ingest_side_information,
    ingest_train,
    resolve_dataset,
    slug_for,
)
from api_quality_eval import engine_eval, evaluate, fetch_all, run_engine_bench  # noqa: E402
from api_quality_report import print_entry, summarize, write_results  # noqa: E402
from harness import REPO, Server  # noqa: E402
from platform_setup import (  # noqa: E402
    bench_key,
    django_setup,
    ensure_model,
    ensure_tenant,
    production_env,
)


# ---------------------------------------------------------------------- one (dataset, seed)
def run_seed(args, env, folder: Path, data, seed: int) -> dict:
    from django.db import connections

    from engine.data import train_test_split
    from m6rec.registry.selectors import version_get_active
    from m6rec.registry.storage import bundle_local_path

    started = time.perf_counter()
    train, test = train_test_split(data, seed=seed)
    test_users = [str(data.user_ids[u]) for u in np.unique(test.users)]
    print(
        f"\n== {folder.name}, seed {seed}: {len(train)} train / {len(test)} test rows, "
        f"{len(test_users)} test users",
        flush=True,
    )
    slug = slug_for(folder.name, seed)
    tenant = ensure_tenant(slug, config={"rules": {"freshness": False}})
    t = time.perf_counter()
    pushed = ingest_side_information(tenant, folder)
    ingest_train(tenant, data, train)
    ingest_s = time.perf_counter() - t
    print(
        f"ingested {pushed['items']} items, {pushed['users']} users and the train part for "
        f"{slug} in {ingest_s:.0f} s",
        flush=True,
    )
    t = time.perf_counter()
    version = ensure_model(tenant, time_budget_s=args.train_budget)
    train_s = time.perf_counter() - t
    active = version_get_active(tenant=tenant)
    bundle = bundle_local_path(uri=active.bundle_uri)
    token = bench_key(tenant)
    connections.close_all()
    # after training, so a failing training run stops the benchmark before minutes of EASE
    print("baselines (numpy, train part only) ...", flush=True)
    base = baselines(train, test)
    print(f"  done in {base['baselines_s']:.0f} s (EASE λ={base['ease']['lambda']:g})", flush=True)

    with Server(env, workers=args.workers, threads=2) as server:
        t = time.perf_counter()
        responses = fetch_all(server.port, token, test_users)
        fetch_s = time.perf_counter() - t
    strategies: dict[str, int] = {}
    for body in responses.values():
        strategies[body["strategy"]] = strategies.get(body["strategy"], 0) + 1
    versions = sorted({body["model_version"] for body in responses.values()}, key=str)
    api_lists = {u: [it["item_id"] for it in body["items"]] for u, body in responses.items()}
    api = evaluate(api_lists, data, test)
    served_model, offline = engine_eval(bundle, data, test)
    ndcg = f"ndcg@{K}"
    return {
        "dataset": folder.name,
        "dataset_path": str(folder),
        "seed": seed,
        "protocol": f"per-item stratified 75/25 split, seed {seed}; k={K}; seen items excluded",
        "split": {"train": len(train), "test": len(test), "test_users": len(test_users)},
        "tenant": slug,
        "model_version": version,
        "served_model": served_model,
        "api_versions": versions,
        "api_strategies": strategies,
        "api": api,
        "engine_same_bundle": offline,
        "api_vs_engine": (api[ndcg] - offline[ndcg]) / offline[ndcg] if offline[ndcg] else None,
        "ease": base["ease"],
        "popularity": base["popularity"],
        "ratio_api_ease": api[ndcg] / base["ease"][ndcg] if base["ease"][ndcg] else None,
        "timings_s": {
            "baselines": base["baselines_s"],
            "ingest": round(ingest_s, 1),
            "train": round(train_s, 1),
            "api_fetch": round(fetch_s, 2),
            "total": round(time.perf_counter() - started, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    from engine.data import default_datasets_dir, load_interactions

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--dataset",
        default="ml-latest-small",
        help="ml-100k, ml-latest-small or a folder (default ml-latest-small)",
    )
    ap.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[42, 7],
        help="split seeds, one tenant and training run each (default 42 7)",
    )
    ap.add_argument(
        "--datasets",
        type=Path,
        default=default_datasets_dir(),
        help="where named datasets live (default $M6REC_DATASETS)",
    )
    ap.add_argument("--train-budget", type=float, default=None,
                    help="training safety stop in seconds (default: the platform's)")  # fmt: skip
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--engine-bench",
        action="store_true",
        help="also run python -m engine bench on the dataset (split seed 42)",
    )
    ap.add_argument("--out", type=Path, default=REPO / "bench-results" / "api_quality.json")
    args = ap.parse_args(argv)  # fmt: skip

    folder = resolve_dataset(args.dataset, args.datasets)
    seeds = list(dict.fromkeys(args.seeds))
    ratings = find_file(folder, RATINGS_FILES)
    data = load_interactions(ratings)
    print(f"{ratings}: {data.counts()}; seeds {seeds}", flush=True)

    env = production_env()
    django_setup(env)
    started = time.perf_counter()
    entries = []
    for seed in seeds:
        entry = run_seed(args, env, folder, data, seed)
        print_entry(entry)
        entries.append(entry)
    summary = summarize(entries)
    ndcg = f"ndcg@{K}"
    ratio = summary["mean_ratio_api_ease"]
    print(
        f"\n{folder.name}, seeds {seeds}: mean nDCG@{K} API {summary[f'mean_api_{ndcg}']:.4f}, "
        f"EASE {summary[f'mean_ease_{ndcg}']:.4f}, popularity "
        f"{summary[f'mean_popularity_{ndcg}']:.4f}; mean ratio API/EASE "
        + ("n/a" if ratio is None else f"{ratio:.3f}")
        + f" (wall {time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    extra: dict = {"wall_s": round(time.perf_counter() - started, 1)}
    if args.engine_bench:
        with tempfile.TemporaryDirectory() as tmp:
            bench = run_engine_bench(folder, Path(tmp) / "bench.json")
        row = bench["rows"].get(f"ours_{bench['served_model']}") or {}
        extra["engine_bench"] = {
            "seed": 42,
            "served_model": bench["served_model"],
            "served_row": row,
            "rows": {k: v.get(ndcg) for k, v in bench["rows"].items()},
        }
        api42 = next((e["api"][ndcg] for e in entries if e["seed"] == 42), None)
        if row and api42 is not None:
            rel_b = (api42 - row[ndcg]) / row[ndcg]
            extra["engine_bench"]["relative_difference_api_vs_bench"] = rel_b
            print(
                f"python -m engine bench: served {bench['served_model']} nDCG@{K} "
                f"{row[ndcg]:.4f} (its own training run, seed 42); API (seed 42) vs bench "
                f"{rel_b * 100:+.2f}%",
                flush=True,
            )
        elif row:
            print(
                f"python -m engine bench: served {bench['served_model']} nDCG@{K} "
                f"{row[ndcg]:.4f} (seed 42; not among --seeds, so no API comparison)",
                flush=True,
            )
    write_results(args.out, entries, summary, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
