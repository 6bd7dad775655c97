from typing import Any, Literal

import httpx

from ...client import AuthenticatedClient, Client
from ...models.delete_batch_inference_job_request import DeleteBatchInferenceJobRequest
from ...models.delete_batch_inference_job_response import (
    DeleteBatchInferenceJobResponse,
)
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, http_status

_PATH = "/#Action=DeleteBatchInferenceJob"
#: The query parameters' defaults: the URL built once carries them.
_DEFAULT_PARAMS: dict[str, Any] = {
    "Action": "DeleteBatchInferenceJob",
    "Version": "2024-01-01",
}
_urls: dict[int, tuple[httpx.URL, httpx.URL]] = {}


def _url(base_url: httpx.URL) -> httpx.URL:
    """The absolute URL with the default query on ``base_url``, built once per base URL."""
    cached = _urls.get(id(base_url))
    if cached is not None and cached[0] is base_url:
        return cached[1]
    # Joined as httpx joins a relative URL (base_url's path always ends in "/"), so the
    # request is byte for byte what httpx would send.
    relative = httpx.URL(_PATH, params=_DEFAULT_PARAMS)
    url = base_url.copy_with(
        raw_path=base_url.raw_path + relative.raw_path.lstrip(b"/")
    )
    if len(_urls) >= 64:
        _urls.clear()
    # The entry holds base_url itself, so its id cannot be reused while it is cached.
    _urls[id(base_url)] = (base_url, url)
    return url


def _get_kwargs(
    base_url: httpx.URL | None,
    *,
    body: DeleteBatchInferenceJobRequest,
    action: Literal["DeleteBatchInferenceJob"] = "DeleteBatchInferenceJob",
    version: Literal["2024-01-01"] = "2024-01-01",
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": _PATH if base_url is None else _url(base_url),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    if (
        base_url is None
        or action != "DeleteBatchInferenceJob"
        or version != "2024-01-01"
    ):
        # httpx replaces the URL's query with params whenever there are any (a value
        # other than a default, or the client's own params): all of them go in.
        params: dict[str, Any] = {}

        params["Action"] = action

        params["Version"] = version

        params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

        _kwargs["params"] = params
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DeleteBatchInferenceJobResponse | ErrorResponse:
    if response.status_code == 200:
        response_200 = DeleteBatchInferenceJobResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 405:
        response_405 = ErrorResponse.from_dict(response.json())

        return response_405

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = ErrorResponse.from_dict(response.json())

        return response_503

    response_default = ErrorResponse.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DeleteBatchInferenceJobResponse | ErrorResponse]:
    try:
        parsed = _parse_response(client=client, response=response)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        # Not the documented JSON for this status (an HTML page from a proxy, an empty
        # body, an error envelope with a 2xx, a missing field): no model, nothing raised.
        # ark_batch.errors.unwrap turns the status and body into the typed error.
        parsed = None
    return Response(
        status_code=http_status(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=parsed,
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: DeleteBatchInferenceJobRequest,
    action: Literal["DeleteBatchInferenceJob"] = "DeleteBatchInferenceJob",
    version: Literal["2024-01-01"] = "2024-01-01",
) -> Response[DeleteBatchInferenceJobResponse | ErrorResponse]:
    """Delete a batch inference job

     Request line: `POST /?Action=DeleteBatchInferenceJob&Version=2024-01-01`

    Deletes a `Completed`, `Failed` or `Terminated` job: Get and List no longer return it.
    Objects the job wrote under its output prefix stay where they are. A `Queued`,
    `Running` or `Terminating` job is refused with `409 OperationDenied.InvalidJobPhase`:
    stop it first.

    An unknown Id, or one of another account (including a job already deleted), is
    answered `404 InvalidBatchInferenceJob.NotFound`. With `DryRun: true` the same checks
    run, nothing changes, and a request that passes is answered `400 DryRunOperation`.

    Args:
        action (Literal['DeleteBatchInferenceJob']):  Default: 'DeleteBatchInferenceJob'.
        version (Literal['2024-01-01']):  Default: '2024-01-01'.
        body (DeleteBatchInferenceJobRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeleteBatchInferenceJobResponse | ErrorResponse]
    """

    http = client.get_httpx_client()
    kwargs = _get_kwargs(
        base_url=None if http.params else http.base_url,
        body=body,
        action=action,
        version=version,
    )

    response = http.request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: DeleteBatchInferenceJobRequest,
    action: Literal["DeleteBatchInferenceJob"] = "DeleteBatchInferenceJob",
    version: Literal["2024-01-01"] = "2024-01-01",
) -> DeleteBatchInferenceJobResponse | ErrorResponse | None:
    """Delete a batch inference job

     Request line: `POST /?Action=DeleteBatchInferenceJob&Version=2024-01-01`

    Deletes a `Completed`, `Failed` or `Terminated` job: Get and List no longer return it.
    Objects the job wrote under its output prefix stay where they are. A `Queued`,
    `Running` or `Terminating` job is refused with `409 OperationDenied.InvalidJobPhase`:
    stop it first.

    An unknown Id, or one of another account (including a job already deleted), is
    answered `404 InvalidBatchInferenceJob.NotFound`. With `DryRun: true` the same checks
    run, nothing changes, and a request that passes is answered `400 DryRunOperation`.

    Args:
        action (Literal['DeleteBatchInferenceJob']):  Default: 'DeleteBatchInferenceJob'.
        version (Literal['2024-01-01']):  Default: '2024-01-01'.
        body (DeleteBatchInferenceJobRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeleteBatchInferenceJobResponse | ErrorResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        action=action,
        version=version,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: DeleteBatchInferenceJobRequest,
    action: Literal["DeleteBatchInferenceJob"] = "DeleteBatchInferenceJob",
    version: Literal["2024-01-01"] = "2024-01-01",
) -> Response[DeleteBatchInferenceJobResponse | ErrorResponse]:
    """Delete a batch inference job

     Request line: `POST /?Action=DeleteBatchInferenceJob&Version=2024-01-01`

    Deletes a `Completed`, `Failed` or `Terminated` job: Get and List no longer return it.
    Objects the job wrote under its output prefix stay where they are. A `Queued`,
    `Running` or `Terminating` job is refused with `409 OperationDenied.InvalidJobPhase`:
    stop it first.

    An unknown Id, or one of another account (including a job already deleted), is
    answered `404 InvalidBatchInferenceJob.NotFound`. With `DryRun: true` the same checks
    run, nothing changes, and a request that passes is answered `400 DryRunOperation`.

    Args:
        action (Literal['DeleteBatchInferenceJob']):  Default: 'DeleteBatchInferenceJob'.
        version (Literal['2024-01-01']):  Default: '2024-01-01'.
        body (DeleteBatchInferenceJobRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DeleteBatchInferenceJobResponse | ErrorResponse]
    """

    http = client.get_async_httpx_client()
    kwargs = _get_kwargs(
        base_url=None if http.params else http.base_url,
        body=body,
        action=action,
        version=version,
    )

    response = await http.request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: DeleteBatchInferenceJobRequest,
    action: Literal["DeleteBatchInferenceJob"] = "DeleteBatchInferenceJob",
    version: Literal["2024-01-01"] = "2024-01-01",
) -> DeleteBatchInferenceJobResponse | ErrorResponse | None:
    """Delete a batch inference job

     Request line: `POST /?Action=DeleteBatchInferenceJob&Version=2024-01-01`

    Deletes a `Completed`, `Failed` or `Terminated` job: Get and List no longer return it.
    Objects the job wrote under its output prefix stay where they are. A `Queued`,
    `Running` or `Terminating` job is refused with `409 OperationDenied.InvalidJobPhase`:
    stop it first.

    An unknown Id, or one of another account (including a job already deleted), is
    answered `404 InvalidBatchInferenceJob.NotFound`. With `DryRun: true` the same checks
    run, nothing changes, and a request that passes is answered `400 DryRunOperation`.

    Args:
        action (Literal['DeleteBatchInferenceJob']):  Default: 'DeleteBatchInferenceJob'.
        version (Literal['2024-01-01']):  Default: '2024-01-01'.
        body (DeleteBatchInferenceJobRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DeleteBatchInferenceJobResponse | ErrorResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            action=action,
            version=version,
        )
    ).parsed
