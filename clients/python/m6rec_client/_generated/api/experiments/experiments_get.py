from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.experiment_detail_output import ExperimentDetailOutput
from ...types import Response


def _get_kwargs(
    experiment_id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/models/experiments/{experiment_id}".format(
            experiment_id=quote(str(experiment_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | ExperimentDetailOutput | None:
    if response.status_code == 200:
        response_200 = ExperimentDetailOutput.from_dict(response.json())

        return response_200

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
) -> Response[Error | ExperimentDetailOutput]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    experiment_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[Error | ExperimentDetailOutput]:
    """An experiment and its results

     Each arm's counts and rates, its difference from the control with a confidence interval and p-value,
    and the decision: `collecting` until every live arm reaches the fixed horizon
    (`min_impressions_per_arm`), then `winner` or `no_difference` (two-proportion z-test, Bonferroni
    over the candidates).

    Args:
        experiment_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ExperimentDetailOutput]
    """

    kwargs = _get_kwargs(
        experiment_id=experiment_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    experiment_id: int,
    *,
    client: AuthenticatedClient,
) -> Error | ExperimentDetailOutput | None:
    """An experiment and its results

     Each arm's counts and rates, its difference from the control with a confidence interval and p-value,
    and the decision: `collecting` until every live arm reaches the fixed horizon
    (`min_impressions_per_arm`), then `winner` or `no_difference` (two-proportion z-test, Bonferroni
    over the candidates).

    Args:
        experiment_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ExperimentDetailOutput
    """

    return sync_detailed(
        experiment_id=experiment_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    experiment_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[Error | ExperimentDetailOutput]:
    """An experiment and its results

     Each arm's counts and rates, its difference from the control with a confidence interval and p-value,
    and the decision: `collecting` until every live arm reaches the fixed horizon
    (`min_impressions_per_arm`), then `winner` or `no_difference` (two-proportion z-test, Bonferroni
    over the candidates).

    Args:
        experiment_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ExperimentDetailOutput]
    """

    kwargs = _get_kwargs(
        experiment_id=experiment_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    experiment_id: int,
    *,
    client: AuthenticatedClient,
) -> Error | ExperimentDetailOutput | None:
    """An experiment and its results

     Each arm's counts and rates, its difference from the control with a confidence interval and p-value,
    and the decision: `collecting` until every live arm reaches the fixed horizon
    (`min_impressions_per_arm`), then `winner` or `no_difference` (two-proportion z-test, Bonferroni
    over the candidates).

    Args:
        experiment_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ExperimentDetailOutput
    """

    return (
        await asyncio_detailed(
            experiment_id=experiment_id,
            client=client,
        )
    ).parsed
