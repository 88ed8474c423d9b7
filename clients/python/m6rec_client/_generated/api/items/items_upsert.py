from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.items_upsert_input import ItemsUpsertInput
from ...models.upsert_output import UpsertOutput
from ...types import Response


def _get_kwargs(
    *,
    body: ItemsUpsertInput,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/items",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | UpsertOutput | None:
    if response.status_code == 200:
        response_200 = UpsertOutput.from_dict(response.json())

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
) -> Response[Error | UpsertOutput]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ItemsUpsertInput,
) -> Response[Error | UpsertOutput]:
    """Upsert items

     Create or update 1..10,000 items by `item_id`. Every row is validated (ids, categories, the domain's
    property schema) before anything is written: one invalid row rejects the whole batch, every problem
    listed by row and field.

    Args:
        body (ItemsUpsertInput): Upsert 1..10,000 items by ``item_id``; any invalid row rejects
            the whole batch.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | UpsertOutput]
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
    body: ItemsUpsertInput,
) -> Error | UpsertOutput | None:
    """Upsert items

     Create or update 1..10,000 items by `item_id`. Every row is validated (ids, categories, the domain's
    property schema) before anything is written: one invalid row rejects the whole batch, every problem
    listed by row and field.

    Args:
        body (ItemsUpsertInput): Upsert 1..10,000 items by ``item_id``; any invalid row rejects
            the whole batch.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | UpsertOutput
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ItemsUpsertInput,
) -> Response[Error | UpsertOutput]:
    """Upsert items

     Create or update 1..10,000 items by `item_id`. Every row is validated (ids, categories, the domain's
    property schema) before anything is written: one invalid row rejects the whole batch, every problem
    listed by row and field.

    Args:
        body (ItemsUpsertInput): Upsert 1..10,000 items by ``item_id``; any invalid row rejects
            the whole batch.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | UpsertOutput]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ItemsUpsertInput,
) -> Error | UpsertOutput | None:
    """Upsert items

     Create or update 1..10,000 items by `item_id`. Every row is validated (ids, categories, the domain's
    property schema) before anything is written: one invalid row rejects the whole batch, every problem
    listed by row and field.

    Args:
        body (ItemsUpsertInput): Upsert 1..10,000 items by ``item_id``; any invalid row rejects
            the whole batch.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | UpsertOutput
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
