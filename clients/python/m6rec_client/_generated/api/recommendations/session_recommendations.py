from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.recommendations_output import RecommendationsOutput
from ...models.session_recommendations_input import SessionRecommendationsInput
from ...types import Response


def _get_kwargs(
    *,
    body: SessionRecommendationsInput,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/recommendations",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
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
    body: SessionRecommendationsInput,
) -> Response[Error | RecommendationsOutput]:
    """Recommendations for an anonymous session from its recent items

     Folds the recent items into a user vector (items the tenant or the model does not know are ignored;
    none left: popularity). The recent items are never recommended back. `session_id` places the session
    in a running experiment's arm.

    Args:
        body (SessionRecommendationsInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RecommendationsOutput]
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
    body: SessionRecommendationsInput,
) -> Error | RecommendationsOutput | None:
    """Recommendations for an anonymous session from its recent items

     Folds the recent items into a user vector (items the tenant or the model does not know are ignored;
    none left: popularity). The recent items are never recommended back. `session_id` places the session
    in a running experiment's arm.

    Args:
        body (SessionRecommendationsInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RecommendationsOutput
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: SessionRecommendationsInput,
) -> Response[Error | RecommendationsOutput]:
    """Recommendations for an anonymous session from its recent items

     Folds the recent items into a user vector (items the tenant or the model does not know are ignored;
    none left: popularity). The recent items are never recommended back. `session_id` places the session
    in a running experiment's arm.

    Args:
        body (SessionRecommendationsInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RecommendationsOutput]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: SessionRecommendationsInput,
) -> Error | RecommendationsOutput | None:
    """Recommendations for an anonymous session from its recent items

     Folds the recent items into a user vector (items the tenant or the model does not know are ignored;
    none left: popularity). The recent items are never recommended back. `session_id` places the session
    in a running experiment's arm.

    Args:
        body (SessionRecommendationsInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RecommendationsOutput
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
