"""Online-loop benchmark (issue 12), side by side in one run on one gunicorn:

1. **Throughput with an experiment running vs without**, tenant ``bench-online``: the
   experiment splits users 50/50 between the active version and a candidate holding a copy
   of the same bundle (both arms do the same work; every gunicorn worker holds two models).
   Every response carries a signed ``recommendation_id`` and counts its impressions in both
   conditions (attribution is always on). Interleaved rounds, the order alternating: start
   or stop the experiment, wait for every worker to see it, ``wrk``; the figure is the median
   of the per-round ratios (target ≥ 0.95). A shared machine's speed drifts by tens of
   percent within seconds, so the same comparison is also made on CPU per request
   (in-process, app + PostgreSQL backend, alternating blocks): capacity ratio = CPU without
   / CPU with.
2. **Explanation cost**: ``explain=true`` vs ``explain=false``, interleaved: latency over one
   keep-alive connection and CPU per request in-process (Django test client).
3. **Impressions lost when Redis restarts mid-run** (online_redis.py): the impression counters
   go to a ``redis-server`` this benchmark starts on a free port, never the shared one.

    python benchmarks/online_loop.py                          # set up (once), then measure
    python benchmarks/online_loop.py --rounds 4 --duration 6  # short

A copy of the bundle in another tenant would not do as the "without" side: a bundle records
its training rows per user, so another tenant's users take the fold-in path (more CPU).

Set-up (first run, reused afterwards): database ``m6rec_bench``, tenant ``bench-online``
(ml-latest-small, model trained through the platform; see platform_setup.py). Writes JSON
(default ``bench-results/online_loop.json``). Environment overrides as platform_setup.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path

from harness import REPO, Server, write_json
from http_load import get_json, warm_up
from online_experiment import ensure_candidate, set_mode, stop_experiments
from online_redis import OwnRedis, redis_restart
from online_rounds import cpu_blocks, explain_rounds, throughput_rounds
from platform_setup import django_setup, production_env, recommendation_paths, serving_tenant


def explain_summary(explain: list[dict]) -> dict:
    """Medians over the rounds of explain=false and explain=true, and what explaining adds."""

    def med(mode: str, *keys: str) -> float:
        def pick(row: dict):
            for key in keys:
                row = row[key]
            return row

        return statistics.median(pick(r[mode]) for r in explain)

    modes = ("plain", "explain")
    cost = {
        "p50_latency_ms": {m: med(m, "latency_ms", "p50") for m in modes},
        "mean_latency_ms": {m: med(m, "latency_ms", "mean") for m in modes},
        "app_cpu_ms_in_process": {m: med(m, "app_cpu_ms_in_process") for m in modes},
    }
    cost["added_p50_ms"] = cost["p50_latency_ms"]["explain"] - cost["p50_latency_ms"]["plain"]
    cost["added_cpu_ms"] = (
        cost["app_cpu_ms_in_process"]["explain"] - cost["app_cpu_ms_in_process"]["plain"]
    )
    return cost


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)) + 1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=6, help="interleaved rounds (default 6)")
    ap.add_argument("--duration", type=int, default=10, help="seconds of each measurement")
    ap.add_argument("--connections", type=int, default=12, help="wrk connections")
    ap.add_argument("--cpu-blocks", type=int, default=10, help="alternating in-process blocks")
    ap.add_argument("--cpu-requests", type=int, default=100, help="requests per block")
    ap.add_argument("--restart-rate", type=float, default=100.0, help="req/s, restart test")
    ap.add_argument("--restart-duration", type=float, default=60.0, help="s, restart test")
    ap.add_argument("--restart-at", type=float, default=0.6, help="fraction of the run")
    ap.add_argument(
        "--db-flush",
        type=float,
        default=30.0,
        help="seconds between database flushes in the restart test (the beat schedule's "
        "M6REC_IMPRESSIONS_DB_FLUSH_S, 30 by default)",
    )
    ap.add_argument("--tenant", default="bench-online")
    ap.add_argument("--train-budget", type=float, default=None)
    ap.add_argument("--out", type=Path, default=REPO / "bench-results" / "online_loop.json")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    redis_server = OwnRedis()
    redis_server.start()
    print(f"impressions Redis: {redis_server.url} (our own; restarted in part 3)", flush=True)
    tenant = None
    try:
        env = production_env()
        env["M6REC_IMPRESSIONS_REDIS_URL"] = redis_server.url
        django_setup(env)
        from django.db import connections

        tenant, version, token = serving_tenant(args.tenant, time_budget_s=args.train_budget)
        candidate = ensure_candidate(tenant)
        stop_experiments(tenant)
        users, paths = recommendation_paths(tenant, limit=5000)
        print(
            f"tenant {tenant.slug}: {len(users)} users, active v{version}, candidate "
            f"v{candidate} (a copy of it); gunicorn {args.workers} × {args.threads}",
            flush=True,
        )
        print("== 1b. CPU per request in-process, alternating blocks", flush=True)
        cpu = cpu_blocks(
            tenant, candidate, paths, token, blocks=args.cpu_blocks, per_block=args.cpu_requests
        )
        for mode in ("experiment", "none"):
            print(
                f"  {mode:>10}: app {cpu[mode]['app_cpu_ms']:.2f} ms + database "
                f"{cpu[mode]['db_cpu_ms']:.2f} ms per request",
                flush=True,
            )
        connections.close_all()
        load_before = os.getloadavg()
        with Server(env, workers=args.workers, threads=args.threads) as server:
            headers = {"Authorization": f"Bearer {token}"}
            set_mode(tenant, candidate, "experiment")
            time.sleep(3.0)
            warm_up(server.port, paths, headers, workers=args.workers)  # both models loaded
            arms = {json.dumps(get_json(server.port, p, token)["experiment"]) for p in paths[:40]}
            print(f"experiment arms seen in responses: {sorted(arms)}", flush=True)
            print("== 1. throughput: experiment running vs none (wrk)", flush=True)
            throughput = throughput_rounds(args, server, tenant, candidate, paths, token)
            print("== 2. explanation cost: explain=true vs false", flush=True)
            explain = explain_rounds(args, server, paths, token)
            print("== 3. impressions lost when the impressions Redis restarts", flush=True)
            from m6rec.online import impressions

            impressions.flush_buffer()  # this process's own in-process requests first
            restart = redis_restart(args, server, redis_server, tenant, paths, token)
    finally:
        if tenant is not None:
            stop_experiments(tenant)
        redis_server.close()

    ratio = statistics.median(r["ratio"] for r in throughput)
    pooled = statistics.median(r["experiment"]["requests_per_s"] for r in throughput) / (
        statistics.median(r["none"]["requests_per_s"] for r in throughput)
    )

    explain_cost = explain_summary(explain)
    print(
        f"\nthroughput with an experiment / without (wrk): median of per-round ratios "
        f"{ratio:.3f}, ratio of medians {pooled:.3f} (target >= 0.95); CPU per request "
        f"without / with (capacity ratio): {cpu['capacity_ratio']:.3f}\n"
        f"explanations: {explain_cost['added_p50_ms']:+.2f} ms p50 latency, "
        f"{explain_cost['added_cpu_ms']:+.2f} ms app CPU per request (k=10)\n"
        f"Redis restart: {restart['items_lost']} of {restart['items_shown']} impressions lost "
        f"({restart['lost_fraction']:.1%}), what Redis held since the last database flush "
        f"({restart['seconds_since_last_db_flush']:.1f} s before the restart; flush every "
        f"{args.db_flush:g} s)",
        flush=True,
    )
    result = {
        "benchmark": "online_loop",
        "tenant": tenant.slug,
        "users": len(users),
        "model_version": version,
        "candidate_version": candidate,
        "gunicorn": {"workers": args.workers, "threads": args.threads, "class": "gthread"},
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "settings": vars(args) | {"out": str(args.out)},
        "throughput_rounds": throughput,
        "throughput_ratio_median": ratio,
        "throughput_ratio_of_medians": pooled,
        "cpu_per_request": cpu,
        "explain_rounds": explain,
        "explain_cost": explain_cost,
        "redis_restart": restart,
        "targets": {
            "throughput_ratio": 0.95,
            "met_throughput_ratio": ratio >= 0.95,
            "met_capacity_ratio": cpu["capacity_ratio"] >= 0.95,
        },
    }
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
