"""The line formats: parsing input lines, writing results.jsonl and errors.jsonl lines."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ark_batch.emulator.execution.models import ModelError, ModelResponse

__all__ = [
    "InputError",
    "JobFailedError",
    "error_line",
    "parse_line",
    "request_id",
    "result_line",
]

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_decode = json.JSONDecoder().decode


class JobFailedError(Exception):
    """Ends the job `Failed`; the message becomes its Status.Message."""


class InputError(JobFailedError):
    """The input file is malformed."""


def parse_line(raw: bytes, line_no: int) -> tuple[str, Any]:
    """``(custom_id, body)`` of a non-blank input line; raises `InputError`."""
    try:
        # Decoding first and calling the decoder directly skips json.loads' per-call
        # encoding detection; the input is UTF-8 (a BOM is tolerated on the first line).
        text = raw.decode()
        if line_no == 1 and text.startswith("\ufeff"):
            text = text[1:]
        obj = _decode(text)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InputError(f"Invalid input file: line {line_no} is not valid JSON ({exc}).") from None
    if type(obj) is not dict:
        raise InputError(f"Invalid input file: line {line_no} is not a JSON object.")
    if "custom_id" not in obj:
        raise InputError(f"Invalid input file: line {line_no} has no custom_id.")
    custom_id = obj["custom_id"]
    if type(custom_id) is not str or not custom_id:
        raise InputError(
            f"Invalid input file: line {line_no}: custom_id must be a non-empty string."
        )
    return custom_id, obj.get("body")


def request_id(stamp: str, job_id: str, custom_id: str) -> str:
    """A deterministic request id in the RequestId shape: 14-digit stamp + 20 hex."""
    digest = hashlib.blake2b(f"{job_id}\0{custom_id}".encode(), digest_size=10).hexdigest()
    return stamp + digest.upper()


def result_line(custom_id: str, response: ModelResponse) -> bytes:
    """A results.jsonl line (newline included)."""
    line = {
        "id": response.request_id,
        "custom_id": custom_id,
        "error": None,
        "response": {
            "request_id": response.request_id,
            "status_code": 200,
            "body": response.body,
        },
    }
    return _encode(line).encode() + b"\n"


def error_line(custom_id: str, request_id: str, error: ModelError) -> bytes:
    """An errors.jsonl line (newline included)."""
    line = {
        "id": request_id,
        "custom_id": custom_id,
        "response": None,
        "error": {"code": error.code, "type": error.type, "message": error.message},
    }
    return _encode(line).encode() + b"\n"
