from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.recommendations_output import RecommendationsOutput
from ...models.similar_items_include import SimilarItemsInclude
from ...types import UNSET, Response, Unset


def _get_kwargs(
    item_id: str,
    *,
    explain: bool | Unset = UNSET,
    include: SimilarItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["explain"] = explain

    json_include: str | Unset = UNSET
    if not isinstance(include, Unset):
        json_include = include.value

    params["include"] = json_include

    params["k"] = k

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/items/{item_id}/similar".format(
            item_id=quote(str(item_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | RecommendationsOutput | None:
    if response.status_code == 200:
        response_200 = RecommendationsOutput.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | RecommendationsOutput]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    item_id: str,
    *,
    client: AuthenticatedClient,
    explain: bool | Unset = UNSET,
    include: SimilarItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> Response[Error | RecommendationsOutput]:
    """Items similar to an item

     Items the item-item model links to this one (interacted with together), then the nearest by the
    model's item vectors; popularity for an item the model has not seen. 404 when the tenant has no such
    item.

    Args:
        item_id (str):
        explain (bool | Unset):
        include (SimilarItemsInclude | Unset):
        k (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RecommendationsOutput]
    """

    kwargs = _get_kwargs(
        item_id=item_id,
        explain=explain,
        include=include,
        k=k,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    item_id: str,
    *,
    client: AuthenticatedClient,
    explain: bool | Unset = UNSET,
    include: SimilarItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> Error | RecommendationsOutput | None:
    """Items similar to an item

     Items the item-item model links to this one (interacted with together), then the nearest by the
    model's item vectors; popularity for an item the model has not seen. 404 when the tenant has no such
    item.

    Args:
        item_id (str):
        explain (bool | Unset):
        include (SimilarItemsInclude | Unset):
        k (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RecommendationsOutput
    """

    return sync_detailed(
        item_id=item_id,
        client=client,
        explain=explain,
        include=include,
        k=k,
    ).parsed


async def asyncio_detailed(
    item_id: str,
    *,
    client: AuthenticatedClient,
    explain: bool | Unset = UNSET,
    include: SimilarItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> Response[Error | RecommendationsOutput]:
    """Items similar to an item

     Items the item-item model links to this one (interacted with together), then the nearest by the
    model's item vectors; popularity for an item the model has not seen. 404 when the tenant has no such
    item.

    Args:
        item_id (str):
        explain (bool | Unset):
        include (SimilarItemsInclude | Unset):
        k (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RecommendationsOutput]
    """

    kwargs = _get_kwargs(
        item_id=item_id,
        explain=explain,
        include=include,
        k=k,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    item_id: str,
    *,
    client: AuthenticatedClient,
    explain: bool | Unset = UNSET,
    include: SimilarItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> Error | RecommendationsOutput | None:
    """Items similar to an item

     Items the item-item model links to this one (interacted with together), then the nearest by the
    model's item vectors; popularity for an item the model has not seen. 404 when the tenant has no such
    item.

    Args:
        item_id (str):
        explain (bool | Unset):
        include (SimilarItemsInclude | Unset):
        k (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RecommendationsOutput
    """

    return (
        await asyncio_detailed(
            item_id=item_id,
            client=client,
            explain=explain,
            include=include,
            k=k,
        )
    ).parsed
