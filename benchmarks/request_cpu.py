"""CPU per request, measured in-process (Django test client, the benchmark's settings and data).

Noisy neighbours on a shared machine stretch wall-clock latency, not CPU time, so these figures
give the capacity the cores would have to themselves: cores / (app + database CPU).
"""

from __future__ import annotations

import os
import time


def host_busy_s() -> float:
    """CPU seconds the whole host has been busy (all cores; user, system, interrupts), from
    /proc/stat: a load's cost over every process that serves it (gunicorn, PostgreSQL, Redis,
    the load generator), without the time other virtual machines took (steal)."""
    with open("/proc/stat") as fh:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, fh.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def backend_cpu_s() -> float | None:
    """CPU seconds used so far by this process's PostgreSQL backend (local server only)."""
    from django.db import connection

    try:
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, AttributeError, ValueError, IndexError):
        return None


def bench_client(token: str):
    """A Django test client that authenticates with ``token``."""
    from django.test import Client

    return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")


def timed_requests(
    client, paths: list[str], n: int, *, start: int = 0
) -> tuple[float, float | None, float]:
    """``n`` GETs through ``client``, request ``i`` asking for ``paths[(start + i) * 7 % len]``:
    (app CPU s of this process, CPU s of its PostgreSQL backend or None, wall s). A response
    other than 200 stops the benchmark."""
    cpu0, db0, wall0 = time.process_time(), backend_cpu_s(), time.perf_counter()
    for i in range(n):
        response = client.get(paths[(start + i) * 7 % len(paths)])
        if response.status_code != 200:
            raise SystemExit(f"in-process request failed: HTTP {response.status_code}")
    cpu1, db1, wall1 = time.process_time(), backend_cpu_s(), time.perf_counter()
    db = db1 - db0 if db0 is not None and db1 is not None else None
    return cpu1 - cpu0, db, wall1 - wall0


def cpu_per_request(token: str, paths: list[str], *, n: int = 300) -> dict:
    """App and database CPU ms per request of user recommendations (``paths``) and of
    ``/popular``, and the requests per second all cores could serve at that cost."""
    client = bench_client(token)
    client.get(paths[0])
    out = {}
    for name, chosen in (("user_recommendations", paths), ("popular", ["/api/v1/popular?k=10"])):
        app, db, wall = timed_requests(client, chosen, n)
        row = {"app_cpu_ms": app / n * 1000, "wall_ms": wall / n * 1000}
        if db is not None:
            row["db_cpu_ms"] = db / n * 1000
            total = row["app_cpu_ms"] + row["db_cpu_ms"]
            row["capacity_req_s_on_all_cores"] = (os.cpu_count() or 1) * 1000 / total
        out[name] = row
    return out


def app_cpu_ms(token: str, paths: list[str], n: int) -> float:
    """App CPU ms per request (no database figure)."""
    client = bench_client(token)
    client.get(paths[0])
    app, _, _ = timed_requests(client, paths, n)
    return app / n * 1000
