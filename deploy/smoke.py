#!/usr/bin/env python3
"""Smoke test of a running M6-Rec deployment (standard library only).

Steps: /healthz, /readyz, /metrics, request-id propagation, create a tenant (``manage.py
create_tenant`` prints the API key on its last line; or pass ``--api-key``), ingest a small
batch of items, users and interactions, then train (``POST /api/v1/models/train``, poll
``GET /api/v1/models/runs/{id}``) and recommend (``GET /api/v1/users/{id}/recommendations``).

An endpoint that is not deployed (404 on its route) is reported as "not available yet"; that
is a failure only with ``--require-training`` / ``--require-recommendations``.

    python deploy/smoke.py --base-url http://127.0.0.1:8000 --manage "python manage.py"
    deploy/run-local.sh smoke --require-training

Exit status: 0 all required steps passed, 1 a step failed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

# Item properties each built-in domain requires (the smoke data must pass its schema).
ITEM_PROPERTIES = {
    "content": {"genres": ["smoke"]},
    "ecommerce": {"price": 9.99},
    "social": {"kind": "article"},
}
TERMINAL_OK = {"succeeded", "success", "completed", "done"}
TERMINAL_FAILED = {"failed", "error", "cancelled", "canceled", "rejected"}


class StepFailed(Exception):
    pass


class NotAvailable(Exception):
    """The route is not deployed (404 on the route itself)."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        try:
            return json.loads(self.body.decode() or "null")
        except ValueError as exc:
            raise StepFailed(f"not JSON (HTTP {self.status}): {self.body[:200]!r}") from exc


@dataclass
class Smoke:
    base_url: str
    timeout: float = 10.0
    api_key: str | None = None
    results: list[tuple[str, str, str]] = field(default_factory=list)

    def request(self, method: str, path: str, payload=None, headers=None) -> Response:
        data = None if payload is None else json.dumps(payload).encode()
        all_headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        if self.api_key and path.startswith("/api/"):
            all_headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(
            self.base_url.rstrip("/") + path, data=data, method=method, headers=all_headers
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                return Response(
                    resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
                )
        except urllib.error.HTTPError as err:
            return Response(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            raise StepFailed(f"{method} {path}: {err}") from err

    def expect(self, resp: Response, *codes: int, what: str) -> Response:
        if resp.status == 404 and 404 not in codes:
            raise NotAvailable(f"{what}: HTTP 404")
        if resp.status not in codes:
            raise StepFailed(f"{what}: HTTP {resp.status} (expected {codes}): {resp.body[:300]!r}")
        return resp

    def step(self, name: str, fn, *, required: bool = True):
        try:
            detail = fn() or ""
        except NotAvailable as exc:
            status = "FAIL" if required else "SKIP"
            self.results.append((status, name, f"not available yet ({exc})"))
            print(f"{status} {name}: not available yet ({exc})", flush=True)
            return None
        except StepFailed as exc:
            self.results.append(("FAIL", name, str(exc)))
            print(f"FAIL {name}: {exc}", flush=True)
            return None
        self.results.append(("OK", name, str(detail)))
        print(f"OK   {name}{': ' + str(detail) if detail else ''}", flush=True)
        return detail or True


def run(args: argparse.Namespace) -> int:
    smoke = Smoke(args.base_url, timeout=args.http_timeout, api_key=args.api_key)
    suffix = uuid.uuid4().hex[:8]
    user_ids = [f"u{i}" for i in range(args.users)]
    item_ids = [f"i{i}" for i in range(args.items)]

    def healthz():
        body = smoke.expect(smoke.request("GET", "/healthz"), 200, what="healthz").json()
        if body.get("status") != "ok":
            raise StepFailed(f"healthz body {body}")

    def readyz():
        body = smoke.expect(smoke.request("GET", "/readyz"), 200, what="readyz").json()
        checks = body["checks"].items()
        return ", ".join(f"{k}={'ok' if v.get('ok') else 'FAIL'}" for k, v in checks)

    def request_id():
        rid = f"smoke-{suffix}"
        resp = smoke.request("GET", "/healthz", headers={"X-Request-ID": rid})
        if resp.headers.get("x-request-id") != rid:
            raise StepFailed(f"X-Request-ID not echoed: {resp.headers.get('x-request-id')!r}")

    def metrics(after_traffic: bool = False):
        resp = smoke.expect(smoke.request("GET", "/metrics"), 200, what="metrics")
        text = resp.body.decode()
        # Histograms with labels appear after their first observation (probes are not timed).
        wanted = "m6rec_http_request_duration_seconds" if after_traffic else "m6rec_"
        if wanted not in text:
            raise StepFailed(f"{wanted} missing from /metrics")

    def create_tenant():
        if smoke.api_key:
            return "using --api-key"
        slug = f"smoke-{suffix}"
        cmd = [
            *shlex.split(args.manage),
            "create_tenant",
            slug,
            "--name",
            f"Smoke {suffix}",
            "--domain",
            args.domain,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise StepFailed(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-800:]}")
        lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
        if not lines:
            raise StepFailed("create_tenant printed no API key")
        smoke.api_key = lines[-1]
        return slug

    def ingest():
        props = ITEM_PROPERTIES.get(args.domain, {})
        items = [
            {"item_id": i, "properties": dict(props), "categories": [f"c{n % 3}"]}
            for n, i in enumerate(item_ids)
        ]
        smoke.expect(
            smoke.request("POST", "/api/v1/items", {"items": items}), 200, 201, what="POST items"
        )
        users = [{"user_id": u, "properties": {}} for u in user_ids]
        smoke.expect(
            smoke.request("POST", "/api/v1/users", {"users": users}), 200, 201, what="POST users"
        )
        interactions = []
        for n, u in enumerate(user_ids):
            for k in range(args.per_user):
                item = item_ids[(n * 7 + k * 3 + (k * k)) % len(item_ids)]
                interactions.append({"user_id": u, "item_id": item, "event_id": f"e-{u}-{k}"})
        smoke.expect(
            smoke.request("POST", "/api/v1/interactions", {"interactions": interactions}),
            200,
            201,
            202,
            what="POST interactions",
        )
        # Idempotent by event id: the same batch again must be accepted.
        smoke.expect(
            smoke.request("POST", "/api/v1/interactions", {"interactions": interactions}),
            200,
            201,
            202,
            what="POST interactions (replay)",
        )
        return f"{len(items)} items, {len(users)} users, {len(interactions)} interactions"

    def train():
        resp = smoke.expect(
            smoke.request("POST", "/api/v1/models/train", {}),
            200,
            201,
            202,
            what="POST models/train",
        )
        run_id = resp.json().get("id")
        if run_id is None:
            raise StepFailed(f"train response has no id: {resp.body[:300]!r}")
        started = time.monotonic()
        deadline = started + args.train_timeout
        last = None
        while time.monotonic() < deadline:
            body = smoke.expect(
                smoke.request("GET", f"/api/v1/models/runs/{run_id}"),
                200,
                what="GET models/runs/{id}",
            ).json()
            status = str(body.get("status", "")).lower()
            if status in TERMINAL_OK:
                return f"run {run_id} {status} in {time.monotonic() - started:.0f}s"
            if status in TERMINAL_FAILED:
                raise StepFailed(f"run {run_id} ended {status}: {json.dumps(body)[:500]}")
            if body != last:
                print(
                    f"     run {run_id}: {status} {body.get('stage', '')} "
                    f"{body.get('progress', '')}",
                    flush=True,
                )
                last = body
            time.sleep(1.0)
        raise StepFailed(f"run {run_id} not finished after {args.train_timeout}s")

    def recommend():
        resp = smoke.expect(
            smoke.request(
                "GET",
                f"/api/v1/users/{user_ids[0]}/recommendations?k=5",
                headers={"X-Request-ID": f"smoke-rec-{suffix}"},
            ),
            200,
            what="GET users/{id}/recommendations",
        )
        body = resp.json()
        for key in ("items", "strategy", "model_version", "request_id"):
            if key not in body:
                raise StepFailed(f"recommendations response lacks {key!r}: {body}")
        if body["request_id"] != f"smoke-rec-{suffix}":
            raise StepFailed(f"request_id {body['request_id']!r} is not the one sent")
        if args.require_training and body["strategy"] != "model":
            raise StepFailed(f"served strategy {body['strategy']!r} after training, not 'model'")
        return (
            f"{len(body['items'])} items, strategy={body['strategy']}, "
            f"model_version={body['model_version']}"
        )

    smoke.step("healthz", healthz)
    smoke.step("readyz", readyz)
    smoke.step("request id", request_id)
    smoke.step("metrics", metrics)
    if smoke.step("create tenant", create_tenant) and smoke.step("ingest", ingest):
        trained = smoke.step("train", train, required=args.require_training)
        if trained or not args.require_training:
            smoke.step("recommend", recommend, required=args.require_recommendations)
    else:
        print("FAIL skipped train/recommend: no tenant or no data", flush=True)
    smoke.step("metrics after traffic", lambda: metrics(after_traffic=True))

    failed = [r for r in smoke.results if r[0] == "FAIL"]
    skipped = [r for r in smoke.results if r[0] == "SKIP"]
    print(
        f"smoke: {len(smoke.results) - len(failed) - len(skipped)} ok, {len(failed)} failed, "
        f"{len(skipped)} not available yet",
        flush=True,
    )
    return 1 if failed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base-url", default="http://127.0.0.1:8000")
    p.add_argument(
        "--manage",
        default=f"{sys.executable} manage.py",
        help="command that runs manage.py with the deployment's environment",
    )
    p.add_argument("--api-key", help="use this tenant API key instead of creating a tenant")
    p.add_argument("--domain", default="content")
    p.add_argument("--items", type=int, default=30)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--per-user", type=int, default=8)
    p.add_argument(
        "--require-training",
        action="store_true",
        help="fail when the training endpoints are not deployed or training fails",
    )
    p.add_argument(
        "--require-recommendations",
        action="store_true",
        help="fail when the recommendation endpoint is not deployed",
    )
    p.add_argument("--train-timeout", type=float, default=600.0)
    p.add_argument("--http-timeout", type=float, default=30.0)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(parse_args()))
