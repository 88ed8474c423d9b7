"""Scale curve of the engine: training cost as a tenant grows (interactions, items, users).

    python benchmarks/scale_curve.py                         # 1M:10k, 5M:100k, 20M:1M
    python benchmarks/scale_curve.py --points 100k:2k,300k:20k --config-json '{"use_fusion": false}'
    python benchmarks/scale_curve.py --config-json '{"mf_factors": [64], "fusion_folds": 2}' \\
        --timeout-s 7200 --stop-after-failure
    python benchmarks/scale_curve.py --generate-only --points 20M:1M   # the generator alone

What it measures, per point ``interactions:items`` (users = interactions / 50 unless
``--users-per-point`` or ``--interactions-per-user`` say otherwise):

* a synthetic implicit-feedback data set (generator in scale_curve_data.py: Zipf-like item
  popularity, planted user tastes, distinct (user, item) pairs, timestamps over one year,
  weights 1.0), built in a fresh child process (``--worker``, scale_curve_worker.py;
  parameters on the command line, results back as a JSON file: nothing is pickled), so that
  each point's memory is measured on its own;
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
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import REPO, write_json
from scale_curve_report import environment, print_generated, table
from scale_curve_worker import jsonable, run_worker

DEFAULT_POINTS = "1M:10k,5M:100k,20M:1M"
DEFAULT_OUT = REPO / "bench-results" / "scale_curve.json"


# ---------------------------------------------------------------------- arguments
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
    report = {**environment(args), "points": []}
    out = Path(args.out)
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
            write_json(out, jsonable(report), indent=1)
    finally:
        if not args.work_dir and not args.keep_bundles:
            shutil.rmtree(work, ignore_errors=True)
    if args.generate_only:
        print_generated(report["points"])
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
