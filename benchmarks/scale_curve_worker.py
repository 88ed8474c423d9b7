"""The scale curve's child process (scale_curve.py --worker): one point generated, prepared,
trained, loaded and served, with its timings and its peak memory by stage, written as JSON for
the parent (nothing is pickled).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

import numpy as np
from harness import write_json
from scale_curve_data import generate


def train_config(config_json: str | None):
    """TrainConfig from a JSON object of its fields (lists become tuples); unknown keys fail."""
    from engine.pipeline import TrainConfig

    overrides = json.loads(config_json) if config_json else {}
    if not isinstance(overrides, dict):
        raise SystemExit("--config-json must be a JSON object of TrainConfig fields")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise SystemExit(
            f"--config-json: unknown TrainConfig field(s) {unknown}; known: {sorted(known)}"
        )
    return TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})


def jsonable(x):
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def _maxrss_gib() -> float:
    """This process's peak RSS so far (ru_maxrss is KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def _item_item_arrays(files: dict) -> str:
    """What item-item signal the bundle's arrays hold (independent of the manifest field)."""
    if "item_nbr_indptr.npy" in files:
        return "sparse item_nbr"
    if "ease.npy" in files:
        return "dense ease"
    return "none"


class _Progress:
    """The engine's progress callback drawn as a tqdm bar on stderr (stage: fraction).

    ``rss_gib[stage]``: this process's peak RSS when the engine moved on from ``stage``
    (peaks only grow, so the first stage whose value jumps is where the memory went; the
    attribution is as fine as the engine's progress reports).
    """

    def __init__(self, label: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=100,
            desc=label,
            file=sys.stderr,
            mininterval=1.0,
            leave=True,
            bar_format="{desc} {percentage:3.0f}%|{bar:20}| {elapsed}",
        )
        self.label = label
        self.stage = ""
        self.rss_gib: dict[str, float] = {}

    def __call__(self, stage: str, frac: float) -> None:
        if stage != self.stage:
            if self.stage:
                self.rss_gib[self.stage] = _maxrss_gib()
            self.stage = stage
            self.bar.set_description_str(f"{self.label} {stage}", refresh=False)
        self.bar.n = int(round(100 * frac))
        self.bar.refresh()

    def close(self) -> None:
        if self.stage:
            self.rss_gib[self.stage] = _maxrss_gib()
        self.bar.close()


# ---------------------------------------------------------------------- child: one point
def run_worker(args: argparse.Namespace) -> int:
    """Generate, prepare, train, load and serve one point; write the result to
    ``args.result_file``. Exit status 0 ok, 3 MemoryError, 1 any other failure; on SIGTERM
    (the parent's timeout) what is known so far is written, with the stage it was in."""
    result: dict = {"status": "running", "rss_gib": {}}
    out_dir = Path(args.out_dir)
    bar: _Progress | None = None

    def dump() -> None:
        if bar is not None:
            result["rss_gib_by_stage"] = bar.rss_gib
            result["last_stage"] = bar.stage
        write_json(Path(args.result_file), jsonable(result), indent=1)

    def on_term(signum, frame) -> None:  # runs between bytecodes: a long C call delays it
        result["status"] = "timeout"
        result["rss_gib"]["killed"] = _maxrss_gib()
        dump()
        os._exit(124)

    signal.signal(signal.SIGTERM, on_term)

    label = f"[{args.interactions:,}:{args.items:,}]"

    def log(msg: str) -> None:
        print(f"{label} {msg}", file=sys.stderr, flush=True)

    try:
        if not args.generate_only:
            from engine.data import InteractionData
            from engine.pipeline import train_bundle
            from engine.recommender import Recommender

            cfg = train_config(args.config_json)
        result["rss_gib"]["imports"] = _maxrss_gib()

        t = time.perf_counter()
        syn = generate(args.interactions, args.items, args.users, seed=args.seed, zipf=args.zipf)
        result["gen_s"] = round(time.perf_counter() - t, 3)
        result["generator"] = syn.info
        result["rss_gib"]["generated"] = _maxrss_gib()
        log(f"generated {syn.info['interactions']:,} rows in {result['gen_s']:.1f} s")
        if args.generate_only:
            result["status"] = "ok"
            dump()
            return 0

        t = time.perf_counter()
        data = InteractionData.from_arrays(syn.users, syn.items, syn.weights, syn.timestamps)
        result["prepare_s"] = round(time.perf_counter() - t, 3)
        del syn
        result["data"] = data.counts()
        result["rss_gib"]["prepared"] = _maxrss_gib()
        log(f"from_arrays in {result['prepare_s']:.1f} s: {result['data']}")
        sample_rng = np.random.default_rng(args.seed + 1)
        n_pick = min(data.n_users, args.rec_users + 20)
        picked = data.user_ids[sample_rng.choice(data.n_users, n_pick, replace=False)].tolist()

        bar = _Progress(label)
        t, cpu = time.perf_counter(), _cpu_s()
        try:
            manifest = train_bundle(data, out_dir, config=cfg, progress=bar)
        finally:
            bar.close()
        result["train_s"] = round(time.perf_counter() - t, 3)
        result["train_cpu_s"] = round(_cpu_s() - cpu, 3)
        result["rss_gib"]["trained"] = _maxrss_gib()
        del data
        files = manifest.get("files") or {}
        by_model = manifest.get("metrics", {}).get("validation", {}).get("by_model", {})
        result.update(
            {
                "timings_s": manifest.get("timings_s"),
                "bundle_bytes": manifest.get("bundle_bytes")
                or sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file()),
                "served_model": manifest.get("served_model"),
                "item_item": manifest.get("item_item"),
                "item_item_arrays": _item_item_arrays(files),
                "ann": manifest.get("ann"),
                "budget": manifest.get("budget"),
                "manifest_data": manifest.get("data"),
                "hyperparameters": {
                    "ease_lambda": manifest.get("hyperparameters", {}).get("ease_lambda"),
                    "mf": manifest.get("hyperparameters", {}).get("mf"),
                },
                "validation_ndcg@10": {m: v.get("ndcg@10") for m, v in by_model.items()},
                "largest_files_mb": {
                    name: round(e["bytes"] / 1e6, 2)
                    for name, e in sorted(files.items(), key=lambda kv: -kv[1]["bytes"])[:5]
                },
            }
        )
        log(f"trained in {result['train_s']:.1f} s, served {result['served_model']}")

        t = time.perf_counter()
        rec = Recommender.load(out_dir)
        result["load_s"] = round(time.perf_counter() - t, 3)
        users = [u for u in picked if rec.knows_user(u)]
        warm, timed = users[:20], users[20:]
        for u in warm:
            rec.recommend(u, k=10)
        wall, cpu_ms = [], []
        for u in timed:
            t, c = time.perf_counter(), time.thread_time()
            rec.recommend(u, k=10)
            cpu_ms.append((time.thread_time() - c) * 1e3)
            wall.append((time.perf_counter() - t) * 1e3)
        result["recommend"] = {
            "users": len(timed),
            "uses_ann": bool(getattr(rec, "uses_ann", False)),
            "wall_ms": {"p50": _pct(wall, 50), "p99": _pct(wall, 99), "max": _pct(wall, 100)},
            "thread_cpu_ms": {"p50": _pct(cpu_ms, 50), "p99": _pct(cpu_ms, 99)},
        }
        result["rss_gib"]["served"] = _maxrss_gib()
        result["status"] = "ok"
        dump()
        return 0
    except MemoryError:
        result.update(status="oom", error="MemoryError", traceback=traceback.format_exc()[-3000:])
        result["rss_gib"]["failed"] = _maxrss_gib()
        dump()
        return 3
    except Exception as exc:  # recorded for the parent
        result.update(
            status="error",
            error=f"{type(exc).__name__}: {exc}"[:2000],
            traceback=traceback.format_exc()[-3000:],
        )
        result["rss_gib"]["failed"] = _maxrss_gib()
        dump()
        traceback.print_exc()
        return 1
