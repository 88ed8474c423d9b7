"""Batch recommendations throughput: users per second of a batch job for every user of the
ml-latest-small demo data (610 users, 9,742 items, 100,836 ratings), through the platform.

Sets up (once; reused on later runs) a tenant ``bench-batch`` in its own database, imports the
bundled ml-latest-small and trains its model through the platform, then runs the batch job in
this process (``batch_job_sync``: exactly what a Celery worker runs) ``--repeat`` times and
reports users per second end to end (per-user serving calls, gzip parts, the final file), the
per-user call latency, and the share of it spent signing the ``recommendation_id`` and
counting impressions (``m6rec.online.serving.issue``), which a batch export does not need::

    .venv/bin/python benchmarks/batch_recommendations.py
    .venv/bin/python benchmarks/batch_recommendations.py --k 20 --repeat 3 \
        --json bench-results/batch.json

Environment overrides: BENCH_DATABASE_URL (default .../m6rec_batch_bench), BENCH_REDIS_URL,
BENCH_MEDIA_ROOT. The first run trains (a few minutes on two shared cores).
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import REPO, write_json  # noqa: E402
from platform_setup import (  # noqa: E402
    django_setup,
    ensure_model,
    ensure_tenant,
    import_ml_latest_small,
    production_env,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/m6rec_batch_bench"
SLUG = "bench-batch"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Timer:
    """Wraps serving's ``online.issue`` to add up the time spent in it."""

    def __init__(self) -> None:
        from m6rec.serving import services

        self.module = services.online
        self.original = self.module.issue
        self.seconds = 0.0
        self.calls = 0

    def __enter__(self):
        def timed(**kwargs):
            started = time.perf_counter()
            try:
                return self.original(**kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        self.module.issue = timed
        return self

    def __exit__(self, *exc) -> None:
        self.module.issue = self.original


def run(args) -> dict:
    from m6rec.batch.execution import batch_job_sync
    from m6rec.batch.models import BatchJob
    from m6rec.catalog.models import EndUser
    from m6rec.serving.services import recommend_for_user

    tenant = ensure_tenant(SLUG)
    import_ml_latest_small(tenant)
    version = ensure_model(tenant, time_budget_s=args.time_budget)
    users = list(
        EndUser.objects.filter(tenant=tenant).order_by("pk").values_list("external_id", flat=True)
    )
    print(f"tenant {SLUG}: {len(users)} users, model v{version}", flush=True)
    # warm: the model loaded, memos filled (a worker's steady state)
    for user_id in users[:20]:
        recommend_for_user(tenant=tenant, user_id=user_id, k=args.k, explain=False)
    latencies = []
    with _Timer() as timer:
        for user_id in users:
            started = time.perf_counter()
            recommend_for_user(tenant=tenant, user_id=user_id, k=args.k, explain=False)
            latencies.append(time.perf_counter() - started)
    per_user = sum(latencies)
    jobs = []
    for n in range(args.repeat):
        BatchJob.objects.filter(tenant=tenant, status__in=BatchJob.IN_PROGRESS).delete()
        started = time.perf_counter()
        job = batch_job_sync(tenant=tenant, k=args.k)
        seconds = time.perf_counter() - started
        if job.status != BatchJob.Status.SUCCEEDED:
            raise SystemExit(f"batch job {job.pk} {job.status}: {job.error_message}")
        rate = job.users_done / seconds
        print(
            f"run {n + 1}: {job.users_done} users in {seconds:.2f} s = {rate:.0f} users/s "
            f"({job.popularity_users} by popularity; {job.size_bytes / 1024:.0f} KiB gzip)",
            flush=True,
        )
        jobs.append(
            {
                "job": job.pk,
                "users": job.users_done,
                "seconds": round(seconds, 3),
                "users_per_second": round(rate, 1),
                "popularity_users": job.popularity_users,
                "size_bytes": job.size_bytes,
            }
        )
    best = max(j["users_per_second"] for j in jobs)
    summary = {
        "users_per_second": best,
        "users_per_second_median": statistics.median(j["users_per_second"] for j in jobs),
        "per_user_ms_p50": round(1000 * _percentile(latencies, 0.5), 2),
        "per_user_ms_p95": round(1000 * _percentile(latencies, 0.95), 2),
        "per_user_ms_mean": round(1000 * per_user / len(latencies), 2),
        "issue_share": round(timer.seconds / per_user, 3) if per_user else None,
        "issue_ms_mean": round(1000 * timer.seconds / max(1, timer.calls), 3),
    }
    print(
        f"users/s {best:.0f} (best of {len(jobs)}); per user p50 {summary['per_user_ms_p50']} ms, "
        f"p95 {summary['per_user_ms_p95']} ms; signing + impressions "
        f"{100 * (summary['issue_share'] or 0):.1f}% of it ({summary['issue_ms_mean']} ms)",
        flush=True,
    )
    return {
        "benchmark": "batch_recommendations",
        "dataset": "ml-latest-small",
        "tenant": SLUG,
        "model_version": version,
        "users": len(users),
        "k": args.k,
        "runs": jobs,
        "summary": summary,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform_module.python_version()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--k", type=int, default=10, help="items per user (default 10)")
    parser.add_argument("--repeat", type=int, default=1, help="batch jobs to time (default 1)")
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        help="safety stop of the first run's training in seconds (default: the platform's)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=REPO / "bench-results" / "batch_recommendations.json",
        help="where to write the results (default bench-results/batch_recommendations.json)",
    )
    args = parser.parse_args(argv)
    env = production_env(database_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    from engine.quiet import quiet_third_party

    quiet_third_party(verbose=False)  # the first run trains: no TensorFlow start-up noise
    django_setup(env)
    result = run(args)
    write_json(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
