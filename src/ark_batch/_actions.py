"""Request bodies, URLs and response parsing shared by the sync and async facades."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, TypedDict, Unpack

import httpx

from ark_batch._api import (
    CREATE,
    DELETE,
    GET,
    LIST,
    RESUME,
    STOP,
    UPDATE,
)
from ark_batch._json_types import JsonTypeError, check_result
from ark_batch.errors import (
    ApiError,
    ConnectError,
    RedirectError,
    RequestTimeoutError,
    TransportError,
    UnexpectedResponseError,
    error_from_response,
)
from ark_batch_client.models import (
    BatchInferenceJob,
    CreateBatchInferenceJobRequest,
    CreateBatchInferenceJobResult,
    DeleteBatchInferenceJobRequest,
    DeleteBatchInferenceJobResult,
    FoundationModelFilter,
    FoundationModelInput,
    ListBatchInferenceJobsRequest,
    ListBatchInferenceJobsResult,
    ListFilter,
    ModelReferenceInput,
    ResumeBatchInferenceJobRequest,
    ResumeBatchInferenceJobResult,
    StopBatchInferenceJobRequest,
    StopBatchInferenceJobResult,
    TagFilter,
    TagInput,
    TosLocationInput,
    UpdateBatchInferenceJobRequest,
    UpdateBatchInferenceJobResult,
)
from ark_batch_client.models.job_phase import check_job_phase
from ark_batch_client.models.list_batch_inference_jobs_request_sort_by import (
    check_list_batch_inference_jobs_request_sort_by,
)
from ark_batch_client.models.list_batch_inference_jobs_request_sort_order import (
    check_list_batch_inference_jobs_request_sort_order,
)
from ark_batch_client.types import UNSET, Unset

__all__ = [
    "CREATE",
    "DELETE",
    "GET",
    "JSON_HEADERS",
    "LIST",
    "RESUME",
    "STOP",
    "UPDATE",
    "create_request",
    "encode",
    "list_request",
    "parse",
    "parse_dry_run",
    "transport_error",
]

JSON_HEADERS: Final = {"Content-Type": "application/json"}


def encode(body: Mapping[str, Any], extra_body: Mapping[str, Any] | None = None) -> bytes:
    """Compact UTF-8 JSON: the exact bytes sent and signed.

    ``extra_body`` is merged over the top-level fields: a pass-through for fields the
    facade does not know by name (openai-python's convention).
    """
    if extra_body:
        body = {**body, **extra_body}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def drop_nulls(value: Any) -> Any:
    """``value`` without null-valued object keys, at any depth.

    An explicit JSON null in an optional response field reads as absent (decision 0002).
    """
    if isinstance(value, dict):
        return {key: drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [drop_nulls(item) for item in value]
    return value


def is_aiohttp_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from aiohttp (the httpx-aiohttp transport), by its module."""
    return type(exc).__module__.startswith("aiohttp")


def _aiohttp_error(exc: BaseException, action: str, where: str) -> TransportError | None:
    """Classify an aiohttp failure by its own type.

    httpx-aiohttp maps every ``ClientConnectionError`` (a server that hung up after the
    request was sent included) to ``httpx.ConnectTimeout``; only a failure to connect
    means the request was not sent, so Create must not be retried on the others.
    """
    if not is_aiohttp_error(exc):
        return None
    import aiohttp  # noqa: PLC0415  # only reached when the aiohttp transport is in use

    detail = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(
            f"cannot connect{where} ({action}): {detail}", action=action, sent=False
        )
    if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        return RequestTimeoutError(f"timed out ({action}): {detail}", action=action)
    return TransportError(f"transport error ({action}): {detail}", action=action)


def transport_error(exc: BaseException, action: str, origin: str | None = None) -> TransportError:
    """Our exception for an httpx (or aiohttp) transport failure.

    ``origin`` (scheme, host and port, no credentials) is named when the connection
    could not be opened.
    """
    where = f" to {origin}" if origin else ""
    for candidate in (exc, exc.__cause__):
        if candidate is not None:
            mapped = _aiohttp_error(candidate, action, where)
            if mapped is not None:
                return mapped
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        # The connection was never established: the request did not leave the client.
        return ConnectError(
            f"cannot connect{where} ({action}): {detail}", action=action, sent=False
        )
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(f"timed out ({action}): {detail}", action=action)
    return TransportError(f"transport error ({action}): {detail}", action=action)


def _read_result(action: str, result: Any, has_null: bool = True) -> Any:
    model = RESULT_MODELS.get(action)
    cleaned = drop_nulls(result) if has_null else result
    if model is None:
        return cleaned
    # A field of the wrong JSON type, or a required one sent as null (decision 0009),
    # becomes parse's UnexpectedResponseError naming the field.
    check_result(model, cleaned)
    return model.from_dict(cleaned)


#: How each action's ``Result`` is read. Actions with no entry answer an empty Result.
RESULT_MODELS: dict[str, Any] = {
    CREATE: CreateBatchInferenceJobResult,
    GET: BatchInferenceJob,
    LIST: ListBatchInferenceJobsResult,
    STOP: StopBatchInferenceJobResult,
    RESUME: ResumeBatchInferenceJobResult,
    UPDATE: UpdateBatchInferenceJobResult,
    DELETE: DeleteBatchInferenceJobResult,
}


def parse(action: str, status: int, headers: Mapping[str, str], content: bytes) -> Any:
    """The ``Result`` model of a 2xx response; raise the right error otherwise."""
    if 200 <= status < 300:
        try:
            # A body with no "null" anywhere has no null to drop: skip the walk.
            has_null = b"null" in content
            return _read_result(action, json.loads(content)["Result"], has_null)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            # A gateway that answers 200 with the error envelope still gets a typed error.
            error = error_from_response(status, headers, content, action=action)
            if isinstance(error, ApiError):
                raise error from None
            if isinstance(exc, JsonTypeError):
                detail = str(exc)
            elif isinstance(exc, RecursionError):
                detail = "RecursionError: nested too deeply"
            else:
                detail = f"{type(exc).__name__}: {exc}"
            raise UnexpectedResponseError(
                f"2xx body does not match {action}Response ({detail})",
                status=status,
                body=content,
                action=action,
                request_id=error.request_id,
            ) from None
    if 300 <= status < 400 and "location" in headers:
        raise RedirectError(status=status, location=headers["location"], action=action)
    raise error_from_response(status, headers, content, action=action)


def parse_dry_run(action: str, status: int, headers: Mapping[str, str], content: bytes) -> Any:
    """Like :func:`parse`, for a ``DryRun`` request: a passing one raises DryRunSucceeded.

    A 2xx is no pass: the service answers a passing dry run with ``DryRunOperation``,
    and a 2xx that reads as the action's result means it ignored ``DryRun`` and acted.
    """
    result = parse(action, status, headers, content)
    created = getattr(result, "id", None)
    done = f"created job {created}" if isinstance(created, str) else "acted on the request"
    raise UnexpectedResponseError(
        f"the service {done} although DryRun was set (a passing dry run is answered "
        "DryRunOperation)",
        status=status,
        body=content,
        action=action,
        request_id=headers.get("x-tt-logid") or headers.get("x-request-id"),
    )


# --- request builders --------------------------------------------------------------------


def tos_location(value: str | TosLocationInput) -> TosLocationInput:
    """``bucket/key``, ``tos://bucket/key`` or ``s3://bucket/key`` as a location."""
    if isinstance(value, TosLocationInput):
        return value
    text = value
    for scheme in ("tos://", "s3://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
            break
    bucket, sep, key = text.partition("/")
    if not sep or not bucket or not key:
        raise ValueError(f"expected bucket/key or tos://bucket/key, got {value!r}")
    return TosLocationInput(bucket_name=bucket, object_key=key)


def model_reference(
    model: str | None, model_version: str | None, custom_model_id: str | None
) -> ModelReferenceInput:
    """Exactly one of a foundation model (``name`` + version) or a custom model Id.

    ``model`` may also be ``name:version``.
    """
    if custom_model_id:
        if model:
            raise ValueError("give either model or custom_model_id, not both")
        return ModelReferenceInput(custom_model_id=custom_model_id)
    if not model:
        raise ValueError("a model (name and version) or custom_model_id is required")
    name, sep, version = model.partition(":")
    version = model_version or (version if sep else "")
    if not version:
        raise ValueError(f"model {model!r} needs a version (model_version= or name:version)")
    return ModelReferenceInput(
        foundation_model=FoundationModelInput(name=name, model_version=version)
    )


class JobFields(TypedDict, total=False):
    """The plain-value fields of a Create; see :func:`create_request`."""

    name: str | None
    model: str | None
    model_version: str | None
    custom_model_id: str | None
    input: str | TosLocationInput | None
    output: str | TosLocationInput | None
    description: str | None
    project_name: str | None
    completion_window: str | None
    tags: Mapping[str, str] | None


class ListFilters(TypedDict, total=False):
    """The plain-value filters and order of a List; see :func:`list_request`."""

    project_name: str | None
    phases: Sequence[str] | None
    name: str | None
    ids: Sequence[str] | None
    custom_model_ids: Sequence[str] | None
    foundation_models: Mapping[str, Sequence[str] | None] | None
    tags: Mapping[str, Sequence[str] | None] | None
    sort_by: str | None
    sort_order: str | None


def create_request(
    *,
    name: str,
    input: str | TosLocationInput,
    output: str | TosLocationInput,
    model: str | None = None,
    model_version: str | None = None,
    custom_model_id: str | None = None,
    description: str | None = None,
    project_name: str | None = None,
    completion_window: str | None = None,
    tags: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> CreateBatchInferenceJobRequest:
    """A :class:`CreateBatchInferenceJobRequest` from plain values."""
    return CreateBatchInferenceJobRequest(
        name=name,
        model_reference=model_reference(model, model_version, custom_model_id),
        input_file_tos_location=tos_location(input),
        output_dir_tos_location=tos_location(output),
        description=UNSET if description is None else description,
        project_name=UNSET if project_name is None else project_name,
        completion_window=UNSET if completion_window is None else completion_window,
        tags=UNSET if tags is None else [TagInput(key=k, value=v) for k, v in tags.items()],
        dry_run=True if dry_run else UNSET,
    )


def _opt(values: Iterable[str] | None) -> list[str] | Unset:
    return UNSET if values is None else list(values)


def list_request(
    *,
    page_number: int | None = None,
    page_size: int | None = None,
    **filters: Unpack[ListFilters],
) -> ListBatchInferenceJobsRequest:
    """A :class:`ListBatchInferenceJobsRequest` from plain values.

    ``foundation_models`` maps a model name to its versions (``None``: any version);
    ``tags`` maps a tag key to accepted values (``None`` or empty: any value).
    ``page_number``/``page_size`` default to the generated model's (the spec's) defaults.
    """
    project_name = filters.get("project_name")
    phases = filters.get("phases")
    name = filters.get("name")
    ids = filters.get("ids")
    custom_model_ids = filters.get("custom_model_ids")
    foundation_models = filters.get("foundation_models")
    tags = filters.get("tags")
    sort_by = filters.get("sort_by")
    sort_order = filters.get("sort_order")
    filter_: ListFilter | Unset = UNSET
    if any(x is not None for x in (phases, name, ids, custom_model_ids, foundation_models)):
        filter_ = ListFilter(
            ids=_opt(ids),
            name=UNSET if name is None else name,
            phases=UNSET if phases is None else [check_job_phase(p) for p in phases],
            custom_model_ids=_opt(custom_model_ids),
            foundation_models=UNSET
            if foundation_models is None
            else [
                FoundationModelFilter(name=model, model_versions=_opt(versions))
                for model, versions in foundation_models.items()
            ],
        )
    request = ListBatchInferenceJobsRequest(
        project_name=UNSET if project_name is None else project_name,
        tag_filters=UNSET
        if tags is None
        else [TagFilter(key=k, values=_opt(v)) for k, v in tags.items()],
        filter_=filter_,
    )
    if page_number is not None:
        request.page_number = page_number
    if page_size is not None:
        request.page_size = page_size
    if sort_by is not None:
        request.sort_by = check_list_batch_inference_jobs_request_sort_by(sort_by)
    if sort_order is not None:
        request.sort_order = check_list_batch_inference_jobs_request_sort_order(sort_order)
    return request


# --- lifecycle request builders ----------------------------------------------------------


def stop_request(job_id: str, *, dry_run: bool = False) -> StopBatchInferenceJobRequest:
    """A :class:`StopBatchInferenceJobRequest`."""
    return StopBatchInferenceJobRequest(id=job_id, dry_run=True if dry_run else UNSET)


def resume_request(job_id: str) -> ResumeBatchInferenceJobRequest:
    """A :class:`ResumeBatchInferenceJobRequest` (the action has no DryRun)."""
    return ResumeBatchInferenceJobRequest(id=job_id)


def update_request(
    job_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    dry_run: bool = False,
) -> UpdateBatchInferenceJobRequest:
    """An :class:`UpdateBatchInferenceJobRequest`; at least one of name or description."""
    if name is None and description is None:
        raise ValueError("give a new name, a new description, or both")
    return UpdateBatchInferenceJobRequest(
        id=job_id,
        name=UNSET if name is None else name,
        description=UNSET if description is None else description,
        dry_run=True if dry_run else UNSET,
    )


def delete_request(job_id: str, *, dry_run: bool = False) -> DeleteBatchInferenceJobRequest:
    """A :class:`DeleteBatchInferenceJobRequest`."""
    return DeleteBatchInferenceJobRequest(id=job_id, dry_run=True if dry_run else UNSET)
