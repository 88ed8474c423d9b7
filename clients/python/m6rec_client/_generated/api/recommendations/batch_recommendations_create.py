from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.batch_job_input import BatchJobInput
from ...models.batch_job_output import BatchJobOutput
from ...models.error import Error
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: BatchJobInput | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/models/batch-recommendations",
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BatchJobOutput | Error | None:
    if response.status_code == 202:
        response_202 = BatchJobOutput.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Error.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[BatchJobOutput | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchJobInput | Unset = UNSET,
) -> Response[BatchJobOutput | Error]:
    """Queue a batch recommendations job

     Write top-`k` recommendations for every user (or the listed `user_ids`) into one gzip-compressed
    JSON Lines file, one line per user: `{"user_id", "items": [{"item_id", "score"}], "model_version",
    "strategy"}`, exactly what `GET users/{user_id}/recommendations` answers. The job runs on the worker
    queue, resumes after an interruption, and reports progress; follow it with `GET models/batch-
    recommendations/{job_id}`, then download the file.

    Args:
        body (BatchJobInput | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchJobOutput | Error]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: BatchJobInput | Unset = UNSET,
) -> BatchJobOutput | Error | None:
    """Queue a batch recommendations job

     Write top-`k` recommendations for every user (or the listed `user_ids`) into one gzip-compressed
    JSON Lines file, one line per user: `{"user_id", "items": [{"item_id", "score"}], "model_version",
    "strategy"}`, exactly what `GET users/{user_id}/recommendations` answers. The job runs on the worker
    queue, resumes after an interruption, and reports progress; follow it with `GET models/batch-
    recommendations/{job_id}`, then download the file.

    Args:
        body (BatchJobInput | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchJobOutput | Error
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchJobInput | Unset = UNSET,
) -> Response[BatchJobOutput | Error]:
    """Queue a batch recommendations job

     Write top-`k` recommendations for every user (or the listed `user_ids`) into one gzip-compressed
    JSON Lines file, one line per user: `{"user_id", "items": [{"item_id", "score"}], "model_version",
    "strategy"}`, exactly what `GET users/{user_id}/recommendations` answers. The job runs on the worker
    queue, resumes after an interruption, and reports progress; follow it with `GET models/batch-
    recommendations/{job_id}`, then download the file.

    Args:
        body (BatchJobInput | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchJobOutput | Error]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BatchJobInput | Unset = UNSET,
) -> BatchJobOutput | Error | None:
    """Queue a batch recommendations job

     Write top-`k` recommendations for every user (or the listed `user_ids`) into one gzip-compressed
    JSON Lines file, one line per user: `{"user_id", "items": [{"item_id", "score"}], "model_version",
    "strategy"}`, exactly what `GET users/{user_id}/recommendations` answers. The job runs on the worker
    queue, resumes after an interruption, and reports progress; follow it with `GET models/batch-
    recommendations/{job_id}`, then download the file.

    Args:
        body (BatchJobInput | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchJobOutput | Error
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
