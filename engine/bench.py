"""Side-by-side benchmark on the MS Recommenders MovieLens protocol.

Per-item stratified 75/25 split (seed 42), every rating a positive, seen items removed, k = 10.
Rows: popularity, EASE (λ on validation), implicit's ALS (tuned on validation), our MF, our
EASE+MF blend, our fusion (float ONNX), our fusion (int8 ONNX). Hyperparameters of every row
are chosen on a validation split carved from the training part; the test part is only scored.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from engine.cf import ease_fit, popularity
from engine.data import DataError, load_interactions, stratified_split, train_test_split
from engine.features import load_item_features, load_user_features
from engine.metrics import ranking_metrics, topk_from_scores
from engine.mf import confidence, fit_mf

__all__ = ["run_bench"]

K = 10


def _find(data_dir: Path, names: tuple[str, ...]) -> Path | None:
    for n in names:
        if (data_dir / n).is_file():
            return data_dir / n
    return None


def _latency(fn, users, repeat: int = 1) -> dict:
    """Wall-clock and thread-CPU milliseconds per call (p50/p99). On a shared machine the
    wall-clock tail includes time other processes hold the CPU; CPU time does not."""
    lat, cpu = [], []
    for _ in range(repeat):
        for u in users:
            c = time.thread_time()
            t = time.perf_counter()
            fn(u)
            lat.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
    return {
        "p50_ms": round(float(np.percentile(lat, 50) * 1e3), 3),
        "p99_ms": round(float(np.percentile(lat, 99) * 1e3), 3),
        "cpu_p50_ms": round(float(np.percentile(cpu, 50) * 1e3), 3),
        "cpu_p99_ms": round(float(np.percentile(cpu, 99) * 1e3), 3),
    }


def _metrics(topk, truth, users):
    m = ranking_metrics(topk, truth, users, K)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()}


def run_bench(data_dir: str | Path, json_out: str | None = None, time_budget=None) -> dict:
    """Run the benchmark, print a table, optionally write JSON. Returns the results dict."""
    from engine.pipeline import TrainConfig, train_bundle
    from engine.recommender import Recommender

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"--data {data_dir} is not a directory; pass e.g. shared/datasets/ml-100k")
    ratings = _find(data_dir, ("u.data", "ratings.csv", "ratings.dat"))
    if ratings is None:
        raise DataError(f"{data_dir} has no u.data or ratings.csv")
    data = load_interactions(ratings)
    item_path = _find(data_dir, ("u.item", "movies.csv"))
    user_path = _find(data_dir, ("u.user",))
    item_f = load_item_features(item_path) if item_path else None
    user_f = load_user_features(user_path) if user_path else None
    train, test = train_test_split(data)
    x = train.csr(binary=True)
    truth = test.csr(binary=True)
    users = np.unique(test.users).astype(np.int64)
    seen = x[users]
    print(
        f"{ratings}: {len(train)} train / {len(test)} test rows, {len(users)} test users",
        file=sys.stderr,
    )
    # validation split inside train (for the baselines' hyperparameters)
    vmask = stratified_split(train.items, ratio=0.75, seed=42)
    inner, val = train.subset(vmask), train.subset(~vmask)
    xi, vt = inner.csr(binary=True), val.csr(binary=True)
    vusers = np.unique(val.users).astype(np.int64)
    vseen = xi[vusers]

    def masked(scores, seen_m):
        s = np.array(scores, dtype=np.float32, copy=True)
        r, c = seen_m.nonzero()
        s[r, c] = -np.inf
        return s

    rows: dict[str, dict] = {}

    # ---- popularity
    t = time.time()
    pop = popularity(x)
    pop_s = time.time() - t
    top = topk_from_scores(masked(np.tile(pop, (len(users), 1)), seen), K)

    def pop_rec(u):
        s = pop.copy()
        s[x.indices[x.indptr[u] : x.indptr[u + 1]]] = -np.inf
        return np.argpartition(-s, K)[:K]

    rows["popularity"] = {**_metrics(top, truth, users), "train_s": round(pop_s, 3),
                          "bundle_bytes": int(pop.nbytes)}  # fmt: skip
    rows["popularity"].update(_latency(pop_rec, users))

    # ---- EASE, λ on validation
    t = time.time()
    lams = (100.0, 200.0, 350.0, 500.0, 800.0, 1200.0)
    best = max(
        lams,
        key=lambda lam: ranking_metrics(
            topk_from_scores(masked(vseen @ ease_fit(xi, lam), vseen), K), vt, vusers, K
        )[f"ndcg@{K}"],
    )
    b = ease_fit(x, best)
    ease_s = time.time() - t
    top = topk_from_scores(masked(seen @ b, seen), K)

    def ease_rec(u):
        items = x.indices[x.indptr[u] : x.indptr[u + 1]]
        s = b[items].sum(axis=0)
        s[items] = -np.inf
        p = np.argpartition(-s, K)[:K]
        return p[np.argsort(-s[p])]

    rows["ease"] = {**_metrics(top, truth, users), "train_s": round(ease_s, 2),
                    "bundle_bytes": int(b.nbytes), "lambda": best}  # fmt: skip
    rows["ease"].update(_latency(ease_rec, users))

    # ---- implicit's ALS, tuned on validation (binary input, confidence 1 + alpha)
    from implicit.cpu.als import AlternatingLeastSquares

    def implicit_als(m, factors, reg, alpha, iters=15):
        model = AlternatingLeastSquares(
            factors=factors, regularization=reg, alpha=alpha, iterations=iters, random_state=42
        )
        model.fit(m, show_progress=False)
        return model

    t = time.time()
    grid = [(f, r, a) for f in (32, 64) for r in (1.0, 5.0, 10.0, 20.0, 35.0) for a in (1, 2, 3)]
    rng = np.random.default_rng(0)
    rng.shuffle(grid)
    trials = []
    for f, r, a in grid[:12]:
        m = implicit_als(xi, f, r, a)
        s = masked(m.user_factors[vusers] @ m.item_factors.T, vseen)
        trials.append(
            (ranking_metrics(topk_from_scores(s, K), vt, vusers, K)[f"ndcg@{K}"], f, r, a)
        )
    _, f, r, a = max(trials)
    m = implicit_als(x, f, r, a)
    als_s = time.time() - t
    uf, itf = m.user_factors, m.item_factors
    top = topk_from_scores(masked(uf[users] @ itf.T, seen), K)

    def als_rec(u):
        s = itf @ uf[u]
        s[x.indices[x.indptr[u] : x.indptr[u + 1]]] = -np.inf
        p = np.argpartition(-s, K)[:K]
        return p[np.argsort(-s[p])]

    rows["implicit_als"] = {**_metrics(top, truth, users), "train_s": round(als_s, 2),
                            "bundle_bytes": int(uf.nbytes + itf.nbytes),
                            "params": {"factors": f, "regularization": r, "alpha": a}}  # fmt: skip
    rows["implicit_als"].update(_latency(als_rec, users))

    # ---- our pipeline
    cfg = TrainConfig()
    if time_budget:
        cfg.time_budget_s = float(time_budget)
    with tempfile.TemporaryDirectory(prefix="m6rec-bench-") as tmp:
        out = os.path.join(tmp, "bundle")
        t = time.time()
        manifest = train_bundle(train, out, item_features=item_f, user_features=user_f, config=cfg)
        ours_s = time.time() - t
        timings = manifest["timings_s"]
        files = manifest["files"]
        ext_users = [str(data.user_ids[u]) for u in users]
        for name in ("mf", "blend", "fusion_float", "fusion_int8"):
            if name.startswith("fusion") and f"{name}.onnx" not in files:
                continue
            rec = Recommender.load(out, model=name)
            iidx = rec._iidx
            tops = []
            for uid in ext_users:
                res = rec.recommend(uid, K)
                tops.append([iidx[i] for i, _ in res] + [-1] * (K - len(res)))
            row = _metrics(np.array(tops), truth, users)
            row["train_s"] = round(ours_s if name != "mf" else timings.get("tune_mf", 0), 2)
            row["bundle_bytes"] = int(manifest["bundle_bytes"])
            if name.startswith("fusion"):
                row["model_bytes"] = int(files[f"{name}.onnx"]["bytes"])
            row.update(_latency(lambda uid, rec=rec: rec.recommend(uid, K), ext_users))
            rows[f"ours_{name}"] = row
        served = manifest["served_model"]

    # ---- MF stage vs implicit at equal factors / iterations (side by side, median of 3)
    hp = manifest["hyperparameters"]["mf"]
    w = train.csr()
    ours_t, imp_t = [], []
    for _ in range(3):
        t = time.time()
        fit_mf(confidence(w, hp["alpha"], hp["transform"]), factors=hp["factors"],
               regularization=hp["regularization"], iterations=hp["iterations"])  # fmt: skip
        ours_t.append(time.time() - t)
        t = time.time()
        implicit_als(x, hp["factors"], hp["regularization"], 1.0, hp["iterations"])
        imp_t.append(time.time() - t)
    mf_timing = {
        "factors": hp["factors"],
        "iterations": hp["iterations"],
        "ours_s": round(float(np.median(ours_t)), 3),
        "implicit_s": round(float(np.median(imp_t)), 3),
    }
    mf_timing["ratio"] = round(mf_timing["ours_s"] / max(mf_timing["implicit_s"], 1e-9), 3)
    ours_rows = [k for k in rows if k.startswith("ours_fusion")]
    fz = manifest["fusion"]
    result = {
        "dataset": str(ratings),
        "load_average_at_end": list(os.getloadavg()),
        "cpus": os.cpu_count(),
        "protocol": "MS Recommenders per-item stratified 75/25, seed 42, k=10",
        "split": {"train": len(train), "test": len(test), "test_users": int(len(users))},
        "rows": rows,
        "served_model": served,
        "pipeline_train_s": round(ours_s, 2),
        "pipeline_timings_s": timings,
        "validation": manifest["metrics"]["validation"],
        "fusion": {k: v for k, v in fz.items() if k != "history"},
        "mf_stage_timing": mf_timing,
    }
    _print_table(result, ours_rows)
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(result, indent=2))
        print(f"wrote {json_out}", file=sys.stderr)
    return result


def _print_table(result: dict, _ours) -> None:
    cols = ["ndcg@10", "precision@10", "recall@10", "map@10", "train_s", "bundle_bytes",
            "p50_ms", "p99_ms", "cpu_p99_ms"]  # fmt: skip
    head = f"{'model':<20}" + "".join(f"{c:>14}" for c in cols)
    print(head)
    print("-" * len(head))
    for name, row in result["rows"].items():
        cells = []
        for c in cols:
            v = row.get(c)
            cells.append(f"{v:>14.4f}" if isinstance(v, float) else f"{v!s:>14}")
        print(f"{name:<20}" + "".join(cells))
    mt = result["mf_stage_timing"]
    print(
        f"served by the gate: {result['served_model']}; "
        f"pipeline train {result['pipeline_train_s']}s;"
        f" MF stage {mt['ours_s']}s vs implicit {mt['implicit_s']}s (x{mt['ratio']}) at "
        f"{mt['factors']} factors / {mt['iterations']} iterations"
    )
    fz = result.get("fusion", {})
    if fz.get("sizes"):
        print(f"fusion ONNX sizes: {fz['sizes']}; int8/float = {fz['int8_vs_float_size']}, "
              f"int8/pruned-float = {fz['int8_vs_pruned_float_size']}")  # fmt: skip
