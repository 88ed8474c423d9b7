"""Soak test: fixed-rate mixed traffic against a running server for minutes (issue 14).

    python benchmarks/soak.py --base-url http://127.0.0.1:8000 --api-key m6r_… \
        --web-pid-file var/run/web.pid --rate 150 --duration 600
    python benchmarks/soak.py --self-host --duration 90     # its own gunicorn and tenant

Traffic (open loop: request i is sent at t0 + i/rate whatever the answers, latency counted
from that scheduled time, so a stall shows as queueing delay): 80% ``GET users/{id}/
recommendations?k=10``, 10% ``POST interactions`` (one new event each), 10% ``GET items/{id}/
similar?k=10`` and ``GET popular?k=10`` (half each). User and item ids are read from the API
(``GET users`` / ``GET items``, first 1,000 of each); the key needs the ``ingest`` and
``recommend`` scopes and a rate limit above ``--rate``.

Reports per minute p50/p99 latency, requests and errors by status (any answer but 2xx, and
connection failures as status -1), per request kind p50/p99, and the resident memory (RSS)
of each web worker process at the start and the end (children of the gunicorn master named by
``--web-pid`` / ``--web-pid-file``; ``--self-host`` knows its own). Prints a line per minute
and writes JSON (default ``bench-results/soak.json``). Exit status 1 when any request failed.

``--self-host`` sets up what shared_host.py uses (database ``m6rec_shared_bench``, tenant
``bench-shared`` with ml-latest-small and a model) and starts gunicorn with the production
settings on a free port.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import signal
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path

from harness import REPO, Server, write_json

MIX = (("recommend", 0.80), ("ingest", 0.10), ("similar", 0.05), ("popular", 0.05))


# ---------------------------------------------------------------------- process memory
def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(out))


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def worker_rss(master: int | None) -> dict[str, float]:
    if master is None:
        return {}
    return {str(pid): round(rss, 1) for pid in children(master) if (rss := rss_mib(pid))}


# ---------------------------------------------------------------------- the traffic
class Client:
    def __init__(self, base_url: str, token: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            content = response.read()
            if response.will_close:
                self.conn.close()
                self.conn = self._connect()
            return response.status, content
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = self._connect()
            return -1, b""


def read_ids(client: Client, path: str, field: str) -> list[str]:
    status, content = client.call("GET", f"{path}?limit=1000")
    if status != 200:
        raise SystemExit(f"GET {path}: HTTP {status} {content[:200]!r} (the key needs 'ingest')")
    ids = [row[field] for row in json.loads(content)["results"]]
    if not ids:
        raise SystemExit(f"GET {path}: no rows; load data first")
    return ids


def plan(n: int, *, seed: int) -> list[str]:
    rng = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    return rng.choices(kinds, weights=weights, k=n)


def request_for(kind: str, i: int, users: list[str], items: list[str], run_tag: str):
    user = urllib.parse.quote(users[i % len(users)], safe="")
    item = items[(i * 7919) % len(items)]
    if kind == "recommend":
        return "GET", f"/api/v1/users/{user}/recommendations?k=10", None
    if kind == "similar":
        return "GET", f"/api/v1/items/{urllib.parse.quote(item, safe='')}/similar?k=10", None
    if kind == "popular":
        return "GET", "/api/v1/popular?k=10", None
    row = {
        "user_id": users[i % len(users)],
        "item_id": item,
        "event_id": f"soak-{run_tag}-{i}",
    }
    return "POST", "/api/v1/interactions", {"interactions": [row]}


def run(args, base_url: str, token: str, master: int | None) -> dict:
    probe = Client(base_url, token)
    users = read_ids(probe, "/api/v1/users", "user_id")
    items = read_ids(probe, "/api/v1/items", "item_id")
    n = int(args.rate * args.duration)
    kinds = plan(n, seed=args.seed)
    run_tag = f"{int(time.time())}-{os.getpid()}"
    results: list[tuple[str, int, float] | None] = [None] * n
    counter = itertools.count()
    rss_start = worker_rss(master)
    t0 = time.perf_counter() + 1.0
    give_up = t0 + args.duration + 60

    def worker() -> None:
        client = Client(base_url, token)
        while True:
            i = next(counter)
            if i >= n or time.perf_counter() > give_up:
                break
            scheduled = t0 + i / args.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            status, _ = client.call(*request_for(kinds[i], i, users, items, run_tag))
            results[i] = (kinds[i], status, time.perf_counter() - scheduled)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    minutes_done = 0
    while any(t.is_alive() for t in threads):
        time.sleep(1.0)
        minute = int((time.perf_counter() - t0) // 60)
        if minute > minutes_done:  # each minute as it ends (its late answers still to come)
            for m in range(minutes_done, minute):
                print_minute(minute_stats(results, m, args.rate), live=True)
            minutes_done = minute
    rss_end = worker_rss(master)
    summary = summarize(args, results, n, rss_start, rss_end)
    print("per minute of scheduled time, every answer in:")
    for row in summary["per_minute"]:
        print_minute(row)
    return summary


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))] * 1000, 2)


def minute_stats(results, minute: int, rate: float) -> dict:
    lo, hi = int(minute * 60 * rate), int((minute + 1) * 60 * rate)
    rows = [r for r in results[lo:hi] if r is not None]
    errors = Counter(str(r[1]) for r in rows if not 200 <= r[1] < 300)
    latencies = [r[2] for r in rows]
    return {
        "minute": minute + 1,
        "requests": len(rows),
        "p50_ms": _pct(latencies, 50),
        "p99_ms": _pct(latencies, 99),
        "errors_by_status": dict(errors),
    }


def print_minute(row: dict, *, live: bool = False) -> None:
    if not row["requests"]:
        return
    print(
        f"{'(live) ' if live else ''}minute {row['minute']:>3}: {row['requests']} answered, "
        f"p50 {row['p50_ms']} ms, "
        f"p99 {row['p99_ms']} ms, errors {row['errors_by_status'] or 0}",
        flush=True,
    )


def summarize(args, results, n, rss_start, rss_end) -> dict:
    done = [r for r in results if r is not None]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, _, latency in done:
        by_kind[kind].append(latency)
    errors = Counter(str(r[1]) for r in done if not 200 <= r[1] < 300)
    per_minute = [minute_stats(results, m, args.rate) for m in range(int(-(-args.duration // 60)))]
    total_start, total_end = sum(rss_start.values()), sum(rss_end.values())
    return {
        "benchmark": "soak",
        "rate": args.rate,
        "duration_s": args.duration,
        "mix": dict(MIX),
        "requests_planned": n,
        "requests_answered": len(done),
        "not_sent": n - len(done),
        "errors_by_status": dict(errors),
        "errors": sum(errors.values()) + n - len(done),
        "latency_ms": {
            "p50": _pct([r[2] for r in done], 50),
            "p99": _pct([r[2] for r in done], 99),
        },
        "by_kind": {
            k: {"requests": len(v), "p50_ms": _pct(v, 50), "p99_ms": _pct(v, 99)}
            for k, v in sorted(by_kind.items())
        },
        "per_minute": per_minute,
        "p99_ms_minutes_max": max((m["p99_ms"] or 0) for m in per_minute),
        "p99_ms_minutes_median": statistics.median([m["p99_ms"] or 0 for m in per_minute]),
        "worker_rss_mib": {
            "start": rss_start,
            "end": rss_end,
            "total_start": round(total_start, 1),
            "total_end": round(total_end, 1),
            "change_pct": round(100 * (total_end / total_start - 1), 1) if total_start else None,
            "same_processes": set(rss_start) == set(rss_end),
        },
        "load_average_end": os.getloadavg(),
    }


# ---------------------------------------------------------------------- self-hosting
def self_host(stack: ExitStack, args) -> tuple[str, str, int]:
    from http_load import warm_up
    from platform_setup import (
        bench_key,
        django_setup,
        ensure_quick_model,
        ensure_tenant,
        import_ml_latest_small,
    )
    from shared_host import shared_host_env

    env = shared_host_env()
    django_setup(env)
    from django.db import connections

    from m6rec.tenants.services import api_key_create

    tenant = ensure_tenant("bench-shared")
    import_ml_latest_small(tenant)
    ensure_quick_model(tenant)
    bench_key(tenant)  # (the recommend-only key of the other benchmarks)
    _, token = api_key_create(
        tenant=tenant, name="soak", scopes=["ingest", "recommend"], rate_limit="100000/s"
    )
    connections.close_all()
    server = stack.enter_context(Server(env, workers=args.workers, threads=1))
    users = [f"/api/v1/users/{u}/recommendations?k=10" for u in range(1, 50)]
    warm_up(server.port, users, {"Authorization": f"Bearer {token}"}, workers=args.workers)
    return f"http://127.0.0.1:{server.port}", token, server.proc.pid


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", default="http://127.0.0.1:8000")
    ap.add_argument("--api-key", default=os.environ.get("M6REC_API_KEY"))
    ap.add_argument("--web-pid", type=int, help="gunicorn master pid (worker RSS)")
    ap.add_argument("--web-pid-file", type=Path, help="file holding the gunicorn master pid")
    ap.add_argument("--rate", type=float, default=150.0, help="requests/s")
    ap.add_argument("--duration", type=float, default=600.0, help="seconds")
    ap.add_argument("--concurrency", type=int, default=24, help="client threads")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--self-host", action="store_true", help="own tenant and gunicorn")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)) + 1)
    ap.add_argument("--out", type=Path, default=REPO / "bench-results" / "soak.json")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with ExitStack() as stack:
        if args.self_host:
            base_url, token, master = self_host(stack, args)
        else:
            if not args.api_key:
                ap.error("--api-key (or M6REC_API_KEY) is required without --self-host")
            base_url, token = args.base_url, args.api_key
            master = args.web_pid
            if master is None and args.web_pid_file:
                master = int(args.web_pid_file.read_text().strip())
        print(
            f"soak: {args.rate:.0f} req/s for {args.duration:.0f} s against {base_url} "
            f"(mix {', '.join(f'{k} {w:.0%}' for k, w in MIX)})",
            flush=True,
        )
        result = run(args, base_url, token, master)
    rss = result["worker_rss_mib"]
    print(
        f"total: {result['requests_answered']}/{result['requests_planned']} answered, errors "
        f"{result['errors_by_status'] or 0} (not sent {result['not_sent']}); p50 "
        f"{result['latency_ms']['p50']} ms, p99 {result['latency_ms']['p99']} ms; worker RSS "
        f"{rss['total_start']} -> {rss['total_end']} MiB ({rss['change_pct']}%)",
        flush=True,
    )
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
