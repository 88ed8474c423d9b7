from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.experiment_output import ExperimentOutput
from ...models.experiment_start_input import ExperimentStartInput
from ...types import Response


def _get_kwargs(
    *,
    body: ExperimentStartInput,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/models/experiments",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | ExperimentOutput | None:
    if response.status_code == 201:
        response_201 = ExperimentOutput.from_dict(response.json())

        return response_201

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

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | ExperimentOutput]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ExperimentStartInput,
) -> Response[Error | ExperimentOutput]:
    """Start an A/B experiment

     Tests candidate versions against the active version (arm 0, the control) with the given traffic
    shares. Users are assigned by a stable hash of tenant, experiment and user id; responses name the
    experiment and arm. While it runs, new versions are not promoted automatically. Audited.

    Args:
        body (ExperimentStartInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ExperimentOutput]
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
    body: ExperimentStartInput,
) -> Error | ExperimentOutput | None:
    """Start an A/B experiment

     Tests candidate versions against the active version (arm 0, the control) with the given traffic
    shares. Users are assigned by a stable hash of tenant, experiment and user id; responses name the
    experiment and arm. While it runs, new versions are not promoted automatically. Audited.

    Args:
        body (ExperimentStartInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ExperimentOutput
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ExperimentStartInput,
) -> Response[Error | ExperimentOutput]:
    """Start an A/B experiment

     Tests candidate versions against the active version (arm 0, the control) with the given traffic
    shares. Users are assigned by a stable hash of tenant, experiment and user id; responses name the
    experiment and arm. While it runs, new versions are not promoted automatically. Audited.

    Args:
        body (ExperimentStartInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ExperimentOutput]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ExperimentStartInput,
) -> Error | ExperimentOutput | None:
    """Start an A/B experiment

     Tests candidate versions against the active version (arm 0, the control) with the given traffic
    shares. Users are assigned by a stable hash of tenant, experiment and user id; responses name the
    experiment and arm. While it runs, new versions are not promoted automatically. Audited.

    Args:
        body (ExperimentStartInput):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ExperimentOutput
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
