"""The online-loop benchmark's interleaved measurements (online_loop.py): throughput with and
without a running experiment (wrk on gunicorn, and CPU per request in-process), and the cost of
explanations (``explain=true`` vs ``explain=false``). Each round alternates the order of its
two sides, so that a drifting machine favours neither.
"""

from __future__ import annotations

import time

from harness import alternating
from http_load import get_json, run_wrk, sequential, warm_up
from online_experiment import set_mode
from request_cpu import app_cpu_ms, bench_client, timed_requests


def throughput_rounds(args, server, tenant, candidate, paths, token) -> list[dict]:
    """Interleaved wrk rounds with and without a running experiment (order alternating)."""
    rounds = []
    for n in range(args.rounds):
        row = {}
        for mode in alternating(n, ("experiment", "none")):
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
    client = bench_client(token)
    for mode in ("experiment", "none"):  # load both models first
        set_mode(tenant, candidate, mode)
        for path in paths[:20]:
            client.get(path)
    spent = {"experiment": [0.0, 0.0], "none": [0.0, 0.0]}
    for b in range(blocks):
        for mode in alternating(b, ("experiment", "none")):
            set_mode(tenant, candidate, mode)
            app, db, _ = timed_requests(client, paths, per_block, start=b * per_block)
            spent[mode][0] += app
            spent[mode][1] += db or 0.0
    set_mode(tenant, candidate, "none")
    n = blocks * per_block
    out = {
        mode: {"app_cpu_ms": app / n * 1000, "db_cpu_ms": db / n * 1000}
        for mode, (app, db) in spent.items()
    }
    total = {m: v["app_cpu_ms"] + v["db_cpu_ms"] for m, v in out.items()}
    out["capacity_ratio"] = total["none"] / total["experiment"]
    return out


def explain_rounds(args, server, paths, token) -> list[dict]:
    """Interleaved rounds of ``explain=false`` and ``explain=true``: latency over one keep-alive
    connection and app CPU per request in-process."""
    explain = [f"{p}&explain=true" for p in paths]
    plain = [f"{p}&explain=false" for p in paths]
    sample = get_json(server.port, explain[0], token)
    if "explanation" not in sample["items"][0]:
        raise SystemExit(f"explain=true gave no explanation: {sample['items'][0]}")
    rounds = []
    for n in range(args.rounds):
        row = {}
        for mode, chosen in alternating(n, (("plain", plain), ("explain", explain))):
            result = sequential(server.port, chosen, token, duration=args.duration)
            cpu = app_cpu_ms(token, chosen, args.cpu_requests)
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
