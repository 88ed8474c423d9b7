"""Scale curve of the engine: training cost as a tenant grows (interactions, items, users).

    python benchmarks/scale_curve.py                         # 1M:10k, 5M:100k, 20M:1M
    python benchmarks/scale_curve.py --points 100k:2k,300k:20k --config-json '{"use_fusion": false}'
    python benchmarks/scale_curve.py --config-json '{"mf_factors": [64], "fusion_folds": 2}' \\
        --timeout-s 7200 --stop-after-failure
    python benchmarks/scale_curve.py --generate-only --points 20M:1M   # the generator alone

What it measures, per point ``interactions:items`` (users = interactions / 50 unless
``--users-per-point`` or ``--interactions-per-user`` say otherwise):

* a synthetic implicit-feedback data set (generator below: Zipf-like item popularity, planted
  user tastes, distinct (user, item) pairs, timestamps over one year, weights 1.0), built in a
  fresh child process (``--worker``; parameters on the command line, results back as a JSON
  file: nothing is pickled), so that each point's memory is measured on its own;
* ``InteractionData.from_arrays`` (ids are passed as int32 arrays, the engine turns them into
  strings), then ``engine.pipeline.train_bundle`` with ``TrainConfig(**--config-json)``: wall
  and CPU seconds, the stage timings of the manifest (``timings_s``), bundle size, served model,
  the bundle's item-item signal (``manifest["item_item"]`` when the engine writes it; also what
  the bundle's arrays show: dense ``ease`` or sparse ``item_nbr_*``), validation nDCG@10 of
  every candidate model (a sanity check that the planted tastes are learnable);
* ``Recommender.load`` of the bundle and ``recommend(user, k=10)`` for ``--rec-users`` (300)
  random trained users after 20 warm-up calls, in the child: p50/p99 of wall clock and of
  ``time.thread_time()`` (CPU of the calling thread only: work done in other threads, e.g.
  onnxruntime's, is not in it);
* peak RSS of the child from ``os.wait4`` (the kernel's ru_maxrss, also for a child that was
  killed), and the child's own running maximum after imports, generation, ``from_arrays``,
  training and serving (``rss_gib``) and when the engine moved on from each stage
  (``rss_gib_by_stage``: a stage's value includes the work before the engine's next progress
  report, e.g. ``split`` includes the first item-item fit), so the peak can be attributed.

A child that runs past ``--timeout-s`` is killed (its process group) and recorded as
``timeout``; a ``MemoryError`` or a SIGKILL (the OOM killer; confirmed when the cgroup's
``memory.events`` ``oom_kill`` counter moved) as ``oom``; any other failure as ``error`` with
the traceback's last lines (a child stopped for time first writes what it has, with
``last_stage``). The curve then goes on, or with ``--stop-after-failure`` the larger
points are recorded as ``skipped``. Progress (stage and fraction, from the engine's progress
callback) goes to stderr; the table to stdout; JSON (default
``bench-results/scale_curve.json``, rewritten after every point) holds everything, with the git
commit, whether engine/ had uncommitted changes, the host and the effective TrainConfig.

Reading the result: ``train s`` is ``train_bundle`` alone (generation and ``from_arrays`` are
``gen_s`` / ``prepare_s`` in the JSON); the stage timings say which stage grows fastest; a peak
RSS near the machine's memory means the next size up will not fit. ``item-item`` is
``manifest["item_item"]["kind"]``, or in brackets what the bundle's arrays hold when the
manifest does not say. ``served`` falling back to ``mf``/``popularity`` at a large point, or
nDCG@10 of MF near popularity, means the safety stop (``time_budget_s``; ``budget`` in the JSON
when the manifest records it) or the data, not the engine's quality, decided it. Numbers on a
shared VM drift by tens of percent: compare slopes between points, not single values.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_POINTS = "1M:10k,5M:100k,20M:1M"
DEFAULT_OUT = REPO / "bench-results" / "scale_curve.json"
YEAR_S = 365 * 86_400
T0 = 1_704_067_200  # 2024-01-01T00:00:00Z
_CHUNK = 1 << 22  # rows per vectorised draw (bounds the generator's temporaries)


# ---------------------------------------------------------------------- synthetic data
@dataclasses.dataclass
class Synthetic:
    """Generated rows: (n,) int32 user and item indices, float32 weights, int64 timestamps."""

    users: np.ndarray
    items: np.ndarray
    weights: np.ndarray
    timestamps: np.ndarray
    info: dict


def generate(
    n_interactions: int,
    n_items: int,
    n_users: int,
    *,
    seed: int = 42,
    zipf: float = 1.0,
    p_home: float = 0.45,
    p_second: float = 0.20,
    activity_sigma: float = 1.0,
    min_per_user: int = 3,
    max_rounds: int = 12,
) -> Synthetic:
    """Implicit feedback with planted tastes; deterministic for a seed, vectorised numpy.

    Items: popularity ``(rank + 1) ** -zipf`` (rank a random permutation of the ids) and a
    latent cluster each (``clip(n_items / 500, 8, 512)`` clusters, sizes equal within one).
    Users: a home and a second cluster, and an activity (lognormal, ``activity_sigma``) scaled
    to ``n_interactions`` in total, at least ``min_per_user`` and at most ``n_items / 5`` each.
    A user's item is drawn from the mixture ``p_home`` × (home cluster ∝ popularity) +
    ``p_second`` × (second cluster ∝ popularity) + rest × (all items ∝ popularity), i.e.
    P(i | u) ∝ popularity_i · exp(affinity(u, cluster_i)) with affinity = log(1 + p_c · M /
    (p_rest · M_c)) for the user's two clusters (M: popularity mass) and 0 elsewhere.
    Pairs are distinct: duplicates are dropped and the users short of their count draw again
    (``max_rounds`` rounds; what is still missing then is reported in ``info["shortfall"]``).
    Timestamps are uniform over 2024 (rows returned in time order, as a store would list
    them); weights are 1.0.

    Memory: about 40 bytes per interaction at the peak (int64 pair keys and their sort), plus
    ``_CHUNK``-row temporaries for the draws.
    """
    if not 0 < n_items < 2**31 or not 0 < n_users < 2**31:
        raise ValueError("n_items and n_users must be in 1 .. 2**31 - 1")
    rng = np.random.default_rng(seed)
    n_clusters = int(min(max(n_items // 500, 8), 512, max(n_items // 2, 1)))

    # items: Zipf-like popularity and a cluster each, laid out by cluster for inverse-CDF draws
    rank = rng.permutation(n_items)
    pop = (rank + 1.0) ** -zipf
    cluster = rng.permutation(np.arange(n_items) % n_clusters).astype(np.int32)
    order = np.argsort(cluster, kind="stable").astype(np.int32)
    cum = np.cumsum(pop[order])
    cum0 = np.concatenate([[0.0], cum])
    bounds = np.searchsorted(cluster[order], np.arange(n_clusters + 1))
    mass_before = cum0[bounds[:-1]]
    mass = cum0[bounds[1:]] - mass_before
    del rank, pop, cluster

    # users: two favourite clusters and an activity level
    home = rng.integers(0, n_clusters, n_users, dtype=np.int32)
    second = ((home + rng.integers(1, n_clusters, n_users)) % n_clusters).astype(np.int32)
    cap = max(min_per_user, n_items // 5)
    act = rng.lognormal(0.0, activity_sigma, n_users)
    # water-filling: min_per_user + scale · activity, capped, summing to n_interactions
    lo_s, hi_s = 0.0, float(n_interactions) / act.min()
    for _ in range(60):
        mid = 0.5 * (lo_s + hi_s)
        if np.minimum(min_per_user + mid * act, cap).sum() > n_interactions:
            hi_s = mid
        else:
            lo_s = mid
    target = np.floor(np.minimum(min_per_user + lo_s * act, cap)).astype(np.int64)
    free = np.flatnonzero(target < cap)
    short = min(n_interactions - int(target.sum()), len(free))
    if short > 0:  # the floors' remainder: one more row for that many random users
        target[rng.choice(free, short, replace=False)] += 1
    del act

    def draw(row_users: np.ndarray) -> np.ndarray:
        out = np.empty(len(row_users), dtype=np.int32)
        total = cum[-1]
        for s in range(0, len(row_users), _CHUNK):
            u = row_users[s : s + _CHUNK]
            r = rng.random(len(u))
            c = np.where(r < p_home, home[u], second[u])
            anywhere = r >= p_home + p_second
            lo, span = mass_before[c], mass[c]
            first, last = bounds[c], bounds[c + 1] - 1
            lo[anywhere], span[anywhere] = 0.0, total
            first[anywhere], last[anywhere] = 0, n_items - 1
            idx = np.searchsorted(cum, lo + rng.random(len(u)) * span, side="right")
            np.clip(idx, first, last, out=idx)  # float rounding at a cluster's edge
            out[s : s + len(u)] = order[idx]
        return out

    user_range = np.arange(n_users, dtype=np.int32)
    rows = np.repeat(user_range, target)
    keys = rows.astype(np.int64) * n_items + draw(rows)
    del rows
    keys.sort()  # np.sort + mask: numpy 2.3's hash-based np.unique is ~10x slower here
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    missing = []  # rows still missing before each top-up round
    for rounds in range(1, max_rounds + 1):
        deficit = target - np.bincount(keys // n_items, minlength=n_users)
        missing.append(int(deficit.sum()))
        if not missing[-1]:
            break
        who = np.flatnonzero(deficit)
        extra_u = np.repeat(user_range[who], deficit[who] * 2 ** min(rounds, 5) + 2)
        extra = extra_u.astype(np.int64) * n_items + draw(extra_u)
        del extra_u
        pos = np.minimum(np.searchsorted(keys, extra), len(keys) - 1)
        extra = extra[keys[pos] != extra]  # not held yet
        _, first = np.unique(extra, return_index=True)
        extra = extra[np.sort(first)]  # distinct, in draw order (grouped by user)
        eu = extra // n_items
        rank_in_user = np.arange(len(extra)) - np.searchsorted(eu, eu, side="left")
        extra = np.sort(extra[rank_in_user < deficit[eu]])
        keys = np.sort(np.concatenate([keys, extra]), kind="stable")  # merges two sorted runs
        del extra, eu, rank_in_user, pos, first
    n = len(keys)
    ts = rng.integers(T0, T0 + YEAR_S, n, dtype=np.int64)
    by_time = np.argsort(ts, kind="stable")
    users = (keys // n_items).astype(np.int32)[by_time]
    items = (keys % n_items).astype(np.int32)[by_time]
    del keys
    ts = ts[by_time]
    del by_time
    info = {
        "seed": seed,
        "zipf": zipf,
        "clusters": n_clusters,
        "p_home": p_home,
        "p_second": p_second,
        "requested_interactions": int(n_interactions),
        "interactions": int(n),
        "shortfall": int(target.sum()) - n,
        "capped_users": int((target == cap).sum()),
        "missing_before_round": missing,
        "users_requested": int(n_users),
        "items_requested": int(n_items),
        "items_with_interactions": int(np.count_nonzero(np.bincount(items, minlength=n_items))),
        "max_per_user": int(target.max()),
    }
    return Synthetic(users, items, np.ones(n, dtype=np.float32), ts, info)


# ---------------------------------------------------------------------- helpers
def parse_count(text: str) -> int:
    """'100k' -> 100000, '2.5M' -> 2500000, '1000' -> 1000."""
    t = text.strip().lower().replace("_", "")
    mult = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    value = float(t) * mult
    if value <= 0 or value != int(value):
        raise argparse.ArgumentTypeError(f"not a positive count: {text!r}")
    return int(value)


def parse_points(text: str) -> list[tuple[int, int]]:
    points = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            n, items = part.split(":")
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"point {part!r}: expected interactions:items, e.g. 1M:10k"
            ) from None
        points.append((parse_count(n), parse_count(items)))
    if not points:
        raise argparse.ArgumentTypeError("no points")
    return points


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


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
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


def _oom_kills() -> int | None:
    """The cgroup v2 ``oom_kill`` counter (None where it cannot be read)."""
    try:
        for line in Path("/sys/fs/cgroup/memory.events").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        pass
    return None


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
        Path(args.result_file).write_text(json.dumps(_jsonable(result), indent=1))

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


# ---------------------------------------------------------------------- parent: the curve
def _wait(proc: subprocess.Popen, timeout_s: float) -> tuple[int | None, float, float]:
    """Reap ``proc`` with ``os.wait4`` (its own rusage); kill its process group at the
    timeout. Returns (wait status or None when killed for time, elapsed s, peak RSS GiB)."""
    t0 = time.monotonic()
    killed_at = None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            rss = round(usage.ru_maxrss / 2**20, 3)
            return (None if killed_at else proc.returncode), time.monotonic() - t0, rss
        elapsed = time.monotonic() - t0
        if killed_at is None and elapsed > timeout_s:
            killed_at = time.monotonic()
            os.killpg(proc.pid, signal.SIGTERM)
        elif killed_at is not None and time.monotonic() - killed_at > 15:
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.2)


def run_point(args, index: int, n: int, items: int, users: int, work: Path) -> dict:
    out_dir = work / f"bundle-{index}"
    result_file = work / f"result-{index}.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--interactions",
        str(n),
        "--items",
        str(items),
        "--users",
        str(users),
        "--seed",
        str(args.seed),
        "--zipf",
        str(args.zipf),
        "--rec-users",
        str(args.rec_users),
        "--out-dir",
        str(out_dir),
        "--result-file",
        str(result_file),
    ]
    if args.config_json:
        cmd += ["--config-json", args.config_json]
    if args.generate_only:
        cmd.append("--generate-only")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    ooms = _oom_kills()
    # the child's stdout (TensorFlow, tf2onnx chatter) joins stderr: stdout is the table's
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=sys.stderr.fileno(), start_new_session=True
    )
    code, elapsed, rss = _wait(proc, args.timeout_s)
    row: dict = {"interactions": n, "items": items, "users": users}
    with contextlib.suppress(OSError, ValueError):  # a child killed before writing it
        row.update(json.loads(result_file.read_text()))
    row["elapsed_s"] = round(elapsed, 1)
    row["peak_rss_gib"] = rss
    row["exit_code"] = code
    if code is None:
        row["status"] = "timeout"
        row["error"] = f"killed after {args.timeout_s:g} s (--timeout-s)"
    elif code == -signal.SIGKILL:
        new_ooms = _oom_kills()
        confirmed = ooms is not None and new_ooms is not None and new_ooms > ooms
        row["status"] = "oom"
        row["error"] = "SIGKILL " + (
            "by the OOM killer (cgroup oom_kill moved)" if confirmed else "(likely the OOM killer)"
        )
    elif code != 0 and row.get("status") in (None, "running", "ok"):
        row["status"] = "error"
        row["error"] = f"exit code {code}"
    if not args.keep_bundles:
        shutil.rmtree(out_dir, ignore_errors=True)
    else:
        row["bundle_dir"] = str(out_dir)
    return row


def _fmt(x, spec: str = "", none: str = "-") -> str:
    return none if x is None else format(x, spec)


def table(rows: list[dict]) -> str:
    head = [
        "interactions",
        "items",
        "users",
        "status",
        "train s",
        "peak GiB",
        "bundle MB",
        "served",
        "item-item",
        "rec p50 ms",
        "rec p99 ms",
    ]
    lines = []
    for r in rows:
        counts = r.get("data") or {}
        ii = r.get("item_item")
        if isinstance(ii, dict):
            ii = ii.get("kind") or ii.get("method") or json.dumps(ii, sort_keys=True)[:24]
        if ii is None and r.get("item_item_arrays"):
            ii = f"[{r['item_item_arrays']}]"
        rec = (r.get("recommend") or {}).get("wall_ms") or {}
        train = r.get("train_s")
        if train is None and r.get("status") in ("timeout", "oom", "error"):
            train = f">{r.get('elapsed_s', 0):.0f}" if r["status"] != "error" else None
        lines.append(
            [
                f"{counts.get('interactions', r['interactions']):,}",
                f"{counts.get('items', r['items']):,}",
                f"{counts.get('users', r['users']):,}",
                r.get("status", "?"),
                train if isinstance(train, str) else _fmt(train, ".1f"),
                _fmt(r.get("peak_rss_gib"), ".2f"),
                _fmt(r["bundle_bytes"] / 1e6 if r.get("bundle_bytes") else None, ".1f"),
                _fmt(r.get("served_model")),
                _fmt(ii),
                _fmt(rec.get("p50"), ".2f"),
                _fmt(rec.get("p99"), ".2f"),
            ]
        )
    widths = [max(len(h), *(len(x[j]) for x in lines)) for j, h in enumerate(head)]
    out = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    out += ["  ".join(c.rjust(w) for c, w in zip(x, widths, strict=True)) for x in lines]
    return "\n".join(out)


def _environment(args) -> dict:
    def git(*a: str) -> str | None:
        try:
            p = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True, timeout=30)
            return p.stdout.strip() if p.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            return None

    dirty = git("status", "--porcelain", "--", "engine")
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 2**20, 2)
    except OSError:
        pass
    cfg = train_config(args.config_json) if not args.generate_only else None
    return {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "git_commit": git("rev-parse", "HEAD"),
        "engine_uncommitted_changes": None if dirty is None else bool(dirty),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "host": {
            "cpus": os.cpu_count(),
            "affinity_cpus": len(os.sched_getaffinity(0)),
            "mem_total_gib": mem,
            "machine": platform.machine(),
        },
        "config_overrides": json.loads(args.config_json) if args.config_json else {},
        "train_config": _jsonable(dataclasses.asdict(cfg)) if cfg is not None else None,
        "timeout_s": args.timeout_s,
    }


def run_curve(args: argparse.Namespace) -> int:
    points = args.points
    if args.users_per_point:
        users = [parse_count(x) for x in args.users_per_point.split(",") if x.strip()]
        if len(users) == 1:
            users *= len(points)
        if len(users) != len(points):
            raise SystemExit("--users-per-point: give one count, or one per point")
    else:
        users = [max(1, round(n / args.interactions_per_user)) for n, _ in points]
    sys.path.insert(0, str(REPO))
    report = {**_environment(args), "points": []}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="scale-curve-"))
    work.mkdir(parents=True, exist_ok=True)
    t_all = time.monotonic()
    failed = False
    try:
        for j, ((n, items), u) in enumerate(zip(points, users, strict=True)):
            if failed and args.stop_after_failure:
                row = {"interactions": n, "items": items, "users": u, "status": "skipped"}
            else:
                print(
                    f"== point {j + 1}/{len(points)}: {n:,} interactions, {items:,} items, "
                    f"{u:,} users",
                    file=sys.stderr,
                    flush=True,
                )
                row = run_point(args, j, n, items, u, work)
                failed = failed or row.get("status") != "ok"
                print(
                    ("" if row.get("status") == "ok" else "\n")  # after a killed child's bar
                    + f"== {row.get('status')}: {row.get('elapsed_s')} s, peak RSS "
                    f"{row.get('peak_rss_gib')} GiB"
                    + (f", {row['error']}" if row.get("error") else ""),
                    file=sys.stderr,
                    flush=True,
                )
            report["points"].append(row)
            report["wall_s"] = round(time.monotonic() - t_all, 1)
            out.write_text(json.dumps(_jsonable(report), indent=1) + "\n")
    finally:
        if not args.work_dir and not args.keep_bundles:
            shutil.rmtree(work, ignore_errors=True)
    if args.generate_only:
        for r in report["points"]:
            info = r.get("generator") or {}
            print(
                f"{r['interactions']:>12,} x {r['items']:>9,} items, {r['users']:>9,} users: "
                f"{r.get('status')}, generated {info.get('interactions', 0):,} rows "
                f"(short {info.get('shortfall')}, top-ups {info.get('missing_before_round')}) in "
                f"{_fmt(r.get('gen_s'), '.1f')} s, peak RSS {_fmt(r.get('peak_rss_gib'), '.2f')} "
                f"GiB (after imports {_fmt(r.get('rss_gib', {}).get('imports'), '.2f')})"
            )
    else:
        print(table(report["points"]))
    print(f"wall {report['wall_s']:.0f} s; JSON: {out}", file=sys.stderr)
    return 0 if all(r.get("status") == "ok" for r in report["points"]) else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--points",
        type=parse_points,
        default=parse_points(DEFAULT_POINTS),
        help=f"interactions:items, comma separated (default {DEFAULT_POINTS})",
    )
    p.add_argument(
        "--users-per-point",
        default=None,
        help="user counts, one per point or one for all (e.g. 20k,100k,400k)",
    )
    p.add_argument(
        "--interactions-per-user",
        type=float,
        default=50.0,
        help="users = interactions / this, when --users-per-point is not given",
    )
    p.add_argument(
        "--config-json",
        default=None,
        help="TrainConfig fields as a JSON object; lists become tuples",
    )
    p.add_argument("--timeout-s", type=float, default=3600.0, help="per point (default 3600)")
    p.add_argument(
        "--stop-after-failure",
        action="store_true",
        help="skip the remaining points once one fails (timeout, oom, error)",
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--zipf", type=float, default=1.0, help="popularity exponent (default 1.0)")
    p.add_argument("--rec-users", type=int, default=300, help="timed recommend() calls")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="JSON result path")
    p.add_argument("--work-dir", default=None, help="bundles and child results (default: temp)")
    p.add_argument("--keep-bundles", action="store_true")
    p.add_argument(
        "--generate-only",
        action="store_true",
        help="only time the generator (per point, in a child: time and peak RSS)",
    )
    # the child's side (not for direct use)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--interactions", type=int, help=argparse.SUPPRESS)
    p.add_argument("--items", type=int, help=argparse.SUPPRESS)
    p.add_argument("--users", type=int, help=argparse.SUPPRESS)
    p.add_argument("--out-dir", help=argparse.SUPPRESS)
    p.add_argument("--result-file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return run_worker(args)
    return run_curve(args)


if __name__ == "__main__":
    sys.exit(main())
