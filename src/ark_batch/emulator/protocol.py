"""The wire envelope: RequestIds, success and error bodies, and the error table.

Gateway codes carry the CodeN and HTTP status of the facts-sheet table; business codes
(decided in docs/decisions/0003) have no CodeN, so none is invented for them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

__all__ = [
    "ERRORS",
    "SERVICE",
    "EnvelopeError",
    "ErrorSpec",
    "active_job_error",
    "dry_run_error",
    "envelope_headers",
    "error_body",
    "fresh_error_body",
    "not_found_error",
    "request_id",
    "success_body",
]

SERVICE = "ark"
UTC8 = timezone(timedelta(hours=8))


class ErrorSpec(NamedTuple):
    """HTTP status and numeric code (``None``: the service fills no CodeN)."""

    status: int
    code_n: int | None


ERRORS: dict[str, ErrorSpec] = {
    # Gateway codes (facts sheet §3).
    "MissingParameter": ErrorSpec(400, 100002),
    "MissingAuthenticationToken": ErrorSpec(401, 100003),
    "MissingRequestInfo": ErrorSpec(400, 100004),
    "MissingSignature": ErrorSpec(401, 100005),
    "InvalidTimestamp": ErrorSpec(400, 100006),
    "InvalidActionOrVersion": ErrorSpec(404, 100008),
    "InvalidAccessKey": ErrorSpec(401, 100009),
    "SignatureDoesNotMatch": ErrorSpec(401, 100010),
    "InternalError": ErrorSpec(500, 100014),
    "ServiceUnavailableTemp": ErrorSpec(503, 100017),
    "FlowLimitExceeded": ErrorSpec(429, 100018),
    "MethodNotAllowed": ErrorSpec(405, None),
    "InvalidAuthorization": ErrorSpec(400, None),
    "InvalidCredential": ErrorSpec(400, None),
    "InvalidSecretToken": ErrorSpec(401, None),
    # Business codes (docs/decisions/0003).
    "InvalidParameter": ErrorSpec(400, None),
    "MalformedJSON": ErrorSpec(400, None),
    "DryRunOperation": ErrorSpec(400, None),
    "RequestEntityTooLarge": ErrorSpec(413, None),
    "InvalidBatchInferenceJob.NotFound": ErrorSpec(404, None),
    "OperationDenied.ActiveJobExists": ErrorSpec(409, None),
    # Lifecycle actions (docs/decisions/0011).
    "OperationDenied.InvalidJobPhase": ErrorSpec(409, None),
    "OperationDenied.CompletionWindowExpired": ErrorSpec(409, None),
}


class EnvelopeError(Exception):
    """An error answered in the envelope; ``code`` must be a key of :data:`ERRORS`."""

    def __init__(self, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        spec = ERRORS[code]
        self.code = code
        self.message = message
        self.status = spec.status
        self.code_n = spec.code_n
        self.headers = headers or {}


def not_found_error(job_id: str) -> EnvelopeError:
    """404 for an unknown Id (or another account's: the two are not told apart)."""
    return EnvelopeError(
        "InvalidBatchInferenceJob.NotFound",
        f"The batch inference job {job_id[:128]} does not exist.",
    )


def dry_run_error() -> EnvelopeError:
    """The answer to a request that passed its checks with ``DryRun: true``."""
    return EnvelopeError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")


def active_job_error(job_id: str) -> EnvelopeError:
    """409 naming the Queued or Running job that already holds the idempotency key."""
    return EnvelopeError(
        "OperationDenied.ActiveJobExists",
        f"An active batch inference job {job_id} already exists for this project and input file.",
    )


_last_stamp: tuple[int, str] = (-1, "")


def request_id(now: datetime) -> str:
    """``yyyyMMddHHmmss`` in UTC+8 followed by 20 uppercase hex characters (34 in all)."""
    global _last_stamp  # noqa: PLW0603  # one tuple swap; formatting once a second is the point
    second = int(now.timestamp())
    cached_second, stamp = _last_stamp
    if second != cached_second:
        stamp = datetime.fromtimestamp(second, UTC8).strftime("%Y%m%d%H%M%S")
        _last_stamp = (second, stamp)
    return stamp + secrets.token_hex(10).upper()


def _metadata(rid: str, action: str | None, version: str | None, region: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"RequestId": rid}
    if action is not None:
        meta["Action"] = action
    if version is not None:
        meta["Version"] = version
    meta["Service"] = SERVICE
    meta["Region"] = region
    return meta


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _encode(document: dict[str, Any]) -> bytes:
    # A lone surrogate can only sit inside a JSON string, where "\udXXX" is a valid
    # escape, so backslashreplace keeps the output valid JSON instead of raising.
    return _dumps(document).encode("utf-8", "backslashreplace")


def success_body(rid: str, action: str, version: str, region: str, result: dict[str, Any]) -> bytes:
    """``{"ResponseMetadata": {...}, "Result": result}`` as UTF-8 JSON."""
    document = {"ResponseMetadata": _metadata(rid, action, version, region), "Result": result}
    return _encode(document)


def error_body(
    rid: str, action: str | None, version: str | None, region: str, error: EnvelopeError
) -> bytes:
    """The error envelope: ``ResponseMetadata.Error`` = Code, CodeN (gateway codes), Message."""
    err: dict[str, Any] = {"Code": error.code}
    if error.code_n is not None:
        err["CodeN"] = error.code_n
    err["Message"] = error.message
    meta = _metadata(rid, action, version, region)
    meta["Error"] = err
    return _encode({"ResponseMetadata": meta})


def fresh_error_body(
    now: datetime, action: str | None, version: str | None, region: str, error: EnvelopeError
) -> bytes:
    """:func:`error_body` under a new RequestId, for answers given before any handler runs."""
    return error_body(request_id(now), action, version, region, error)


def envelope_headers(
    payload: bytes, extra: Mapping[str, str] | None = None
) -> list[tuple[bytes, bytes]]:
    """The raw response headers of an envelope ``payload``, then ``extra`` (names lowercased)."""
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(payload)).encode("ascii")),
    ]
    if extra:
        for name, value in extra.items():
            headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return headers
