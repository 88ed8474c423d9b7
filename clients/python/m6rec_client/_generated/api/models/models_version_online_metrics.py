from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.online_metrics_output import OnlineMetricsOutput
from ...types import UNSET, Response, Unset


def _get_kwargs(
    number: int,
    *,
    days: int | Unset = 30,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["days"] = days

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/models/versions/{number}/online-metrics".format(
            number=quote(str(number), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | OnlineMetricsOutput | None:
    if response.status_code == 200:
        response_200 = OnlineMetricsOutput.from_dict(response.json())

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
) -> Response[Error | OnlineMetricsOutput]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    number: int,
    *,
    client: AuthenticatedClient,
    days: int | Unset = 30,
) -> Response[Error | OnlineMetricsOutput]:
    """Online metrics of a model version

     Impressions, clicks and conversions attributed to this version through `recommendation_id`, with
    click-through and conversion rates (Wilson 95% intervals), in total and per UTC day of the
    recommendation, for the last `days` days.

    Args:
        number (int):
        days (int | Unset):  Default: 30.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | OnlineMetricsOutput]
    """

    kwargs = _get_kwargs(
        number=number,
        days=days,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    number: int,
    *,
    client: AuthenticatedClient,
    days: int | Unset = 30,
) -> Error | OnlineMetricsOutput | None:
    """Online metrics of a model version

     Impressions, clicks and conversions attributed to this version through `recommendation_id`, with
    click-through and conversion rates (Wilson 95% intervals), in total and per UTC day of the
    recommendation, for the last `days` days.

    Args:
        number (int):
        days (int | Unset):  Default: 30.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | OnlineMetricsOutput
    """

    return sync_detailed(
        number=number,
        client=client,
        days=days,
    ).parsed


async def asyncio_detailed(
    number: int,
    *,
    client: AuthenticatedClient,
    days: int | Unset = 30,
) -> Response[Error | OnlineMetricsOutput]:
    """Online metrics of a model version

     Impressions, clicks and conversions attributed to this version through `recommendation_id`, with
    click-through and conversion rates (Wilson 95% intervals), in total and per UTC day of the
    recommendation, for the last `days` days.

    Args:
        number (int):
        days (int | Unset):  Default: 30.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | OnlineMetricsOutput]
    """

    kwargs = _get_kwargs(
        number=number,
        days=days,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    number: int,
    *,
    client: AuthenticatedClient,
    days: int | Unset = 30,
) -> Error | OnlineMetricsOutput | None:
    """Online metrics of a model version

     Impressions, clicks and conversions attributed to this version through `recommendation_id`, with
    click-through and conversion rates (Wilson 95% intervals), in total and per UTC day of the
    recommendation, for the last `days` days.

    Args:
        number (int):
        days (int | Unset):  Default: 30.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | OnlineMetricsOutput
    """

    return (
        await asyncio_detailed(
            number=number,
            client=client,
            days=days,
        )
    ).parsed
