from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.interactions_ingest_input import InteractionsIngestInput
from ...models.interactions_ingest_output import InteractionsIngestOutput
from ...types import Response


def _get_kwargs(
    *,
    body: InteractionsIngestInput,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/interactions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | InteractionsIngestOutput | None:
    if response.status_code == 200:
        response_200 = InteractionsIngestOutput.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

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
) -> Response[Error | InteractionsIngestOutput]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: InteractionsIngestInput,
) -> Response[Error | InteractionsIngestOutput]:
    """Ingest interactions

     Store 1..10,000 interactions. Idempotent by event_id: a replayed row is counted as duplicate and
    changes nothing. Unknown users/items are created or the batch is rejected, per the tenant's
    unknown_refs setting.

    Args:
        body (InteractionsIngestInput): Ingest 1..10,000 interactions; any invalid row rejects the
            whole batch.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | InteractionsIngestOutput]
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
    body: InteractionsIngestInput,
) -> Error | InteractionsIngestOutput | None:
    """Ingest interactions

     Store 1..10,000 interactions. Idempotent by event_id: a replayed row is counted as duplicate and
    changes nothing. Unknown users/items are created or the batch is rejected, per the tenant's
    unknown_refs setting.

    Args:
        body (InteractionsIngestInput): Ingest 1..10,000 interactions; any invalid row rejects the
            whole batch.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | InteractionsIngestOutput
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: InteractionsIngestInput,
) -> Response[Error | InteractionsIngestOutput]:
    """Ingest interactions

     Store 1..10,000 interactions. Idempotent by event_id: a replayed row is counted as duplicate and
    changes nothing. Unknown users/items are created or the batch is rejected, per the tenant's
    unknown_refs setting.

    Args:
        body (InteractionsIngestInput): Ingest 1..10,000 interactions; any invalid row rejects the
            whole batch.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | InteractionsIngestOutput]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: InteractionsIngestInput,
) -> Error | InteractionsIngestOutput | None:
    """Ingest interactions

     Store 1..10,000 interactions. Idempotent by event_id: a replayed row is counted as duplicate and
    changes nothing. Unknown users/items are created or the batch is rejected, per the tenant's
    unknown_refs setting.

    Args:
        body (InteractionsIngestInput): Ingest 1..10,000 interactions; any invalid row rejects the
            whole batch.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | InteractionsIngestOutput
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
