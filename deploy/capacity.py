#!/usr/bin/env python3
"""Capacity measurements against a running deployment (standard library only).

Measures, for docs/production.md's capacity table:
  - bulk import time (``manage.py import_interactions``) of a MovieLens ratings file,
  - API ingest throughput (``POST /api/v1/interactions``, 10,000 rows per request),
  - training time (``POST /api/v1/models/train`` until the run succeeds),
  - serving throughput and latency for ``GET /api/v1/users/{id}/recommendations`` (trained
    model) and ``GET /api/v1/popular``, as requests/s and requests per CPU-second of the web
    processes (gunicorn master + workers, read from /proc: "per core").

Every request loop is bounded in count and time and targets --base-url only (loopback).

    deploy/run-local.sh start     # with M6REC_API_KEY_RATE=1000000/min: no throttling
    python deploy/capacity.py --manage "deploy/run-local.sh manage" --web-pid-file var/run/web.pid
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RATINGS = (
    ROOT / "platform" / "m6rec" / "catalog" / "sample_data" / "ml-latest-small" / "ratings.csv"
)


def request(base, method, path, key, payload=None, timeout=60.0):
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def cpu_seconds(master_pid: int | None) -> float:
    """utime+stime of the master and its direct children (gunicorn workers), in seconds."""
    if not master_pid:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == master_pid or ppid == master_pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def load(base, key, paths, *, seconds, concurrency, max_requests, master_pid):
    """GET random paths from ``concurrency`` threads for ``seconds`` (or max_requests)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    counter = iter(range(max_requests))

    def worker():
        rng = random.Random()
        while time.monotonic() < stop_at:
            with lock:
                if next(counter, None) is None:
                    return
            started = time.perf_counter()
            status, _ = request(base, "GET", rng.choice(paths), key, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    cpu0, t0 = cpu_seconds(master_pid), time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.monotonic() - t0, cpu_seconds(master_pid) - cpu0
    ok = statuses.get(200, 0)
    latencies.sort()
    return {
        "requests": len(latencies),
        "ok": ok,
        "statuses": statuses,
        "seconds": round(wall, 2),
        "req_per_s": round(ok / wall, 1),
        "web_cpu_seconds": round(cpu, 2),
        "req_per_cpu_second": round(ok / cpu, 1) if cpu > 0 else None,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1)
        if len(latencies) >= 20
        else None,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base-url", default="http://127.0.0.1:8000")
    p.add_argument("--manage", default=f"{sys.executable} manage.py")
    p.add_argument("--ratings", type=Path, default=DEFAULT_RATINGS)
    p.add_argument("--domain", default="content")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--max-requests", type=int, default=20000)
    p.add_argument("--web-pid-file", type=Path, default=ROOT / "var" / "run" / "web.pid")
    p.add_argument("--train-timeout", type=float, default=1800.0)
    args = p.parse_args(argv)
    base = args.base_url.rstrip("/")
    manage = shlex.split(args.manage)
    master = int(args.web_pid_file.read_text()) if args.web_pid_file.exists() else None
    results: dict = {"cpus": os.cpu_count()}

    slug = f"cap-{uuid.uuid4().hex[:6]}"
    out = subprocess.run(
        [*manage, "create_tenant", slug, "--name", slug, "--domain", args.domain],
        capture_output=True,
        text=True,
        check=True,
    )
    key = out.stdout.strip().splitlines()[-1]

    started = time.monotonic()
    subprocess.run(
        [*manage, "import_interactions", str(args.ratings), "--tenant", slug, "--no-progress"],
        check=True,
        capture_output=True,
    )
    rows = sum(1 for _ in args.ratings.open()) - 1
    results["import"] = {"rows": rows, "seconds": round(time.monotonic() - started, 1)}
    print("import", results["import"], flush=True)

    users = sorted({ln.split(",")[0] for ln in args.ratings.open().readlines()[1:]})
    items = sorted({ln.split(",")[1] for ln in args.ratings.open().readlines()[1:]})
    rng = random.Random(42)
    batch = [
        {
            "user_id": rng.choice(users),
            "item_id": rng.choice(items),
            "event_id": f"cap-{n}",
        }
        for n in range(10_000)
    ]
    t0 = time.monotonic()
    status, body = request(base, "POST", "/api/v1/interactions", key, {"interactions": batch})
    ingest_seconds = time.monotonic() - t0
    results["api_ingest"] = {
        "status": status,
        "rows": len(batch),
        "seconds": round(ingest_seconds, 2),
        "rows_per_s": round(len(batch) / ingest_seconds),
    }
    print("api ingest", results["api_ingest"], flush=True)

    t0 = time.monotonic()
    status, body = request(base, "POST", "/api/v1/models/train", key, {})
    run_id = json.loads(body)["id"]
    final = None
    while time.monotonic() - t0 < args.train_timeout:
        _, body = request(base, "GET", f"/api/v1/models/runs/{run_id}", key)
        final = json.loads(body)
        if final.get("status") in {"succeeded", "failed", "cancelled"}:
            break
        time.sleep(2)
    results["training"] = {
        "interactions": rows + len(batch),
        "users": len(users),
        "items": len(items),
        "status": final and final.get("status"),
        "seconds": round(time.monotonic() - t0, 1),
    }
    print("training", results["training"], flush=True)

    user_paths = [f"/api/v1/users/{u}/recommendations?k=10" for u in users]
    for _ in range(min(50, len(user_paths))):  # warm the model caches of every worker
        request(base, "GET", rng.choice(user_paths), key)
    for name, paths in (
        ("serving_model", user_paths),
        ("serving_popular", ["/api/v1/popular?k=10"]),
    ):
        results[name] = load(
            base,
            key,
            paths,
            seconds=args.seconds,
            concurrency=args.concurrency,
            max_requests=args.max_requests,
            master_pid=master,
        )
        print(name, results[name], flush=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
