"""The Python SDK (clients/python) against a real server: the README's example, batched
ingestion, cursor iterators, typed errors; retries and 413 splitting against a mock transport."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from m6rec_client import (
    BadRequestError,
    Client,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
)

REPO = Path(__file__).resolve().parents[2]


def _readme_sdk_example() -> tuple[str, str]:
    """The README's SDK section: its ``create_tenant`` command line and its Python block."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Client libraries", 1)[1].split("\n## ", 1)[0]
    shell = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    python = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    command = next(line for line in shell.splitlines() if "create_tenant" in line)
    return command, python


def test_the_readme_example_runs_against_a_live_server(sdk_server, transactional_db, capsys):
    from tests.m6rec.serving._data import synthetic_pairs

    command, example = _readme_sdk_example()
    assert len(example.strip().splitlines()) <= 6, example  # the five lines (and an import)
    args = shlex.split(command.split("#", 1)[0])
    call_command(*args[args.index("manage.py") + 1 :])
    api_key = capsys.readouterr().out.strip().splitlines()[-1]

    printed = []
    namespace = {"api_key": api_key, "interactions": synthetic_pairs(), "print": printed.append}
    exec(compile(example.replace("http://127.0.0.1:8000", sdk_server), "README", "exec"), namespace)  # noqa: S102

    client = namespace["client"]
    recommended = printed[-1]
    assert len(recommended) == 10 and all(r.item_id.startswith("i") for r in recommended)
    run = next(iter(client.iter_runs()))
    assert str(run.status) == "succeeded" and run.version == 1
    assert client.active_version() == 1
    response = client.recommend("u1", k=10)
    assert (str(response.strategy), response.model_version) == ("model", 1)
    assert len(client.similar("i1", k=5).items) == 5
    session = client.recommend_session(["i1", "i2"], k=5)
    assert len(session.items) == 5 and session.model_version == 1


def test_batches_pages_and_typed_errors(sdk_server, sdk_tenant):
    _, key = sdk_tenant
    requests: list[httpx.Request] = []
    client = Client(sdk_server, key, httpx_args={"event_hooks": {"request": [requests.append]}})

    totals = client.upsert_items(
        ({"item_id": f"m{i}", "categories": ["c"]} for i in range(2500)), batch_size=1000
    )
    assert (totals.created, totals.updated) == (2500, 0)
    assert len(requests) == 3
    listed = [item.item_id for item in client.iter_items(page_size=700)]
    assert listed == [f"m{i}" for i in range(2500)]

    client.upsert_users([{"user_id": "u1"}, {"user_id": "u2"}])
    assert [u.user_id for u in client.iter_users(page_size=1)] == ["u1", "u2"]

    ingested = client.ingest_interactions(
        [
            {"user_id": "u1", "item_id": "m1", "timestamp": "2024-05-01T12:30:00Z"},
            {"user_id": "u2", "item_id": "m2", "timestamp": 1714566600, "event_id": "e2"},
            {"user_id": "u2", "item_id": "m3", "event_id": "e3"},
        ],
        batch_size=2,
    )
    assert (ingested.received, ingested.created) == (3, 3)

    rows = [{"user_id": "u1", "item_id": "m1"}] * 3 + [{"user_id": "u1"}]
    with pytest.raises(BadRequestError) as caught:
        client.ingest_interactions(rows, batch_size=2)
    error = caught.value
    assert error.status == 400 and error.code == "invalid"
    assert (error.batch_offset, error.rows_written) == (2, 2)
    assert [(e.row, e.field) for e in error.errors] == [(1, "item_id")]
    assert "nothing was written" in error.message

    with pytest.raises(NotFoundError) as missing:
        client.get_item("nope")
    assert missing.value.code == "not_found"
    client.delete_item("m0")
    assert client.get_item("m1").item_id == "m1"
    assert list(client.iter_versions()) == [] and client.active_version() is None
    assert str(client.popular(k=3).strategy) == "popularity"


def test_scopes_are_typed_errors(sdk_server, sdk_tenant):
    from m6rec.common.testing import make_key

    tenant, _ = sdk_tenant
    _, ingest_only = make_key(tenant, scopes=["ingest"], name="ingest-only")
    with pytest.raises(PermissionDeniedError) as caught:
        Client(sdk_server, ingest_only).train()
    assert caught.value.details.required_scope == "admin"


def test_batch_recommendations_through_the_client(sdk_server, sdk_tenant, tmp_path):
    import gzip

    _, key = sdk_tenant
    client = Client(sdk_server, key)
    client.ingest_interactions(
        {"user_id": f"b{n}", "item_id": f"x{n % 4}", "type": "view"} for n in range(12)
    )
    job = client.batch_recommendations(k=2, user_ids=["b1", "b2", "stranger"])
    done = client.wait_for_batch_job(job.id, timeout=60, poll=0.2)  # eager: already done
    assert str(done.status) == "succeeded" and done.users_done == 3
    assert [j.id for j in client.iter_batch_jobs()] == [job.id]
    path = client.download_batch(job.id, tmp_path / "top.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh]
    assert [line["user_id"] for line in lines] == ["b1", "b2", "stranger"]
    assert all(len(line["items"]) == 2 and line["strategy"] == "popularity" for line in lines)
    with pytest.raises(NotFoundError):
        client.download_batch(job.id + 1000, tmp_path / "missing.jsonl.gz")


# ---------------------------------------------------------------------- without a server


def _mock_client(handler, **kwargs) -> tuple[Client, list[float]]:
    slept: list[float] = []
    client = Client(
        "http://sdk.test",
        "m6r_test",
        httpx_args={"transport": httpx.MockTransport(handler)},
        sleep=slept.append,
        **kwargs,
    )
    return client, slept


def _error(status: int, code: str, retry_after: int | None = None) -> httpx.Response:
    details = {"retry_after": retry_after} if retry_after else {}
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    body = {"error": {"code": code, "message": code, "details": details}}
    return httpx.Response(status, json=body, headers=headers)


def test_retries_honour_retry_after_and_stop():
    answers = [_error(429, "throttled", 3), _error(503, "database_unavailable", 1)]

    def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            return answers.pop(0)
        return httpx.Response(200, json={"created": 1, "updated": 0})

    client, slept = _mock_client(handler)
    assert client.upsert_users([{"user_id": "u"}]).created == 1
    assert slept == [3.0, 1.0]

    client, slept = _mock_client(lambda r: _error(503, "database_unavailable", 120), max_retries=2)
    with pytest.raises(ServiceUnavailableError) as caught:
        client.upsert_users([{"user_id": "u"}])
    assert slept == [60.0, 60.0]  # capped at max_retry_wait
    assert caught.value.retry_after == 120 and caught.value.details.retry_after == 120

    calls = []
    client, slept = _mock_client(
        lambda r: calls.append(r) or _error(429, "throttled"), max_retries=1
    )
    with pytest.raises(RateLimitError):
        client.get_user("u")
    assert len(calls) == 2 and len(slept) == 1  # no Retry-After: a backoff

    calls.clear()
    client, _ = _mock_client(lambda r: calls.append(r) or _error(400, "invalid"))
    with pytest.raises(BadRequestError):
        client.get_user("u")
    assert len(calls) == 1  # a 400 is not retried


def test_a_413_splits_the_batch():
    sizes = []

    def handler(request: httpx.Request) -> httpx.Response:
        rows = json.loads(request.content)["items"]
        sizes.append(len(rows))
        if len(rows) > 3:
            return _error(413, "request_too_large")
        return httpx.Response(200, json={"created": len(rows), "updated": 0})

    client, _ = _mock_client(handler)
    assert client.upsert_items({"item_id": str(i)} for i in range(10)).created == 10
    assert sizes == [10, 5, 2, 3, 5, 2, 3]
    with pytest.raises(ValueError):
        client.upsert_items([], batch_size=10_001)
