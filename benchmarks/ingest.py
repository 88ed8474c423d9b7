"""Ingestion throughput through the batch API (issue 2): gunicorn on loopback, production
settings (DEBUG off, PostgreSQL, Redis), ``POST /api/v1/interactions``.

    python benchmarks/ingest.py                               # defaults below
    python benchmarks/ingest.py --workers 3 --rows 200000 --json bench-results/ingest.json

Scenarios, each for batches of 1,000 and 10,000 interactions (every row has an event id, so
the idempotency check is always on the path):

* ``precreated``: users and items are upserted first (not timed); interactions name them.
* ``on_the_fly``: every batch names users the tenant has never seen (created on the fly) and
  items from a pool that is created as the batches first mention them.

Request bodies are built and JSON-encoded before the clock starts; ``--concurrency`` client
threads keep ``--workers`` gunicorn processes busy over keep-alive connections. Prints
interactions/s per scenario and writes JSON. Target: at least 20,000 interactions/s on 2 cores.
Environment overrides: BENCH_DATABASE_URL (default database ``m6rec_bench``), BENCH_REDIS_URL.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform as stdlib_platform
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from harness import DEFAULT_DB, PLATFORM, REPO, Server, ensure_database, write_json

TARGET = 20_000


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "m6rec.settings.production",
            "DJANGO_SECRET_KEY": env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": env.get("BENCH_DATABASE_URL", DEFAULT_DB),
            "REDIS_URL": env.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "GUNICORN_LOG_LEVEL": "warning",
            "M6REC_API_KEY_RATE": "1000000/min",  # measure ingestion, not the throttle
        }
    )
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PLATFORM), str(REPO), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    return env


def setup_tenant(env: dict[str, str], slug: str) -> str:
    """Migrate the bench database, create a fresh tenant; returns an all-scopes API key."""
    os.environ.update(env)
    for p in (str(REPO), str(PLATFORM)):
        if p not in sys.path:
            sys.path.insert(0, p)
    ensure_database(env["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from m6rec.tenants.services import api_key_create, tenant_create

    tenant = tenant_create(slug=slug, name=slug, domain="ecommerce")
    return api_key_create(tenant=tenant, name="bench")[1]


def build_batches(scenario: str, batch_size: int, rows: int) -> tuple[list[bytes], list[bytes]]:
    """``(setup bodies, timed bodies)``: JSON bodies ready to send."""
    tag = f"{scenario[:2]}{batch_size}"
    n_batches = max(1, rows // batch_size)
    users_per_batch = max(1, batch_size // 10)
    item_pool = 20_000
    setup: list[bytes] = []
    timed: list[bytes] = []
    ts0 = 1_700_000_000
    if scenario == "precreated":
        users = [f"{tag}-u{n}" for n in range(n_batches * users_per_batch)]
        items = [f"{tag}-i{n}" for n in range(item_pool)]
        for start in range(0, len(users), 10_000):
            chunk = [{"user_id": u} for u in users[start : start + 10_000]]
            setup.append(("/api/v1/users", json.dumps({"users": chunk}).encode()))
        for start in range(0, len(items), 10_000):
            chunk = [{"item_id": i, "categories": ["c"]} for i in items[start : start + 10_000]]
            setup.append(("/api/v1/items", json.dumps({"items": chunk}).encode()))
    for b in range(n_batches):
        body = []
        for k in range(batch_size):
            n = b * batch_size + k
            body.append(
                {
                    "user_id": f"{tag}-u{b * users_per_batch + k % users_per_batch}",
                    "item_id": f"{tag}-i{(n * 7919) % item_pool}",
                    "type": "view" if k % 4 else "purchase",
                    "value": 1.0,
                    "timestamp": ts0 + n,
                    "event_id": f"{tag}-e{n}",
                }
            )
        timed.append(json.dumps({"interactions": body}).encode())
    return setup, timed


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.local = threading.local()

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST over this thread's keep-alive connection; reconnects once if the server
        closed it (safe: every request is idempotent)."""
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.local.conn = conn
            try:
                conn.request("POST", path, body, self.headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(gunicorn_pid: int, db_name: str) -> dict[int, float]:
    """CPU seconds so far of the gunicorn workers and of the PostgreSQL backends serving
    ``db_name`` (process titles name the database), by pid. Linux only; {} elsewhere."""
    out: dict[int, float] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return out
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if ppid == gunicorn_pid or pid == gunicorn_pid or f" {db_name} " in f" {title} ":
            out[pid] = _proc_cpu(pid)
    return out


def run_scenario(client: Client, bodies: list[bytes], *, concurrency: int, cpu=None) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    created = duplicate = 0
    lock = threading.Lock()
    queue = list(enumerate(bodies))

    def worker() -> None:
        nonlocal created, duplicate
        while True:
            with lock:
                if not queue:
                    return
                _, body = queue.pop(0)
            t0 = time.perf_counter()
            status, payload = client.post("/api/v1/interactions", body)
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors.append(f"{status}: {payload[:300]!r}")
                else:
                    result = json.loads(payload)
                    created += result["created"]
                    duplicate += result["duplicate"]

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    cpu_before = cpu() if cpu else {}
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu_after = cpu() if cpu else {}
    cpu_s = sum(v - cpu_before.get(pid, 0.0) for pid, v in cpu_after.items())
    lat = sorted(latencies)
    return {
        "requests": len(bodies),
        "interactions_created": created,
        "duplicates": duplicate,
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(wall, 3),
        "interactions_per_s": round(created / wall, 1) if wall else None,
        # CPU the server side (gunicorn workers + PostgreSQL backends) spent per interaction,
        # and what that allows on 2 otherwise idle cores: a load-independent figure.
        "server_cpu_s": round(cpu_s, 3),
        "server_cpu_us_per_interaction": round(1e6 * cpu_s / created, 1) if created else None,
        "capacity_on_2_cores_per_s": round(2 * created / cpu_s) if cpu_s else None,
        "latency_ms": {
            "p50": round(1000 * statistics.median(lat), 1) if lat else None,
            "p95": round(1000 * lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
            "max": round(1000 * lat[-1], 1) if lat else None,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--concurrency", type=int, default=None, help="client threads")
    parser.add_argument("--rows", type=int, default=200_000, help="interactions per scenario")
    parser.add_argument("--batch-sizes", default="1000,10000")
    parser.add_argument("--scenarios", default="precreated,on_the_fly")
    parser.add_argument("--json", default=str(REPO / "bench-results" / "ingest.json"))
    args = parser.parse_args(argv)
    concurrency = args.concurrency or args.workers * args.threads + 1

    env = bench_env()
    slug = f"bench-ingest-{int(time.time())}"
    token = setup_tenant(env, slug)
    results = []
    with Server(
        env, workers=args.workers, threads=args.threads, ready_path="/api/schema/"
    ) as server:
        client = Client(server.port, token)
        for scenario in args.scenarios.split(","):
            for batch_size in map(int, args.batch_sizes.split(",")):
                setup, timed = build_batches(scenario, batch_size, args.rows)
                for path, body in setup:
                    status, payload = client.post(path, body)
                    if status != 200:
                        raise SystemExit(f"set-up {path} failed: {status} {payload[:300]!r}")
                client.post("/api/v1/interactions", timed[0])  # warm every code path once
                db_name = urllib.parse.urlsplit(env["DATABASE_URL"]).path.lstrip("/")
                result = run_scenario(
                    client,
                    timed[1:],
                    concurrency=concurrency,
                    cpu=lambda db_name=db_name: server_cpu(server.proc.pid, db_name),
                )
                result.update({"scenario": scenario, "batch_size": batch_size})
                results.append(result)
                print(
                    f"{scenario:>11} batch {batch_size:>6}: "
                    f"{result['interactions_per_s']:>10,.0f} interactions/s  "
                    f"({result['interactions_created']:,} in {result['seconds']} s, "
                    f"p50 {result['latency_ms']['p50']} ms, p95 {result['latency_ms']['p95']} "
                    f"ms, errors {result['errors']}; server CPU "
                    f"{result['server_cpu_us_per_interaction']} µs/interaction -> "
                    f"{result['capacity_on_2_cores_per_s']} /s on 2 idle cores)",
                    flush=True,
                )
    report = {
        "benchmark": "ingest",
        "target_interactions_per_s": TARGET,
        "meets_target": all(r["interactions_per_s"] >= TARGET for r in results),
        "meets_target_by_cpu_capacity": all(
            (r["capacity_on_2_cores_per_s"] or 0) >= TARGET for r in results
        ),
        "tenant": slug,
        "gunicorn": {"workers": args.workers, "threads": args.threads},
        "client_concurrency": concurrency,
        "rows_per_scenario": args.rows,
        "machine": {
            "cpus": os.cpu_count(),
            "python": stdlib_platform.python_version(),
            "load_average_at_end": os.getloadavg(),
        },
        "results": results,
    }
    out = Path(args.json)
    write_json(out, report)
    print(f"wrote {out}")
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
