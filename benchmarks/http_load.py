"""HTTP load against a benchmark's gunicorn on loopback: warm-up until every worker holds the
model, maximum throughput with ``wrk`` (Debian package ``wrk``; a Lua script rotates the paths
over keep-alive connections), open-loop load at a fixed arrival rate (latency from each
request's scheduled time: no coordinated omission), requests one after another over one
connection, latency percentiles.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time


# ---------------------------------------------------------------------- warm-up
def warm_up(port: int, paths: list[str], headers: dict[str, str], *, workers: int) -> None:
    """New connections spread over the workers until every one has loaded the model."""
    deadline = time.monotonic() + 180
    fast_in_a_row = 0
    i = 0
    while time.monotonic() < deadline and fast_in_a_row < 5 * workers:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        started = time.perf_counter()
        conn.request("GET", paths[i % len(paths)], headers={**headers, "Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status != 200:
            raise SystemExit(f"warm-up request failed: HTTP {resp.status}")
        fast_in_a_row = fast_in_a_row + 1 if time.perf_counter() - started < 1.0 else 0
        i += 1


# ---------------------------------------------------------------------- load generators
WRK_LUA = r"""
local paths = {%(paths)s}
local auth = "%(auth)s"
local n = 0
local offset = 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function request()
  n = n + 1
  local p = paths[((n + offset) %% #paths) + 1]
  return wrk.format("GET", p, {["Authorization"] = auth})
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\"requests\": %%d, \"duration_us\": %%d, \"bytes\": %%d, " ..
    "\"errors\": {\"connect\": %%d, \"read\": %%d, \"write\": %%d, \"status\": %%d, " ..
    "\"timeout\": %%d}, \"latency_ms\": {\"mean\": %%.3f, \"p50\": %%.3f, \"p90\": %%.3f, " ..
    "\"p99\": %%.3f, \"max\": %%.3f}}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean / 1000, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def run_wrk(port: int, paths: list[str], token: str, *, connections: int, duration: int) -> dict:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    script = WRK_LUA % {
        "paths": ", ".join(json.dumps(p) for p in paths),
        "auth": f"Bearer {token}",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(
            [
                wrk,
                "-t2",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "10s",
                "-s",
                fh.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(fh.name)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    result = json.loads(line[len("WRKJSON ") :])
    result["requests_per_s"] = result["requests"] / (result["duration_us"] / 1e6)
    result["error_count"] = sum(result["errors"].values())
    result["connections"] = connections
    return result


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    s = sorted(values)

    def pct(p: float) -> float:
        return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))] * 1000

    return {
        "mean": statistics.fmean(s) * 1000,
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "max": s[-1] * 1000,
    }


def run_fixed_rate(
    port: int, paths: list[str], token: str, *, rate: float, duration: float, concurrency: int
) -> dict:
    """Open-loop load at ``rate`` requests/s; latency from each request's scheduled time."""
    n = int(rate * duration)
    headers = {"Authorization": f"Bearer {token}"}
    results: list[tuple[int, float, float] | None] = [None] * n
    counter = itertools.count()
    t0 = time.perf_counter() + 0.5
    give_up = t0 + duration + 30  # an overloaded server: stop instead of queueing for minutes

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            i = next(counter)
            if i >= n or time.perf_counter() > give_up:
                break
            scheduled = t0 + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            started = time.perf_counter()
            try:
                conn.request("GET", paths[i % len(paths)], headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except (OSError, http.client.HTTPException):
                status = -1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            ended = time.perf_counter()
            results[i] = (status, ended - scheduled, ended - started)
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [r for r in results if r is not None]
    elapsed = max(r[1] for r in done) + (n - 1) / rate if done else 0.0
    errors = sum(1 for r in done if r[0] != 200)
    return {
        "target_rate": rate,
        "requests": len(done),
        "not_sent": n - len(done),
        "achieved_rate": len(done) / elapsed if elapsed else 0.0,
        "errors": errors,
        "latency_ms": percentiles([r[1] for r in done]),
        "service_time_ms": percentiles([r[2] for r in done]),
        "concurrency": concurrency,
    }


def get_json(port: int, path: str, token: str, *, timeout: float = 30) -> dict:
    """One GET on a connection of its own; a response other than 200 stops the benchmark."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        raise SystemExit(
            f"HTTP {resp.status} for GET {path}: {raw[:500]!r}; check the server log above "
            "(gunicorn's stderr) and the tenant's active version"
        )
    return json.loads(raw)


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
