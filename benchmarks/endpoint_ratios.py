"""Side-by-side endpoint throughput on one gunicorn (issue 13's figure): ``/healthz`` (the
trivial liveness probe), ``/api/v1/popular`` (authentication, throttle, DRF, the model's
popularity) and user recommendations (the whole request path), in interleaved ``wrk`` rounds,
so the machine's drift cancels out of the ratios.

    python benchmarks/endpoint_ratios.py --rounds 3 --duration 10

Each round also gives the host's busy CPU per request of each endpoint (every process on the
machine: gunicorn, PostgreSQL, Redis, wrk; /proc/stat) and the cost ratios (the endpoint's CPU
per request ÷ the recommendations'): what the throughput ratios would be on cores nobody else
uses, so they swing less than the throughput when the machine's speed does.

Uses serve_load.py's set-up (platform_setup.py: database ``m6rec_bench``, tenant ``bench-mls``
with ml-latest-small and a trained model; made once, reused). Prints every round and the medians
of the per-round ratios; writes JSON (default ``bench-results/endpoint_ratios.json``).
Targets (issue 13): recommendations ≥ 0.35 × /healthz and ≥ 0.75 × /popular.
"""

from __future__ import annotations

import argparse
import os
import platform as py_platform
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import REPO, Server, write_json  # noqa: E402
from http_load import run_wrk, warm_up  # noqa: E402
from platform_setup import (  # noqa: E402
    django_setup,
    production_env,
    recommendation_paths,
    serving_tenant,
)
from request_cpu import host_busy_s  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)) + 1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    ap.add_argument("--duration", type=int, default=10, help="seconds per endpoint and round")
    ap.add_argument("--connections", type=int, default=12, help="wrk connections")
    ap.add_argument("--tenant", default="bench-mls")
    ap.add_argument("--out", type=Path, default=REPO / "bench-results" / "endpoint_ratios.json")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    env = production_env()
    django_setup(env)
    from django.db import connections

    tenant, version, token = serving_tenant(args.tenant)
    users, paths = recommendation_paths(tenant)
    connections.close_all()
    endpoints = {
        "healthz": ["/healthz"],
        "popular": ["/api/v1/popular?k=10"],
        "recommendations": paths,
    }
    print(
        f"tenant {tenant.slug}: {len(users)} users, model v{version}; gunicorn {args.workers} × "
        f"{args.threads}; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rounds = []
    with Server(env, workers=args.workers, threads=args.threads) as server:
        warm_up(
            server.port,
            endpoints["recommendations"],
            {"Authorization": f"Bearer {token}"},
            workers=args.workers,
        )
        for n in range(1, args.rounds + 1):
            row = {}
            for name, paths in endpoints.items():
                busy = host_busy_s()
                got = run_wrk(
                    server.port,
                    paths,
                    token,
                    connections=args.connections,
                    duration=args.duration,
                )
                row[name] = {
                    "requests_per_s": got["requests_per_s"],
                    "p50_ms": got["latency_ms"]["p50"],
                    "p99_ms": got["latency_ms"]["p99"],
                    "errors": got["error_count"],
                    "host_cpu_ms_per_request": (host_busy_s() - busy)
                    * 1000
                    / max(1, got["requests"]),
                }
                time.sleep(1)
            row["recommendations_vs_healthz"] = (
                row["recommendations"]["requests_per_s"] / row["healthz"]["requests_per_s"]
            )
            row["recommendations_vs_popular"] = (
                row["recommendations"]["requests_per_s"] / row["popular"]["requests_per_s"]
            )
            cpu = {k: row[k]["host_cpu_ms_per_request"] for k in endpoints}
            row["cost_healthz_vs_recommendations"] = cpu["healthz"] / cpu["recommendations"]
            row["cost_popular_vs_recommendations"] = cpu["popular"] / cpu["recommendations"]
            rounds.append(row)
            print(
                f"round {n}: "
                + ", ".join(f"{k} {row[k]['requests_per_s']:.0f} req/s" for k in endpoints)
                + f"; recommendations/healthz {row['recommendations_vs_healthz']:.3f}, "
                f"recommendations/popular {row['recommendations_vs_popular']:.3f}; host CPU per "
                "request "
                + ", ".join(f"{k} {cpu[k]:.3f} ms" for k in endpoints)
                + f" (cost ratios {row['cost_healthz_vs_recommendations']:.3f}, "
                f"{row['cost_popular_vs_recommendations']:.3f})",
                flush=True,
            )
    summary = {
        key: statistics.median(r[key] for r in rounds)
        for key in (
            "recommendations_vs_healthz",
            "recommendations_vs_popular",
            "cost_healthz_vs_recommendations",
            "cost_popular_vs_recommendations",
        )
    }
    summary["errors"] = sum(r[k]["errors"] for r in rounds for k in endpoints)
    print(
        f"median ratios: recommendations/healthz {summary['recommendations_vs_healthz']:.3f} "
        f"(target ≥ 0.35), recommendations/popular {summary['recommendations_vs_popular']:.3f} "
        f"(target ≥ 0.75); errors {summary['errors']}; cost ratios (host CPU per request): "
        f"healthz/recommendations {summary['cost_healthz_vs_recommendations']:.3f}, "
        f"popular/recommendations {summary['cost_popular_vs_recommendations']:.3f}"
    )
    write_json(
        args.out,
        {
            "summary": summary,
            "rounds": rounds,
            "workers": args.workers,
            "threads": args.threads,
            "python": py_platform.python_version(),
            "load_average_end": os.getloadavg()[0],
        },
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
