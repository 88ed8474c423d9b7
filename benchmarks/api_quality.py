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
Environment overrides as in ``serve_load.py`` (BENCH_DATABASE_URL, BENCH_REDIS_URL,
BENCH_MEDIA_ROOT). About 5 minutes per seed on ml-latest-small with two shared cores (training
~100 s, the EASE λ grid ~190 s), well under a minute of baselines on ml-100k.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

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
LAMBDAS = (50.0, 100.0, 200.0, 350.0, 500.0, 800.0, 1200.0, 2000.0)
RATINGS_FILES = ("u.data", "ratings.csv", "ratings.dat")
ITEM_FILES = ("u.item", "movies.csv", "movies.dat")
METRICS = (f"ndcg@{K}", f"precision@{K}", f"recall@{K}", f"map@{K}")


# ---------------------------------------------------------------------- data
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


# ---------------------------------------------------------------------- baselines (numpy)
def gram(x: sp.csr_matrix) -> np.ndarray:
    """(n_items, n_items) float32 dense XᵀX of a binary (n_users, n_items) matrix."""
    x = x.astype(np.float32)
    return (x.T @ x).toarray().astype(np.float32, copy=False)


def ease_weights(g: np.ndarray, lam: float) -> np.ndarray:
    """EASE item-item weights (Steck 2019) from the Gram matrix ``g`` = XᵀX (not modified).

    P = (XᵀX + λI)⁻¹ by Cholesky in float32 (LAPACK ``spotrf`` + ``spotri``: half the work and
    memory traffic of ``np.linalg.inv`` in float64), B = I - P / diag(P) (column j divided by
    P_jj), so diag(B) = 0. Returns (n_items, n_items) float32; scores = X B.
    """
    n = g.shape[0]
    a = np.array(g, dtype=np.float32, order="F", copy=True)
    a[np.diag_indices(n)] += np.float32(lam)
    c, info = lapack.spotrf(a, lower=1, clean=1, overwrite_a=1)
    if info != 0:
        raise SystemExit(
            f"EASE: spotrf failed (info={info}) for λ={lam}: XᵀX + λI is not positive definite "
            "in float32; use larger λ values"
        )
    p, info = lapack.spotri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise SystemExit(f"EASE: spotri failed (info={info}) for λ={lam}; use larger λ values")
    p = np.tril(p)  # spotri fills the lower triangle only
    p += np.tril(p, -1).T
    d = np.diag(p).copy()
    p /= -d[None, :]
    np.fill_diagonal(p, 0.0)
    return p


def masked_topk(score_rows, x: sp.csr_matrix, users: np.ndarray, *, chunk: int = 2048):
    """Top-K per user of ``score_rows(users_chunk) -> (len, n_items)``, seen items at -inf."""
    from engine.metrics import topk_from_scores

    out = []
    for start in range(0, len(users), chunk):
        rows = users[start : start + chunk]
        scores = np.array(score_rows(rows), dtype=np.float32, copy=True)
        r, c = x[rows].nonzero()
        scores[r, c] = -np.inf
        out.append(topk_from_scores(scores, K))
    return np.concatenate(out) if out else np.zeros((0, K), np.int64)


def baselines(train, test) -> dict:
    """Popularity and EASE (λ on validation inside ``train``) evaluated on ``test``."""
    from engine.data import stratified_split
    from engine.metrics import ranking_metrics

    x = train.csr(binary=True)
    truth = test.csr(binary=True)
    users = np.unique(test.users).astype(np.int64)
    t = time.perf_counter()
    pop = np.diff(x.tocsc().indptr).astype(np.float32)
    top = masked_topk(lambda rows: np.broadcast_to(pop, (len(rows), len(pop))), x, users)
    popularity = ranking_metrics(top, truth, users, K)

    vmask = stratified_split(train.items, ratio=0.75, seed=42)
    inner, val = train.subset(vmask), train.subset(~vmask)
    xi, vt = inner.csr(binary=True), val.csr(binary=True)
    vusers = np.unique(val.users).astype(np.int64)
    gi = gram(xi)
    validation = {}
    for lam in LAMBDAS:
        b = ease_weights(gi, lam)
        top = masked_topk(lambda rows, b=b: xi[rows] @ b, xi, vusers)
        validation[lam] = ranking_metrics(top, vt, vusers, K)[f"ndcg@{K}"]
        print(f"  EASE λ={lam:g}: validation nDCG@{K} {validation[lam]:.4f}", flush=True)
    del gi, b
    best = max(LAMBDAS, key=lambda lam: validation[lam])  # first of equals: the smallest λ
    b = ease_weights(gram(x), best)
    top = masked_topk(lambda rows: x[rows] @ b, x, users)
    ease = ranking_metrics(top, truth, users, K)
    validation_ndcg = {f"{lam:g}": v for lam, v in validation.items()}
    return {
        "popularity": popularity,
        "ease": {**ease, "lambda": best, "validation_ndcg": validation_ndcg},
        "baselines_s": round(time.perf_counter() - t, 1),
    }


# ---------------------------------------------------------------------- platform
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


def fetch_all(port: int, token: str, user_ids: list[str], *, threads: int = 4) -> dict:
    import http.client

    headers = {"Authorization": f"Bearer {token}"}

    def one(uid: str):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        path = f"/api/v1/users/{urllib.parse.quote(uid)}/recommendations?k={K}&exclude_seen=true"
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        if resp.status != 200:
            raise SystemExit(
                f"HTTP {resp.status} for GET {path}: {raw[:500]!r}; check the server log above "
                "(gunicorn's stderr) and the tenant's active version"
            )
        return uid, json.loads(raw)

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


def run_engine_bench(folder: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "engine", "bench", "--data", str(folder), "--seeds", "42"]
    cmd += ["--json", str(out)]
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)
    return json.loads(out.read_text())["runs"][0]


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


def print_entry(e: dict) -> None:
    def row(label: str, m: dict, note: str = "") -> str:
        cells = "".join(f"{m[k]:>14.4f}" for k in METRICS)
        return f"{label:<22}{cells}  {note}".rstrip()

    ratio = e["ratio_api_ease"]
    rel = e["api_vs_engine"]
    lines = [
        f"\n{e['dataset']}, seed {e['seed']}: served {e['served_model']} v{e['model_version']} "
        f"(tenant {e['tenant']}; trained in {e['timings_s']['train']:.0f} s)",
        f"{'':<22}" + "".join(f"{k:>14}" for k in METRICS),
        row(
            "API (HTTP)",
            e["api"],
            f"{e['split']['test_users']} users in {e['timings_s']['api_fetch']:.1f} s; "
            f"strategies {e['api_strategies']}; versions {e['api_versions']}",
        ),
        row(
            "engine, same bundle",
            e["engine_same_bundle"],
            "" if rel is None else f"API vs engine {rel * 100:+.2f}% (target within ±1%)",
        ),
        row(f"EASE (λ={e['ease']['lambda']:g})", e["ease"]),
        row("popularity", e["popularity"]),
        f"API/EASE nDCG@{K}: " + ("n/a" if ratio is None else f"{ratio:.3f}"),
    ]
    print("\n".join(lines), flush=True)


def summarize(entries: list[dict]) -> dict:
    ratios = [e["ratio_api_ease"] for e in entries if e["ratio_api_ease"] is not None]
    return {
        "seeds": [e["seed"] for e in entries],
        "mean_ratio_api_ease": float(np.mean(ratios)) if ratios else None,
        **{
            f"mean_{who}_{m}": float(np.mean([e[who][m] for e in entries]))
            for who in ("api", "ease", "popularity")
            for m in METRICS
        },
    }


def write_results(out: Path, entries: list[dict], summary: dict, extra: dict) -> None:
    """Merge into ``out``: entries for other (dataset, seed) pairs already there are kept."""
    old: dict = {}
    if out.is_file():
        try:
            old = json.loads(out.read_text())
        except ValueError:
            old = {}
    if not isinstance(old.get("entries"), list):
        old = {}  # the previous single-run format, or not ours: start afresh
    measured = {(e["dataset_path"], e["seed"]) for e in entries}
    kept = [
        e for e in old.get("entries", []) if (e.get("dataset_path"), e.get("seed")) not in measured
    ]
    dataset = entries[0]["dataset"]
    result = {
        "benchmark": "api_quality",
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "entries": kept + entries,
        "summary": {**old.get("summary", {}), dataset: {**summary, **extra}},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(out)
    print(f"wrote {out}")


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
