"""The simulator's HTTP client: the standard library's :mod:`http.client`, one keep-alive
connection per thread, ``Retry-After`` honoured on 429 and 503."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from typing import Any

__all__ = ["ApiClient", "ApiError"]


class ApiError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


class ApiClient:
    """One keep-alive connection to ``base_url`` (one per thread); 429 and 503 are retried
    after ``Retry-After`` (at most ``retries`` times), connection errors after a reconnect."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0, retries: int = 5):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.timeout, self.retries = timeout, retries
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = (
                http.client.HTTPSConnection
                if self.scheme == "https"
                else http.client.HTTPConnection
            )
            self._conn = cls(self.host, self.port, timeout=self.timeout)
        return self._conn

    def reachable(self, path: str = "/healthz") -> str | None:
        """None when ``path`` answers 200 at once (no retries), else why not."""
        try:
            conn = self._connection()
            conn.request("GET", self.prefix + path, headers={"Accept": "application/json"})
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            self.close()
        return None if response.status == 200 else f"HTTP {response.status}"

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(self.retries + 1):
            try:
                conn = self._connection()
                conn.request(method, self.prefix + path, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                if response.will_close:
                    self.close()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == self.retries:
                    raise
                time.sleep(min(0.2 * 2**attempt, 5.0))
                continue
            if response.status in (429, 503) and attempt < self.retries:
                time.sleep(_retry_after(response.getheader("Retry-After"), attempt))
                continue
            text = raw.decode("utf-8", "replace")
            if response.status >= 400:
                raise ApiError(response.status, text)
            return json.loads(text) if text else {}
        raise AssertionError("unreachable")

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return self.request("GET", f"{path}?{query}" if query else path)

    def post(self, path: str, body: Any) -> dict[str, Any]:
        return self.request("POST", path, body)


def _retry_after(value: str | None, attempt: int) -> float:
    try:
        return min(max(float(value), 0.05), 30.0) if value else min(0.2 * 2**attempt, 5.0)
    except ValueError:
        return min(0.2 * 2**attempt, 5.0)
