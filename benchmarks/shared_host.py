"""Web latency while training shares the host (issue 14, item 6).

    python benchmarks/shared_host.py                    # ~4 minutes after the first set-up
    python benchmarks/shared_host.py --rate 150 --window 20 --rounds 2

gunicorn (production settings, deploy/gunicorn.conf.py's defaults: one process per core plus
one) serves ``GET users/{id}/recommendations?k=10`` of a trained ml-latest-small tenant at a
fixed arrival rate (open loop, latency from each request's scheduled time: no coordinated
omission, see http_load.py). Each round measures four windows, interleaved so that the
machine's drift hits all three alike:

* ``idle``: no training;
* ``yielding``: a training run of the same tenant (the platform's default training
  configuration) in a process set up like a Celery pool process, with
  :func:`m6rec.ops.worker_limits.apply_worker_limits` (``M6REC_WORKER_NICE``, 10, and
  ``M6REC_WORKER_THREADS``, 1: what the launcher and the compose file set);
* ``idle-class``: as ``yielding``, in the ``SCHED_IDLE`` scheduling class
  (``M6REC_WORKER_SCHED_IDLE``);
* ``unguarded``: the same training at niceness 0 with the libraries' default thread counts.

The training process starts ``--warm`` seconds before its window (data loading done, inside
the engine) and is killed at its end. Prints each window and writes JSON (default
``bench-results/shared_host.json``): per window p50/p99/errors, per condition the median p99,
and the ratios against ``idle`` (target: ``yielding`` p99 ≤ 3 × ``idle`` p99).

Set-up (first run, reused afterwards): database ``m6rec_shared_bench``, tenant ``bench-shared``
with ml-latest-small imported and a quick model (no fusion) trained and promoted; Redis
database 5, media ``var/shared-bench-media``. Overrides: BENCH_DATABASE_URL, BENCH_REDIS_URL,
BENCH_MEDIA_ROOT.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import REPO, Server, write_json
from http_load import run_fixed_rate, warm_up
from platform_setup import (
    bench_key,
    django_setup,
    ensure_quick_model,
    ensure_tenant,
    import_ml_latest_small,
    production_env,
    recommendation_paths,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/m6rec_shared_bench"
CONDITIONS = ("idle", "yielding", "idle-class", "unguarded")
TRAINER = """
import os, sys
import django
django.setup()
if os.environ.get("BENCH_YIELD") in ("1", "idle-class"):
    from m6rec.ops.worker_limits import apply_worker_limits
    apply_worker_limits()  # what every Celery pool process does at start
from m6rec.tenants.models import Tenant
from m6rec.training.services import training_run_sync
print("training pid", os.getpid(), "nice", os.nice(0), flush=True)
training_run_sync(tenant=Tenant.objects.get(slug=sys.argv[1]), overrides={"time_budget_s": 600})
"""


def shared_host_env() -> dict[str, str]:
    """Production settings on database ``m6rec_shared_bench``, with media and a Redis database
    of its own: serve_load's tenant has the same ids in another database."""
    env = production_env(database_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    env["M6REC_MEDIA_ROOT"] = os.environ.get(
        "BENCH_MEDIA_ROOT", str(REPO / "var" / "shared-bench-media")
    )
    env["REDIS_URL"] = env["CELERY_BROKER_URL"] = os.environ.get(
        "BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"
    )
    return env


def trainer_env(env: dict[str, str], *, condition: str) -> dict[str, str]:
    out = dict(env)
    if condition == "yielding":
        out.update({"BENCH_YIELD": "1", "M6REC_WORKER_NICE": "10", "M6REC_WORKER_THREADS": "1"})
    elif condition == "idle-class":
        out.update(
            {
                "BENCH_YIELD": "idle-class",
                "M6REC_WORKER_NICE": "10",
                "M6REC_WORKER_THREADS": "1",
                "M6REC_WORKER_SCHED_IDLE": "True",
            }
        )
    else:  # the libraries' own thread counts, as a worker without the guard
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            out.pop(name, None)
        out.update({"BENCH_YIELD": "0", "M6REC_WORKER_NICE": "0", "M6REC_WORKER_THREADS": "0"})
    return out


def end_training_runs(tenant) -> None:
    """A killed training process leaves its run 'running' and the tenant's training lock
    held (until it expires): close both before the next one."""
    from django.db import close_old_connections

    from m6rec.training.locks import _redis, lock_key
    from m6rec.training.models import TrainingRun

    close_old_connections()
    TrainingRun.objects.filter(tenant=tenant, status__in=TrainingRun.IN_PROGRESS).update(
        status="failed", error_message="benchmark: training process stopped"
    )
    _redis().delete(lock_key(tenant.pk))


def training_stage(tenant) -> str | None:
    from django.db import close_old_connections

    from m6rec.training.models import TrainingRun

    close_old_connections()
    run = TrainingRun.objects.filter(tenant=tenant, status="running").first()
    return f"{run.stage} {run.progress:.0f}%" if run else None


def measure(server, paths, token, *, rate, window, concurrency) -> dict:
    result = run_fixed_rate(
        server.port, paths, token, rate=rate, duration=window, concurrency=concurrency
    )
    return {
        "p50_ms": result["latency_ms"].get("p50"),
        "p99_ms": result["latency_ms"].get("p99"),
        "max_ms": result["latency_ms"].get("max"),
        "requests": result["requests"],
        "errors": result["errors"] + result["not_sent"],
        "achieved_rate": result["achieved_rate"],
    }


def run_window(condition, *, env, tenant, server, paths, token, args, log) -> dict:
    trainer = None
    if condition != "idle":
        end_training_runs(tenant)
        trainer = subprocess.Popen(
            [sys.executable, "-c", TRAINER, tenant.slug],
            cwd=REPO,
            env=trainer_env(env, condition=condition),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        time.sleep(args.warm)
        if trainer.poll() is not None:
            raise SystemExit(f"the training process ended early ({trainer.returncode}); see log")
    cpu_before = os.times()
    stage_before = training_stage(tenant)
    try:
        row = measure(
            server,
            paths,
            token,
            rate=args.rate,
            window=args.window,
            concurrency=args.concurrency,
        )
    finally:
        stage_after = training_stage(tenant)
        if trainer is not None:
            still_training = trainer.poll() is None
            os.killpg(trainer.pid, signal.SIGKILL)
            trainer.wait(timeout=30)
            end_training_runs(tenant)
    row["condition"] = condition
    row["training_ran_through_window"] = None if trainer is None else still_training
    row["training_stages"] = None if trainer is None else [stage_before, stage_after]
    row["load_average"] = os.getloadavg()[0]
    row["client_cpu_s"] = round(sum(os.times()[:2]) - sum(cpu_before[:2]), 2)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=150.0, help="requests/s (the issue's 150)")
    ap.add_argument("--window", type=float, default=20.0, help="seconds per measured window")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of the three windows")
    ap.add_argument("--warm", type=float, default=10.0, help="training head start (s)")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)) + 1)
    ap.add_argument("--concurrency", type=int, default=16, help="client threads")
    ap.add_argument("--tenant", default="bench-shared")
    ap.add_argument("--out", type=Path, default=REPO / "bench-results" / "shared_host.json")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    env = shared_host_env()
    django_setup(env)
    from django.db import connections

    tenant = ensure_tenant(args.tenant)
    import_ml_latest_small(tenant)
    end_training_runs(tenant)
    version = ensure_quick_model(tenant)
    token = bench_key(tenant)
    users, paths = recommendation_paths(tenant)
    connections.close_all()
    log_path = args.out.with_suffix(".training.log")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"tenant {tenant.slug}: {len(users)} users, model v{version}; gunicorn {args.workers} × 1; "
        f"{args.rate:.0f} req/s, {args.window:.0f} s windows × {len(CONDITIONS)} conditions × "
        f"{args.rounds} rounds; load average before {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    windows: list[dict] = []
    with Server(env, workers=args.workers, threads=1) as server, log_path.open("w") as log:
        warm_up(server.port, paths, {"Authorization": f"Bearer {token}"}, workers=args.workers)
        for n in range(1, args.rounds + 1):
            for condition in CONDITIONS:
                row = run_window(
                    condition,
                    env=env,
                    tenant=tenant,
                    server=server,
                    paths=paths,
                    token=token,
                    args=args,
                    log=log,
                )
                row["round"] = n
                windows.append(row)
                print(
                    f"round {n} {condition:>9}: p50 {row['p50_ms']:.1f} ms, p99 "
                    f"{row['p99_ms']:.1f} ms, max {row['max_ms']:.0f} ms, errors "
                    f"{row['errors']}, load {row['load_average']:.1f}"
                    + (f", training {row['training_stages']}" if row["training_stages"] else ""),
                    flush=True,
                )
    summary = {
        c: statistics.median(w["p99_ms"] for w in windows if w["condition"] == c)
        for c in CONDITIONS
    }
    ratios = {c: summary[c] / summary["idle"] for c in CONDITIONS if c != "idle"}
    errors = sum(w["errors"] for w in windows)
    print(
        "median p99: "
        + ", ".join(f"{c} {summary[c]:.1f} ms" for c in CONDITIONS)
        + "; ratio to idle: "
        + ", ".join(f"{c} {r:.2f}x" for c, r in ratios.items())
        + f" (target yielding <= 3x); errors {errors}",
        flush=True,
    )
    result = {
        "benchmark": "shared_host",
        "endpoint": "GET /api/v1/users/{user_id}/recommendations?k=10",
        "rate": args.rate,
        "window_s": args.window,
        "rounds": args.rounds,
        "gunicorn_workers": args.workers,
        "cpus": os.cpu_count(),
        "model_version": version,
        "yielding": {"M6REC_WORKER_NICE": 10, "M6REC_WORKER_THREADS": 1},
        "windows": windows,
        "median_p99_ms": summary,
        "p99_ratio_to_idle": ratios,
        "errors": errors,
        "target": {"yielding_p99_at_most_3x_idle": ratios["yielding"] <= 3.0},
    }
    write_json(args.out, result)
    print(f"wrote {args.out} (training output: {log_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
