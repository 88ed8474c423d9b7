"""Command line: python -m engine {train,recommend,bench}.

Train a checksummed bundle from an interactions file, recommend from a bundle, or run the
side-by-side benchmark on the MS Recommenders protocol. Third-party start-up noise
(TensorFlow, absl, CUDA probing, tf2onnx, onnxruntime quantization) is silenced unless
--verbose or M6REC_VERBOSE=1.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

from engine.helpfmt import ExamplesHelpFormatter, examples

__all__ = ["main"]


def _quiet_env(*, verbose: bool | None = None) -> None:
    from engine.quiet import quiet_third_party

    quiet_third_party(verbose=verbose)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OMP_NUM_THREADS", str(min(os.cpu_count() or 1, 4)))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _progress_bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=100, desc=desc, unit="%", file=sys.stderr, leave=True,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")  # fmt: skip
    state = {"stage": None, "order": []}

    def cb(stage: str, frac: float) -> None:
        if stage not in state["order"]:
            state["order"].append(stage)
        bar.set_description_str(f"{desc} [{stage}]")
        weights = {"split": 0, "tune:itemcf": 5, "tune:mf": 15, "fusion:features": 35,
                   "fusion": 45, "compression": 80, "refit": 88, "bundle": 95}  # fmt: skip
        base = weights.get(stage, bar.n)
        nxt = min([w for w in weights.values() if w > base] or [100])
        target = int(base + (nxt - base) * frac)
        if target > bar.n:
            bar.update(target - bar.n)

    return bar, cb


def cmd_train(args) -> int:
    from engine.deps import require_training_stack

    require_training_stack("python -m engine train")
    from engine.data import load_interactions
    from engine.features import load_item_features
    from engine.pipeline import TrainConfig, train_bundle

    t0 = time.time()
    data = load_interactions(args.interactions)
    items = load_item_features(args.items) if args.items else None
    cfg = TrainConfig()
    if args.time_budget is not None:
        if args.time_budget <= 0:
            raise ValueError("--time-budget must be a positive number of seconds")
        cfg.time_budget_s = float(args.time_budget)
    cfg.feedback = args.feedback
    print(
        f"loaded {len(data)} interactions: {data.n_users} users x {data.n_items} items",
        file=sys.stderr,
    )
    bar, cb = _progress_bar("train")
    try:
        manifest = train_bundle(data, args.out, item_features=items, config=cfg, progress=cb)
    finally:
        bar.close()
    val = manifest["metrics"]["validation"]
    print(
        json.dumps(
            {
                "bundle": str(args.out),
                "served_model": manifest["served_model"],
                "validation_ndcg@10": val.get("ndcg@10"),
                "bundle_bytes": manifest["bundle_bytes"],
                "seconds": round(time.time() - t0, 1),
            }
        )
    )
    return 0


def _read_users(path: str) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"users file {p} does not exist; one user id per line")
    lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"users file {p} is empty; put one user id per line")
    if "," in lines[0] or lines[0].lower() in ("user_id", "userid", "user"):
        rows = list(csv.reader(lines))
        header = [h.strip().lower() for h in rows[0]]
        for name in ("user_id", "userid", "user"):
            if name in header:
                col = header.index(name)
                return [r[col].strip() for r in rows[1:] if len(r) > col and r[col].strip()]
        raise ValueError(f"users file {p}: CSV without a user_id column")
    return lines


def cmd_recommend(args) -> int:
    from engine.recommender import Recommender

    if args.k <= 0:
        raise ValueError("--k must be a positive integer")
    rec = Recommender.load(args.bundle)
    out = sys.stdout
    for uid in _read_users(args.users):
        items = rec.recommend(uid, k=args.k)
        out.write(
            json.dumps(
                {
                    "user_id": uid,
                    "items": [i for i, _ in items],
                    "scores": [round(s, 6) for _, s in items],
                    "strategy": rec.strategy_for(uid),
                }
            )
            + "\n"
        )
    return 0


def cmd_bench(args) -> int:
    from engine.bench import run_benches

    config = json.loads(args.config_json) if args.config_json else None
    if config is not None and not isinstance(config, dict):
        raise ValueError("--config-json must be a JSON object of TrainConfig fields")
    run_benches(
        args.data, tuple(args.seeds), json_out=args.json, time_budget=args.time_budget,
        config=config,
    )  # fmt: skip
    return 0


TRAIN_EXAMPLES = (
    "python -m engine train --interactions ratings.csv --items movies.csv --out bundle/",
    "python -m engine train --interactions u.data --out bundle/ --time-budget 600",
    "python -m engine train --interactions ratings.csv --out bundle/ --feedback explicit",
    "python -m engine train --verbose --interactions u.data --out bundle/",
)
RECOMMEND_EXAMPLES = (
    "python -m engine recommend --bundle bundle/ --users users.txt --k 10 > recs.jsonl",
)
BENCH_EXAMPLES = (
    "python -m engine bench --data ../shared/datasets/ml-100k --seeds 42",
    "python -m engine bench --data ../shared/datasets/ml-100k ../shared/datasets/ml-latest-small"
    " --json bench.json",
)
VERBOSE_HELP = (
    "keep TensorFlow, absl, CUDA, tf2onnx and onnxruntime log output (same as M6REC_VERBOSE=1)"
)


def build_parser() -> argparse.ArgumentParser:
    doc = __doc__.split("\n\n")
    p = argparse.ArgumentParser(
        prog="python -m engine",
        description="\n\n".join(doc[:2]),
        epilog=examples(*TRAIN_EXAMPLES, *RECOMMEND_EXAMPLES, *BENCH_EXAMPLES),
        formatter_class=ExamplesHelpFormatter,
    )
    p.add_argument("--verbose", action="store_true", default=None, help=VERBOSE_HELP)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str, description: str, lines) -> argparse.ArgumentParser:
        parser = sub.add_parser(
            name,
            help=help,
            description=description,
            epilog=examples(*lines),
            formatter_class=ExamplesHelpFormatter,
        )
        parser.add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
        )
        return parser  # fmt: skip

    t = add("train", "train a bundle from interactions",
            "Train a model bundle (MF, item-item CF, fusion reranker, int8 ONNX) from an "
            "interactions file; prints a JSON summary on stdout, progress on stderr.",
            TRAIN_EXAMPLES)  # fmt: skip
    t.add_argument("--interactions", required=True, metavar="FILE",
                   help="CSV user_id,item_id,value,timestamp (or MovieLens u.data / "
                   "ratings.csv)")  # fmt: skip
    t.add_argument("--out", required=True, metavar="DIR", help="bundle directory to write")
    t.add_argument("--items", metavar="FILE",
                   help="item features: MovieLens u.item or movies.csv (optional)")  # fmt: skip
    t.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                   help="safety stop in seconds (default 3600): past it, optional work "
                   "(trials, re-splits, epochs) is skipped and the manifest says so")  # fmt: skip
    t.add_argument("--feedback", choices=("implicit", "explicit"), default="implicit",
                   help="fusion loss: listwise ranking for implicit data (default), or MSE "
                   "on the raw values (e.g. 1-5 stars) for explicit ratings")  # fmt: skip
    t.set_defaults(func=cmd_train)
    r = add("recommend", "top-K for users from a bundle (JSON lines)",
            "Top-K recommendations for each user of a file, one JSON object per line on "
            "stdout: user_id, items, scores, strategy (model or popularity).",
            RECOMMEND_EXAMPLES)  # fmt: skip
    r.add_argument("--bundle", required=True, metavar="DIR",
                   help="bundle directory written by train (checksums are verified)")  # fmt: skip
    r.add_argument("--users", required=True, metavar="FILE",
                   help="one user id per line, or CSV with a user_id column")  # fmt: skip
    r.add_argument("--k", type=int, default=10,
                   help="how many items per user (default 10)")  # fmt: skip
    r.set_defaults(func=cmd_recommend)
    b = add("bench", "side-by-side benchmark on the MS Recommenders protocol",
            "Popularity, EASE, RP3beta, implicit ALS, MF, fusion (float and int8) and the "
            "served model on the MS Recommenders MovieLens protocol, per dataset and seed. "
            "Slow: not part of the tests.",
            BENCH_EXAMPLES)  # fmt: skip
    b.add_argument("--data", required=True, nargs="+", metavar="DIR",
                   help="dataset folders (MovieLens u.data / ratings.csv layout, e.g. ml-100k "
                   "ml-latest-small)")  # fmt: skip
    b.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 13], metavar="SEED",
                   help="split seeds, one full run each (default 42 7 13)")  # fmt: skip
    b.add_argument("--json", metavar="FILE", help="write the results as JSON here")
    b.add_argument(
        "--config-json",
        metavar="JSON",
        help="TrainConfig overrides for our pipeline, e.g. '{\"fusion_folds\": 6}'",
    )
    b.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                   help="pipeline safety stop in seconds (default 3600)")  # fmt: skip
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_env(verbose=args.verbose)
    from engine.bundle import BundleError
    from engine.data import DataError

    try:
        return int(args.func(args) or 0)
    except (DataError, BundleError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
