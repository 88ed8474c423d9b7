"""A real gunicorn (deploy/gunicorn.conf.py, production settings) answering raw HTTP (issue 14).

Over-long URLs and over-size chunked bodies get the API's JSON errors (414, 413), not gunicorn's
text/html page or an empty body; the access log stays off as docs/production.md says; the
``django.request`` log lines carry the request id.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "gunicorn.conf.py"

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.port = _free_port()
        self.log = tmp_path / "web.log"
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GUNICORN_", "PROMETHEUS_")) and key != "WEB_CONCURRENCY"
        }
        self.env = {
            **base,
            "DJANGO_SETTINGS_MODULE": "m6rec.settings.production",
            "DJANGO_SECRET_KEY": "gunicorn-http-test-" + "x" * 40,
            "DATABASE_URL": os.environ.get(
                "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/m6rec"
            ),
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "False",
            "M6REC_GC_FREEZE": "False",
            "M6REC_MEDIA_ROOT": str(tmp_path / "media"),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(CONF), "m6rec.wsgi:application"],
            cwd=ROOT / "platform",
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log.read_text()[-4000:])
            try:
                status, _, _ = self.request("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz:\n" + self.log.read_text()[-4000:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method: str, path: str, body=None, headers=None):
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def log_records(self) -> list[dict]:
        records = []
        for line in self.log.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    server = Gunicorn(tmp_path_factory.mktemp("gunicorn-http"))
    server.start()
    yield server
    server.stop()


def json_error(status: int, headers: dict, body: bytes, expected: int, code: str) -> dict:
    assert status == expected, body[:300]
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code and error["message"]
    return error


def test_a_10000_character_url_is_a_json_414(gunicorn):
    path = "/api/v1/items/" + "a" * 10_000
    error = json_error(*gunicorn.request("GET", path), 414, "uri_too_long")
    assert error["details"]["max_bytes"] == 8190
    # Just under the limit the URL reaches the API (an unauthenticated request here).
    status, headers, body = gunicorn.request("GET", "/api/v1/items?q=" + "a" * 8000)
    json_error(status, headers, body, 401, "not_authenticated")


def _chunked(total: int, piece: int = 1 << 20):
    sent = 0
    while sent < total:
        size = min(piece, total - sent)
        yield b"x" * size
        sent += size


def test_an_oversize_chunked_body_is_a_json_413(gunicorn):
    conn = gunicorn.connection()
    try:
        conn.putrequest("POST", "/api/v1/interactions")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for part in _chunked(17 * 1024 * 1024):
                conn.send(b"%x\r\n%s\r\n" % (len(part), part))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the whole body was sent
        response = conn.getresponse()
        status, headers, body = response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()
    error = json_error(status, headers, body, 413, "request_too_large")
    assert error["details"]["max_bytes"] == 16 * 1024 * 1024


def _records_of(gunicorn, logger: str, until=lambda records: bool(records)) -> list[dict]:
    """The log records of ``logger``, once ``until(records)`` holds (at most 5 s: then as
    they are)."""
    deadline = time.monotonic() + 5
    found: list[dict] = []
    while time.monotonic() < deadline:
        found = [r for r in gunicorn.log_records() if r.get("logger") == logger]
        if until(found):
            return found
        time.sleep(0.1)
    return found


def test_django_request_lines_carry_the_request_id(gunicorn):
    request_id = "battery-item8-0001"
    status, headers, _ = gunicorn.request(
        "GET", "/api/v1/no-such-endpoint", headers={"X-Request-ID": request_id}
    )
    assert status == 404 and headers["X-Request-ID"] == request_id
    mine = _records_of(gunicorn, "django.request")
    assert mine, gunicorn.log.read_text()[-2000:]
    assert mine[-1]["request_id"] == request_id


def test_access_log_is_off_as_documented(gunicorn):
    for _ in range(3):
        assert gunicorn.request("GET", "/api/v1/items")[0] == 401
    assert gunicorn.request("GET", "/healthz")[0] == 200
    assert _records_of(gunicorn, "django.request")  # the application's lines are written
    assert not [r for r in gunicorn.log_records() if r.get("logger") == "gunicorn.access"]


def test_access_log_when_asked_for_carries_the_request_id(tmp_path):
    server = Gunicorn(tmp_path, GUNICORN_ACCESS_LOG="1")
    server.start()
    try:
        status, _, _ = server.request("GET", "/healthz", headers={"X-Request-ID": "acc-1"})
        assert status == 200
        # the start-up probes' lines come first, ours when its worker writes it
        ours = lambda rs: any(r.get("request_id") == "acc-1" for r in rs)  # noqa: E731
        lines = _records_of(server, "gunicorn.access", until=ours)
    finally:
        server.stop()
    assert "acc-1" in [r["request_id"] for r in lines if "/healthz" in r["message"]]
