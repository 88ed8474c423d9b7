"""The hand-written layer over the generated client: one ``Client(base_url, api_key)`` with typed
errors, retries of 429/5xx honouring ``Retry-After``, batched ingestion of any iterable and
iterators over cursor pages.

Every call goes through the generated operation modules (``m6rec_client._generated.api``); the
generated client itself is ``Client.raw`` for anything this layer does not wrap.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from functools import cache
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx

from m6rec_client import _generated
from m6rec_client._generated import AuthenticatedClient
from m6rec_client._generated.api import __path__ as _api_path
from m6rec_client._generated.models.change_input import ChangeInput
from m6rec_client._generated.types import UNSET
from m6rec_client.errors import ApiError, PayloadTooLargeError, error_from_response

if TYPE_CHECKING:  # generated models (names follow the API's serializers)
    from m6rec_client._generated.models import (
        BatchJobOutput,
        InteractionsIngestOutput,
        ItemOutput,
        RecommendationsOutput,
        RunOutput,
        UpsertOutput,
        UserOutput,
        VersionOutput,
    )

MAX_BATCH_ROWS = 10_000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TERMINAL_RUN_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
TERMINAL_BATCH_STATUSES = frozenset({"succeeded", "failed"})


@cache
def operation(operation_id: str) -> ModuleType:
    """The generated module of an operation (``items_upsert``, ``user_recommendations``…),
    whatever tag the schema files it under."""
    for package in pkgutil.iter_modules(_api_path):
        name = f"{_generated.__name__}.api.{package.name}.{operation_id}"
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    raise LookupError(f"the API has no operation {operation_id!r} (regenerate: make sdk)")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _cursor_of(url: str | None) -> str | None:
    if not url:
        return None
    return parse_qs(urlsplit(url).query).get("cursor", [None])[0]


class Client:
    """``Client("https://recs.example.com", "m6r_…")``.

    ``max_retries``: attempts after the first for 429, 5xx and refused connections (waiting
    ``Retry-After`` when sent, capped at ``max_retry_wait`` seconds; else an exponential
    backoff). Errors raise :class:`m6rec_client.errors.ApiError` subclasses.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        max_retry_wait: float = 60.0,
        backoff: float = 0.5,
        httpx_args: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.raw = AuthenticatedClient(
            base_url=base_url.rstrip("/"),
            token=api_key,
            timeout=httpx.Timeout(timeout),
            httpx_args=httpx_args or {},
        )
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.backoff = backoff
        self._sleep = sleep

    def close(self) -> None:
        self.raw.get_httpx_client().close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    def _wait(self, attempt: int, retry_after: float | None) -> None:
        if retry_after is not None:
            delay = retry_after
        else:
            delay = self.backoff * (2**attempt) * (1 + random.random() / 4)  # noqa: S311
        self._sleep(min(delay, self.max_retry_wait))

    def _with_retries(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = send()
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt >= self.max_retries:
                    raise
                self._wait(attempt, None)  # nothing reached the server: safe to send again
            else:
                if response.status_code < 400:
                    return response
                error = error_from_response(response)
                if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                    raise error
                self._wait(attempt, error.retry_after)
            attempt += 1

    def call(self, operation_id: str, *args: Any, **kwargs: Any) -> Any:
        """Call a generated operation by id with retries and typed errors; returns the parsed
        body (a generated model) or ``None`` for an empty one."""
        module = operation(operation_id)
        client = self.raw

        def send() -> httpx.Response:
            kw = module._get_kwargs(*args, **kwargs)
            return client.get_httpx_client().request(**kw)

        response = self._with_retries(send)
        return module._parse_response(client=client, response=response)

    def _post_json(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, default=_json_default, ensure_ascii=False).encode()
        http = self.raw.get_httpx_client()
        response = self._with_retries(
            lambda: http.post(path, content=body, headers={"Content-Type": "application/json"})
        )
        return response.json()

    def pages(self, operation_id: str, *, limit: int | None = None, **kwargs: Any) -> Iterator:
        """Every page of a cursor-paginated list operation, following ``next``."""
        cursor: str | None = None
        while True:
            page = self.call(
                operation_id,
                cursor=cursor if cursor else UNSET,
                limit=limit if limit else UNSET,
                **kwargs,
            )
            yield page
            cursor = _cursor_of(page.next_)
            if cursor is None:
                return

    def _items_of(self, operation_id: str, limit: int | None) -> Iterator:
        for page in self.pages(operation_id, limit=limit):
            yield from page.results

    # ------------------------------------------------------------------ ingestion

    def _ingest(
        self, path: str, key: str, rows: Iterable[Any], batch_size: int, output_cls: type
    ) -> Any:
        if not 1 <= batch_size <= MAX_BATCH_ROWS:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH_ROWS}")
        totals: dict[str, int] = {}
        written = 0
        iterator = iter(rows)
        while batch := list(islice(iterator, batch_size)):
            for result in self._send_batch(path, key, batch, offset=written, written=written):
                for name, value in result.items():
                    if isinstance(value, int) and not isinstance(value, bool):
                        totals[name] = totals.get(name, 0) + value
            written += len(batch)
        return output_cls.from_dict(totals) if totals else None

    def _send_batch(
        self, path: str, key: str, batch: list[Any], *, offset: int, written: int
    ) -> list[dict[str, Any]]:
        """One batch; a 413 (body over the server's limit) splits it in halves."""
        try:
            return [self._post_json(path, {key: batch})]
        except PayloadTooLargeError as exc:
            if len(batch) == 1:
                exc.batch_offset, exc.rows_written = offset, written
                raise
            half = len(batch) // 2
            first = self._send_batch(path, key, batch[:half], offset=offset, written=written)
            return first + self._send_batch(
                path, key, batch[half:], offset=offset + half, written=written + half
            )
        except ApiError as exc:
            exc.batch_offset, exc.rows_written = offset, written
            raise

    def upsert_items(
        self, rows: Iterable[Any], *, batch_size: int = MAX_BATCH_ROWS
    ) -> UpsertOutput | None:
        """Upsert items (dicts or ``ItemRow``) from any iterable, ``batch_size`` rows a request;
        returns the summed ``UpsertOutput``."""
        from m6rec_client._generated.models.upsert_output import UpsertOutput

        return self._ingest("/api/v1/items", "items", rows, batch_size, UpsertOutput)

    def upsert_users(
        self, rows: Iterable[Any], *, batch_size: int = MAX_BATCH_ROWS
    ) -> UpsertOutput | None:
        """Upsert end users (dicts or ``UserRow``); returns the summed ``UpsertOutput``."""
        from m6rec_client._generated.models.upsert_output import UpsertOutput

        return self._ingest("/api/v1/users", "users", rows, batch_size, UpsertOutput)

    def ingest_interactions(
        self, rows: Iterable[Any], *, batch_size: int = MAX_BATCH_ROWS
    ) -> InteractionsIngestOutput | None:
        """Ingest interactions (dicts or ``InteractionRow``; ``timestamp`` a ``datetime``, an
        ISO 8601 string or epoch seconds); returns the summed ``InteractionsIngestOutput``.
        Give rows an ``event_id`` to make a retried or replayed load idempotent."""
        from m6rec_client._generated.models.interactions_ingest_output import (
            InteractionsIngestOutput,
        )

        return self._ingest(
            "/api/v1/interactions", "interactions", rows, batch_size, InteractionsIngestOutput
        )

    # ------------------------------------------------------------------ catalogue

    def get_item(self, item_id: str) -> ItemOutput:
        return self.call("items_retrieve", item_id)

    def delete_item(self, item_id: str) -> None:
        self.call("items_destroy", item_id)

    def iter_items(self, *, page_size: int | None = None) -> Iterator[ItemOutput]:
        """Every item, following the cursor pages (``page_size`` 1..1000)."""
        return self._items_of("items_list", page_size)

    def get_user(self, user_id: str) -> UserOutput:
        return self.call("users_retrieve", user_id)

    def delete_user(self, user_id: str) -> None:
        self.call("users_destroy", user_id)

    def iter_users(self, *, page_size: int | None = None) -> Iterator[UserOutput]:
        return self._items_of("users_list", page_size)

    # ------------------------------------------------------------------ training, registry

    def train(self) -> RunOutput:
        """Queue a training run (``ConflictError`` while one is queued or running)."""
        return self.call("models_train")

    def get_run(self, run_id: int) -> RunOutput:
        return self.call("models_runs_retrieve", run_id)

    def iter_runs(self, *, page_size: int | None = None) -> Iterator[RunOutput]:
        return self._items_of("models_runs_list", page_size)

    def wait_for_run(self, run_id: int, *, timeout: float = 3600.0, poll: float = 2.0) -> RunOutput:
        """Poll a run until it succeeded, failed or was cancelled; returns it (``TimeoutError``
        after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if str(run.status) in TERMINAL_RUN_STATUSES:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"training run {run_id} still {run.status} after {timeout}s")
            self._sleep(poll)

    def iter_versions(self, *, page_size: int | None = None) -> Iterator[VersionOutput]:
        return self._items_of("models_versions_list", page_size)

    def active_version(self) -> int | None:
        """The active version's number (``None``: popularity is served)."""
        return self.call("models_versions_list", limit=1).active

    def promote(self, number: int, *, reason: str = "") -> VersionOutput:
        return self.call("models_versions_promote", number, body=ChangeInput(reason=reason))

    def pin(self, number: int, *, reason: str = "") -> VersionOutput:
        return self.call("models_versions_pin", number, body=ChangeInput(reason=reason))

    def rollback(self, *, reason: str = "") -> VersionOutput:
        return self.call("models_rollback", body=ChangeInput(reason=reason))

    # ------------------------------------------------------------------ batch recommendations

    def batch_recommendations(
        self, *, k: int = 10, user_ids: list[str] | None = None, **fields: Any
    ) -> BatchJobOutput:
        """Queue a batch job: top-``k`` for every user (or ``user_ids``) into one gzip JSON
        Lines file; ``fields``: ``exclude_seen``, ``category``."""
        from m6rec_client._generated.models.batch_job_input import BatchJobInput

        body = BatchJobInput.from_dict({"k": k, "user_ids": user_ids, **fields})
        return self.call("batch_recommendations_create", body=body)

    def get_batch_job(self, job_id: int) -> BatchJobOutput:
        return self.call("batch_recommendations_retrieve", job_id)

    def iter_batch_jobs(self, *, page_size: int | None = None) -> Iterator[BatchJobOutput]:
        return self._items_of("batch_recommendations_list", page_size)

    def wait_for_batch_job(
        self, job_id: int, *, timeout: float = 3600.0, poll: float = 2.0
    ) -> BatchJobOutput:
        """Poll a batch job until it succeeded or failed (``TimeoutError`` after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_batch_job(job_id)
            if str(job.status) in TERMINAL_BATCH_STATUSES:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"batch job {job_id} still {job.status} after {timeout}s")
            self._sleep(poll)

    def download_batch(self, job_id: int, path: str | Path) -> Path:
        """Stream a finished job's file (gzip JSON Lines) to ``path``, checking its SHA-256;
        read it with ``gzip.open(path, "rt")``, one JSON object per line."""
        import hashlib

        target, digest = Path(path), hashlib.sha256()
        url = f"/api/v1/models/batch-recommendations/{int(job_id)}/download"
        with self.raw.get_httpx_client().stream("GET", url) as response:
            if response.status_code >= 400:
                response.read()
                raise error_from_response(response)
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    digest.update(chunk)
                    out.write(chunk)
            expected = response.headers.get("X-Content-SHA256")
        if expected and digest.hexdigest() != expected:
            raise OSError(f"{target}: SHA-256 {digest.hexdigest()} is not the server's {expected}")
        return target

    # ------------------------------------------------------------------ serving

    def recommend(self, user_id: str, *, k: int = 10, **options: Any) -> RecommendationsOutput:
        """Top-``k`` for a user; ``options``: the endpoint's query parameters
        (``exclude_seen``, ``category``, ``exclude`` as a comma-separated string…)."""
        return self.call("user_recommendations", user_id, k=k, **options)

    def recommend_session(
        self, recent_items: list[str], *, k: int = 10, **fields: Any
    ) -> RecommendationsOutput:
        """Recommendations for an anonymous session from its recent items."""
        from m6rec_client._generated.models.session_recommendations_input import (
            SessionRecommendationsInput,
        )

        body = SessionRecommendationsInput.from_dict(
            {"recent_items": recent_items, "k": k, **fields}
        )
        return self.call("session_recommendations", body=body)

    def similar(self, item_id: str, *, k: int = 10, **options: Any) -> RecommendationsOutput:
        return self.call("similar_items", item_id, k=k, **options)

    def popular(self, *, k: int = 10, **options: Any) -> RecommendationsOutput:
        return self.call("popular_items", k=k, **options)
