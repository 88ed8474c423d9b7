from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.popular_items_include import PopularItemsInclude
from ...models.recommendations_output import RecommendationsOutput
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    category: str | Unset = UNSET,
    explain: bool | Unset = UNSET,
    include: PopularItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["category"] = category

    params["explain"] = explain

    json_include: str | Unset = UNSET
    if not isinstance(include, Unset):
        json_include = include.value

    params["include"] = json_include

    params["k"] = k

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/popular",
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
    *,
    client: AuthenticatedClient,
    category: str | Unset = UNSET,
    explain: bool | Unset = UNSET,
    include: PopularItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> Response[Error | RecommendationsOutput]:
    """The tenant's most popular items

     By the number of distinct users who interacted with them, from the active model's training data (the
    database without a model); active items only.

    Args:
        category (str | Unset):
        explain (bool | Unset):
        include (PopularItemsInclude | Unset):
        k (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RecommendationsOutput]
    """

    kwargs = _get_kwargs(
        category=category,
        explain=explain,
        include=include,
        k=k,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    category: str | Unset = UNSET,
    explain: bool | Unset = UNSET,
    include: PopularItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> Error | RecommendationsOutput | None:
    """The tenant's most popular items

     By the number of distinct users who interacted with them, from the active model's training data (the
    database without a model); active items only.

    Args:
        category (str | Unset):
        explain (bool | Unset):
        include (PopularItemsInclude | Unset):
        k (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RecommendationsOutput
    """

    return sync_detailed(
        client=client,
        category=category,
        explain=explain,
        include=include,
        k=k,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    category: str | Unset = UNSET,
    explain: bool | Unset = UNSET,
    include: PopularItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> Response[Error | RecommendationsOutput]:
    """The tenant's most popular items

     By the number of distinct users who interacted with them, from the active model's training data (the
    database without a model); active items only.

    Args:
        category (str | Unset):
        explain (bool | Unset):
        include (PopularItemsInclude | Unset):
        k (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RecommendationsOutput]
    """

    kwargs = _get_kwargs(
        category=category,
        explain=explain,
        include=include,
        k=k,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    category: str | Unset = UNSET,
    explain: bool | Unset = UNSET,
    include: PopularItemsInclude | Unset = UNSET,
    k: int | Unset = 10,
) -> Error | RecommendationsOutput | None:
    """The tenant's most popular items

     By the number of distinct users who interacted with them, from the active model's training data (the
    database without a model); active items only.

    Args:
        category (str | Unset):
        explain (bool | Unset):
        include (PopularItemsInclude | Unset):
        k (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RecommendationsOutput
    """

    return (
        await asyncio_detailed(
            client=client,
            category=category,
            explain=explain,
            include=include,
            k=k,
        )
    ).parsed
