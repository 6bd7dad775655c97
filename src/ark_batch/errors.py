"""Exception hierarchy for the handwritten ark_batch package.

Everything raised on purpose derives from :class:`ArkBatchError`:

* :class:`ApiError` and its subclasses: the service answered with its documented error
  envelope. Each carries the HTTP ``status``, ``code``, ``code_n``, ``message``,
  ``request_id`` and ``action``. Subclasses group codes by meaning (authentication,
  not found, throttled, ...); catch the base class to handle them all.
* :class:`TransportError`: no HTTP response at all (connection refused, timeout, ...).
* :class:`UnexpectedResponseError`: a response that is not the documented JSON envelope
  (an HTML page from a proxy, a truncated body, a 200 without ``Result``).
* :class:`WaitTimeoutError` and :class:`JobFailedError` from waiting on a job.

This module imports only the standard library, so ``import ark_batch`` stays cheap.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from datetime import datetime

    from ark_batch_client.models import BatchInferenceJob, ErrorResponse, RequestCounts
    from ark_batch_client.types import Response

T = TypeVar("T")

__all__ = [
    "ActiveJobExistsError",
    "ApiError",
    "ArkBatchError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConnectError",
    "DeadlineExceededError",
    "DryRunSucceeded",
    "InvalidParameterError",
    "InvalidSettingError",
    "JobFailedError",
    "MissingCredentialsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RedirectError",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "ServerError",
    "ServiceUnavailableError",
    "ThrottledError",
    "TransportError",
    "UnexpectedResponseError",
    "WaitTimeoutError",
    "error_from_response",
    "http_date",
    "parse_retry_after",
    "unwrap",
]


class ArkBatchError(Exception):
    """Base class for every error raised by ark_batch.

    Errors pickle with their attributes (for process pools and task queues), whatever
    their constructor's signature.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[ArkBatchError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class MissingCredentialsError(ArkBatchError):
    """No complete access-key/secret-key pair could be resolved.

    The message names the arguments or environment variables to set; it never
    contains a credential value.
    """


class InvalidSettingError(ArkBatchError, ValueError):
    """A credential or setting that cannot be used as given: a key with a trailing
    newline, a region with a space.

    The message names the setting and what is wrong with it; it never contains a
    credential value.
    """


# --- documented service errors ---------------------------------------------------------


class ApiError(ArkBatchError):
    """The service answered with its error envelope (``ResponseMetadata.Error``)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        code_n: int | None = None,
        request_id: str | None = None,
        action: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.code_n = code_n
        self.message = message
        self.request_id = request_id
        self.action = action
        #: Seconds from a ``Retry-After`` header, if the response carried one.
        self.retry_after = retry_after
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``Code (HTTP 404): Message [RequestId: ..., Action: ...]`` on a single line."""
        code = self.code if self.code_n is None else f"{self.code}/{self.code_n}"
        extra = [f"RequestId: {self.request_id or '-'}"]
        if self.action:
            extra.append(f"Action: {self.action}")
        message = " ".join(self.message.split())
        return f"{code} (HTTP {self.status}): {message} [{', '.join(extra)}]"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
            f"code_n={self.code_n!r}, message={self.message!r}, "
            f"request_id={self.request_id!r}, action={self.action!r})"
        )


class BadRequestError(ApiError):
    """HTTP 400 (and 405/413): the request itself is wrong."""


class InvalidParameterError(BadRequestError):
    """``InvalidParameter``, ``MissingParameter`` or ``MalformedJSON``."""


class DryRunSucceeded(BadRequestError):  # named after the service's code
    """``DryRunOperation``: a ``DryRun`` request passed validation; nothing was created.

    The service reports success of a dry run as a 400. :meth:`ArkBatch.validate_job`
    turns this into a normal return; the generated functions hand you the envelope.
    """


class AuthenticationError(ApiError):
    """The signature or credentials were rejected (401, or a 400 auth code)."""


class PermissionDeniedError(ApiError):
    """HTTP 403 ``AccessDenied``."""


class NotFoundError(ApiError):
    """HTTP 404: ``InvalidBatchInferenceJob.NotFound`` or ``InvalidActionOrVersion``."""


class ConflictError(ApiError):
    """HTTP 409: the request conflicts with existing state."""


class ActiveJobExistsError(ConflictError):
    """``OperationDenied.ActiveJobExists``: a Queued/Running job has the same key.

    ``job_id`` is the active job's Id, parsed from the message (``None`` if absent).
    """

    @property
    def job_id(self) -> str | None:
        return parse_active_job_id(self.message)


class ThrottledError(ApiError):
    """HTTP 429 ``FlowLimitExceeded``; ``retry_after`` holds the server's hint, if any."""


class ServerError(ApiError):
    """HTTP 5xx: ``InternalError``, ``UndefinedError``, ..."""


class ServiceUnavailableError(ServerError):
    """HTTP 503 ``ServiceUnavailableTemp``."""


_JOB_ID = re.compile(r"\bbi-[0-9A-Za-z][0-9A-Za-z-]*[0-9A-Za-z]")
# Fallback for other Id shapes: a token with a digit after "job" or "Id".
_ANY_ID = re.compile(
    r"\b(?:job|Id)\s*[:=]?\s*(?=[0-9A-Za-z_-]*[0-9])([0-9A-Za-z][0-9A-Za-z_-]{3,})", re.IGNORECASE
)


def parse_active_job_id(message: str) -> str | None:
    """The job Id inside an ``ActiveJobExists`` message, or ``None``.

    Ids look like ``bi-20240918194641-r2nwq``; other shapes (containing a digit) are accepted
    when the message says ``job <id>`` or ``Id: <id>``.
    """
    match = _JOB_ID.search(message)
    if match:
        return match.group(0)
    match = _ANY_ID.search(message)
    return match.group(1) if match else None


_AUTH_CODES = frozenset(
    {
        "MissingAuthenticationToken",
        "MissingSignature",
        "InvalidAccessKey",
        "SignatureDoesNotMatch",
        "InvalidSecretToken",
        "InvalidAuthorization",
        "InvalidCredential",
        "InvalidTimestamp",
        "MissingRequestInfo",
    }
)
_PARAMETER_CODES = frozenset({"InvalidParameter", "MissingParameter", "MalformedJSON"})
_BY_CODE: dict[str, type[ApiError]] = {
    "DryRunOperation": DryRunSucceeded,
    "OperationDenied.ActiveJobExists": ActiveJobExistsError,
    "FlowLimitExceeded": ThrottledError,
    "AccessDenied": PermissionDeniedError,
    **dict.fromkeys(_AUTH_CODES, AuthenticationError),
    **dict.fromkeys(_PARAMETER_CODES, InvalidParameterError),
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: BadRequestError,
    409: ConflictError,
    413: BadRequestError,
    429: ThrottledError,
    503: ServiceUnavailableError,
}


def api_error_class(status: int, code: str) -> type[ApiError]:
    """The most specific :class:`ApiError` subclass for a status and code."""
    by_code = _BY_CODE.get(code)
    if by_code is not None:
        return by_code
    if code.endswith(".NotFound"):
        return NotFoundError
    by_status = _BY_STATUS.get(status)
    if by_status is not None:
        return by_status
    if status >= 500:
        return ServerError
    if 400 <= status < 500:
        return BadRequestError
    return ApiError


# --- everything else -----------------------------------------------------------------


class TransportError(ArkBatchError):
    """No HTTP response was received (the ``__cause__`` is the httpx exception).

    ``sent`` is ``False`` when the request certainly never left the client (the
    connection could not be opened), ``True`` when it may have reached the service.
    """

    def __init__(self, message: str, *, action: str | None = None, sent: bool = True) -> None:
        self.action = action
        self.sent = sent
        super().__init__(message)


class ConnectError(TransportError):
    """The connection could not be opened; the request was not sent."""


class RequestTimeoutError(TransportError):
    """The request timed out after it may have been sent."""


class DeadlineExceededError(RequestTimeoutError):
    """The call's total deadline passed (however slowly the server kept sending its body)."""


class UnexpectedResponseError(ArkBatchError):
    """A response that is not the documented JSON (non-JSON body, missing fields, ...).

    Carries ``status``, the first 2000 bytes of ``body``, ``request_id`` (from the
    ``X-Tt-Logid``/``X-Request-Id`` header when present) and ``action``.
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int,
        body: bytes = b"",
        action: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.reason = reason
        self.status = status
        self.body = body[:2000]
        self.action = action
        self.request_id = request_id
        self.retry_after = retry_after
        snippet = " ".join(self.body[:200].decode("utf-8", "replace").split())
        where = f" [Action: {action}]" if action else ""
        super().__init__(f"unexpected HTTP {status} response: {reason}{where}: {snippet!r}")


class RedirectError(UnexpectedResponseError):
    """A 3xx answer to a signed call; ``location`` is where it pointed.

    Signed calls never follow redirects: the request would go unsigned, or with its
    session token, to another place.
    """

    def __init__(self, *, status: int, location: str, action: str | None = None) -> None:
        self.location = location
        super().__init__(
            f"redirected to {location!r}; signed calls do not follow redirects "
            "(check the endpoint)",
            status=status,
            action=action,
        )


class ResponseTooLargeError(UnexpectedResponseError):
    """The response body passed the client's ``max_response_bytes``."""


def requests_done(counts: RequestCounts) -> str:
    """``done/total requests done`` from a job's ``RequestCounts``."""
    return f"{counts.completed + counts.failed}/{counts.total} requests done"


class WaitTimeoutError(ArkBatchError):
    """The job did not reach a terminal phase in time.

    ``job`` is the last state seen (``None`` if no poll was answered in time), ``job_id``
    the job waited for, and ``last_error`` the error of the last failed poll, if any.
    """

    def __init__(
        self,
        job: BatchInferenceJob | None,
        timeout: float,
        *,
        job_id: str | None = None,
        last_error: BaseException | None = None,
    ) -> None:
        self.job = job
        self.job_id = job.id if job is not None else job_id
        self.timeout = timeout
        self.last_error = last_error
        if job is not None:
            counts = job.request_counts
            state = f"still {job.status.phase} after {timeout:g}s ({requests_done(counts)})"
        else:
            state = f"not seen within {timeout:g}s"
        cause = f"; last error: {last_error}" if last_error is not None else ""
        super().__init__(f"job {self.job_id} {state}{cause}")


class JobFailedError(ArkBatchError):
    """The job ended ``Failed`` or ``Terminated``; ``job`` is its final state."""

    def __init__(self, job: BatchInferenceJob) -> None:
        self.job = job
        self.phase = job.status.phase
        message = job.status.message
        self.message = message if isinstance(message, str) else ""
        detail = f": {' '.join(self.message.split())}" if self.message else ""
        super().__init__(f"job {job.id} ended {self.phase}{detail}")


# --- building errors from responses -----------------------------------------------------


def http_date(value: str) -> datetime | None:
    """The aware datetime of an HTTP date (``Date``, ``Retry-After``), else None."""
    from datetime import UTC  # noqa: PLC0415  # rare path
    from email.utils import parsedate_to_datetime  # noqa: PLC0415  # rare, slow import

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no stated zone (RFC 5322)
        when = when.replace(tzinfo=UTC)
    return when


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else None.

    A value that is no wait (negative, infinite, not a number, a date already past) is
    None like an unreadable one: the retry policy's own back-off applies, never a retry
    with no pause at all.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from datetime import UTC, datetime  # noqa: PLC0415  # rare path

        when = http_date(value)
        if when is None:
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    action: str | None = None,
) -> ApiError | UnexpectedResponseError:
    """The exception for an error response (status >= 400, or a 2xx that did not parse).

    The documented envelope becomes the matching :class:`ApiError` subclass; anything
    else becomes :class:`UnexpectedResponseError`.
    """
    retry_after = parse_retry_after(headers.get("retry-after"))
    header_request_id = headers.get("x-tt-logid") or headers.get("x-request-id")
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: JSON nested absurdly deep
        document = None
    error: Any = None
    metadata: Any = None
    if isinstance(document, dict):
        metadata = document.get("ResponseMetadata")
        if isinstance(metadata, dict):
            error = metadata.get("Error")
    if not isinstance(error, dict) or not isinstance(error.get("Code"), str):
        reason = "not JSON" if document is None else "no ResponseMetadata.Error in the body"
        return UnexpectedResponseError(
            reason,
            status=status,
            body=content,
            action=action,
            request_id=header_request_id,
            retry_after=retry_after,
        )
    assert isinstance(metadata, dict)
    code: str = error["Code"]
    code_n = error.get("CodeN")
    message = error.get("Message")
    request_id = metadata.get("RequestId")
    meta_action = metadata.get("Action")
    cls = api_error_class(status, code)
    return cls(
        status,
        code,
        message if isinstance(message, str) else "",
        code_n=code_n if isinstance(code_n, int) and not isinstance(code_n, bool) else None,
        request_id=request_id if isinstance(request_id, str) else header_request_id,
        action=meta_action if isinstance(meta_action, str) and meta_action else action,
        retry_after=retry_after,
    )


def unwrap(response: Response[T | ErrorResponse], *, action: str | None = None) -> T:
    """The success model of a generated ``*_detailed`` response, or raise the typed error.

    For users of the generated functions::

        job = unwrap(get_batch_inference_job.sync_detailed(client=client, body=request)).result
    """
    status = int(response.status_code)
    if 200 <= status < 300:
        from ark_batch_client.models import ErrorResponse  # noqa: PLC0415

        parsed = response.parsed
        if parsed is not None and not isinstance(parsed, ErrorResponse):
            return parsed
    raise error_from_response(status, response.headers, response.content, action=action)
