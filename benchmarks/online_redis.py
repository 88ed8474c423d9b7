"""The online-loop benchmark's third part (run from online_loop.py): impressions lost when the
impressions Redis restarts mid-run. The Redis is one this benchmark starts on a free loopback
port (:class:`OwnRedis`), never the shared one; it is stopped with ``SHUTDOWN NOSAVE`` (what it
held is gone, as after a crash of a cache without persistence) and started again while a
fixed-rate load runs and a beat-like thread moves Redis into the database every
``--db-flush`` seconds. Lost = items shown (counted by the client) − items counted in the
database afterwards.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import free_port

__all__ = ["OwnRedis", "redis_restart"]


class OwnRedis:
    """``redis-server`` on a free loopback port, no persistence; restartable."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            raise SystemExit("redis-server is not installed (Debian package redis-server)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="m6rec-bench-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        """Start and wait until it answers; returns the seconds it took."""
        t = time.perf_counter()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--logfile", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        while not self.ping():
            if self.proc.poll() is not None or time.perf_counter() - t > 10:
                raise SystemExit(f"redis-server on port {self.port} did not start")
            time.sleep(0.02)
        return time.perf_counter() - t

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop without saving (what it held is gone, as in a crash of a cache without
        persistence) and wait for the process to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"SHUTDOWN NOSAVE\r\n")
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def restart(self) -> float:
        """Stop and start again; returns the seconds it was unreachable."""
        t = time.perf_counter()
        self.stop()
        self.start()
        return time.perf_counter() - t

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _db_impressions(tenant) -> int:
    from django.db.models import Sum

    from m6rec.online.models import ImpressionCount

    return ImpressionCount.objects.filter(tenant=tenant).aggregate(n=Sum("impressions"))["n"] or 0


def redis_restart(args, server, redis_server: OwnRedis, tenant, paths, token) -> dict:
    """Fixed-rate load; the impressions Redis restarts at ``restart_at`` of the run."""
    from django.db import close_old_connections

    from m6rec.online import impressions

    time.sleep(2.5)  # earlier requests' counts leave the gunicorn workers' buffers (1 s)
    impressions.flush_to_database(tenant_ids=[tenant.pk])  # start from an empty Redis
    baseline = _db_impressions(tenant)
    stop = threading.Event()
    flushes: list[float] = []

    def beat() -> None:  # the beat task, every --db-flush seconds
        while not stop.wait(args.db_flush):
            try:
                impressions.flush_to_database(tenant_ids=[tenant.pk])
                flushes.append(time.perf_counter())
            except Exception as exc:  # noqa: BLE001 - Redis may be restarting
                print(f"  beat flush failed: {type(exc).__name__}: {exc}", flush=True)
            finally:
                close_old_connections()

    shown = [0]
    errors = [0]
    lock = threading.Lock()
    n = int(args.restart_rate * args.restart_duration)
    t0 = time.perf_counter() + 0.2
    counter = iter(range(n))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        headers = {"Authorization": f"Bearer {token}"}
        for i in counter:
            delay = t0 + i / args.restart_rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                conn.request("GET", paths[i % len(paths)], headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                if resp.status == 200:
                    with lock:
                        shown[0] += len(json.loads(body)["items"])
                else:
                    with lock:
                        errors[0] += 1
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                with lock:
                    errors[0] += 1
        conn.close()

    flusher = threading.Thread(target=beat, daemon=True)
    clients = [threading.Thread(target=client, daemon=True) for _ in range(8)]
    flusher.start()
    for c in clients:
        c.start()
    time.sleep(max(0.0, t0 + args.restart_duration * args.restart_at - time.perf_counter()))
    restarted_at = time.perf_counter()
    since_flush = restarted_at - (flushes[-1] if flushes else t0)
    pending = sum(v[0] for v in impressions.pending(tenant.pk).values())
    downtime = redis_server.restart()
    print(
        f"  restarted the impressions Redis at {restarted_at - t0:.1f} s ({since_flush:.1f} s "
        f"after the last database flush, {pending} impressions in Redis); unreachable for "
        f"{downtime * 1000:.0f} ms",
        flush=True,
    )
    for c in clients:
        c.join()
    time.sleep(3.0)  # the workers' buffers reach Redis (every M6REC_IMPRESSIONS_FLUSH_S = 1 s)
    stop.set()
    flusher.join()
    impressions.flush_to_database(tenant_ids=[tenant.pk])
    counted = _db_impressions(tenant) - baseline
    lost = shown[0] - counted
    elapsed = args.restart_duration
    result = {
        "requests": n,
        "rate": args.restart_rate,
        "errors": errors[0],
        "items_shown": shown[0],
        "items_counted": counted,
        "items_lost": lost,
        "lost_fraction": lost / shown[0] if shown[0] else 0.0,
        "in_redis_at_restart": pending,
        "seconds_since_last_db_flush": since_flush,
        "lost_seconds_of_traffic": lost / (shown[0] / elapsed) if shown[0] else 0.0,
        "redis_unreachable_ms": downtime * 1000,
        "db_flush_interval_s": args.db_flush,
    }
    print(
        f"Redis restart: {shown[0]} impressions shown, {counted} counted, {lost} lost "
        f"({result['lost_fraction']:.1%}; {result['lost_seconds_of_traffic']:.1f} s of traffic; "
        f"Redis held {pending} at the restart); request errors {errors[0]}",
        flush=True,
    )
    return result
