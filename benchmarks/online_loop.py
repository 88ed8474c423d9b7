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
(ml-latest-small, model trained through the platform; see serve_load.py). Writes JSON
(default ``bench-results/online_loop.json``). Environment overrides as serve_load.py's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

from harness import REPO, Server
from online_redis import OwnRedis, redis_restart
from serve_load import (
    bench_key,
    django_setup,
    ensure_model,
    ensure_tenant,
    import_ml_latest_small,
    percentiles,
    production_env,
    run_wrk,
    warm_up,
)

ARM_NOTE = "online_loop benchmark: a copy of the active bundle"


# ---------------------------------------------------------------------- set-up
def ensure_candidate(tenant) -> int:
    """A candidate version of ``tenant`` holding a copy of its active bundle (created once)."""
    from m6rec.registry.models import ModelVersion
    from m6rec.registry.selectors import version_get_active
    from m6rec.registry.services import version_create, version_next_number
    from m6rec.registry.storage import (
        bundle_local_path,
        bundle_publish,
        bundle_staging_dir,
        manifest_sha256,
    )

    found = ModelVersion.objects.filter(
        tenant=tenant, status=ModelVersion.Status.CANDIDATE, notes=ARM_NOTE
    ).first()
    if found is not None:
        return int(found.number)
    active = version_get_active(tenant=tenant)
    number = version_next_number(tenant=tenant)
    staging = bundle_staging_dir(tenant_slug=tenant.slug, label=f"v{number}")
    staging.rmdir()
    shutil.copytree(bundle_local_path(uri=active.bundle_uri), staging)
    sha = manifest_sha256(staging)
    uri = bundle_publish(staging_dir=staging, tenant_slug=tenant.slug, number=number)
    version_create(
        tenant=tenant,
        number=number,
        bundle_uri=uri,
        bundle_sha256=sha,
        metrics=active.metrics,
        notes=ARM_NOTE,
    )
    return number


def stop_experiments(tenant) -> None:
    from m6rec.online.models import Experiment
    from m6rec.online.services import experiment_stop

    for pk in Experiment.objects.filter(tenant=tenant, status="running").values_list(
        "pk", flat=True
    ):
        experiment_stop(tenant=tenant, experiment_id=pk, reason="online_loop benchmark")


def start_experiment(tenant, candidate: int) -> int:
    from m6rec.online.services import experiment_start

    stop_experiments(tenant)
    return experiment_start(
        tenant=tenant, name="online_loop benchmark", candidates=[candidate], shares=[0.5, 0.5]
    ).pk


# ---------------------------------------------------------------------- measurements
def get_json(port: int, path: str, token: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body


def set_mode(tenant, candidate: int, mode: str) -> None:
    """Start (``experiment``) or stop (``none``) the tenant's experiment; this process's memo
    is dropped at once, the gunicorn workers' within its TTL (2 s)."""
    from m6rec.online import assignment

    if mode == "experiment":
        start_experiment(tenant, candidate)
    else:
        stop_experiments(tenant)
    assignment.forget()


def throughput_rounds(args, server, tenant, candidate, paths, token) -> list[dict]:
    """Interleaved wrk rounds with and without a running experiment (order alternating)."""
    rounds = []
    for n in range(args.rounds):
        order = ["experiment", "none"] if n % 2 == 0 else ["none", "experiment"]
        row = {}
        for mode in order:
            set_mode(tenant, candidate, mode)
            time.sleep(3.0)  # every gunicorn worker sees the change (memo TTL 2 s)
            # steady state: whatever the change costs a worker once is not measured
            warm_up(server.port, paths, {"Authorization": f"Bearer {token}"}, workers=args.workers)
            sample = get_json(server.port, paths[1], token).get("experiment")
            if (sample is not None) != (mode == "experiment"):
                raise SystemExit(f"{mode}: a response said experiment={sample}")
            result = run_wrk(
                server.port, paths, token, connections=args.connections, duration=args.duration
            )
            row[mode] = result
            print(
                f"round {n + 1} {mode:>10}: {result['requests_per_s']:.0f} req/s, p50 "
                f"{result['latency_ms']['p50']:.1f} ms, p99 {result['latency_ms']['p99']:.1f} "
                f"ms, errors {result['error_count']}",
                flush=True,
            )
        row["ratio"] = row["experiment"]["requests_per_s"] / row["none"]["requests_per_s"]
        rounds.append(row)
    set_mode(tenant, candidate, "none")
    return rounds


def cpu_blocks(tenant, candidate, paths, token, *, blocks: int, per_block: int) -> dict:
    """CPU per request in-process (app + this process's PostgreSQL backend) in alternating
    blocks of ``per_block`` requests with and without the experiment. CPU time is what a
    neighbour on a shared machine disturbs least; capacity ratio = CPU without / CPU with."""
    from django.test import Client
    from serve_load import _backend_cpu_s

    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    for mode in ("experiment", "none"):  # load both models first
        set_mode(tenant, candidate, mode)
        for path in paths[:20]:
            client.get(path)
    spent = {"experiment": [0.0, 0.0], "none": [0.0, 0.0]}
    for b in range(blocks):
        for mode in ["experiment", "none"] if b % 2 == 0 else ["none", "experiment"]:
            set_mode(tenant, candidate, mode)
            cpu0, db0 = time.process_time(), _backend_cpu_s() or 0.0
            for i in range(per_block):
                response = client.get(paths[(b * per_block + i) * 7 % len(paths)])
                if response.status_code != 200:
                    raise SystemExit(f"in-process request failed: HTTP {response.status_code}")
            spent[mode][0] += time.process_time() - cpu0
            spent[mode][1] += (_backend_cpu_s() or 0.0) - db0
    set_mode(tenant, candidate, "none")
    n = blocks * per_block
    out = {
        mode: {"app_cpu_ms": app / n * 1000, "db_cpu_ms": db / n * 1000}
        for mode, (app, db) in spent.items()
    }
    total = {m: v["app_cpu_ms"] + v["db_cpu_ms"] for m, v in out.items()}
    out["capacity_ratio"] = total["none"] / total["experiment"]
    return out


def cpu_per_request(token: str, paths: list[str], n: int) -> float:
    """App CPU ms per request in-process (Django test client)."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(paths[0])
    cpu0 = time.process_time()
    for i in range(n):
        response = client.get(paths[(i * 7) % len(paths)])
        if response.status_code != 200:
            raise SystemExit(f"in-process request failed: HTTP {response.status_code}")
    return (time.process_time() - cpu0) / n * 1000


def sequential(port: int, paths: list[str], token: str, *, duration: float) -> dict:
    """Requests one after another over one keep-alive connection for ``duration`` seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    latencies, errors, i = [], 0, 0
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        started = time.perf_counter()
        conn.request("GET", paths[(i * 7) % len(paths)], headers=headers)
        resp = conn.getresponse()
        resp.read()
        latencies.append(time.perf_counter() - started)
        errors += resp.status != 200
        i += 1
    conn.close()
    return {"requests": i, "errors": errors, "latency_ms": percentiles(latencies)}


def explain_rounds(args, server, paths, token) -> list[dict]:
    explain = [f"{p}&explain=true" for p in paths]
    plain = [f"{p}&explain=false" for p in paths]
    sample = get_json(server.port, explain[0], token)
    if "explanation" not in sample["items"][0]:
        raise SystemExit(f"explain=true gave no explanation: {sample['items'][0]}")
    rounds = []
    for n in range(args.rounds):
        order = [("plain", plain), ("explain", explain)]
        if n % 2:
            order.reverse()
        row = {}
        for mode, chosen in order:
            result = sequential(server.port, chosen, token, duration=args.duration)
            cpu = cpu_per_request(token, chosen, args.cpu_requests)
            row[mode] = {
                "latency_ms": result["latency_ms"],
                "requests_one_connection": result["requests"],
                "errors": result["errors"],
                "app_cpu_ms_in_process": cpu,
            }
            print(
                f"round {n + 1} {mode:>8}: one connection, {result['requests']} requests, "
                f"p50 {result['latency_ms']['p50']:.2f} ms, mean "
                f"{result['latency_ms']['mean']:.2f} ms; in-process CPU {cpu:.2f} ms/request",
                flush=True,
            )
        rounds.append(row)
    return rounds


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

        from m6rec.catalog.models import EndUser

        tenant = ensure_tenant(args.tenant)
        import_ml_latest_small(tenant)
        version = ensure_model(tenant, time_budget_s=args.train_budget)
        candidate = ensure_candidate(tenant)
        stop_experiments(tenant)
        token = bench_key(tenant)
        users = list(
            EndUser.objects.filter(tenant=tenant)
            .order_by("id")
            .values_list("external_id", flat=True)[:5000]
        )
        paths = [f"/api/v1/users/{urllib.parse.quote(u)}/recommendations?k=10" for u in users]
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

    def med(mode: str, key: str) -> float:
        return statistics.median(r[mode][key] for r in explain)

    def med_latency(mode: str, key: str) -> float:
        return statistics.median(r[mode]["latency_ms"][key] for r in explain)

    explain_cost = {
        "p50_latency_ms": {m: med_latency(m, "p50") for m in ("plain", "explain")},
        "mean_latency_ms": {m: med_latency(m, "mean") for m in ("plain", "explain")},
        "app_cpu_ms_in_process": {m: med(m, "app_cpu_ms_in_process") for m in ("plain", "explain")},
    }
    explain_cost["added_p50_ms"] = (
        explain_cost["p50_latency_ms"]["explain"] - explain_cost["p50_latency_ms"]["plain"]
    )
    explain_cost["added_cpu_ms"] = (
        explain_cost["app_cpu_ms_in_process"]["explain"]
        - explain_cost["app_cpu_ms_in_process"]["plain"]
    )
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
