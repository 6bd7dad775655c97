"""The line formats: parsing input lines, writing results.jsonl and errors.jsonl lines."""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

import orjson

from ark_batch.emulator.execution.model_backends import ModelError, ModelResponse

__all__ = [
    "ExecutionError",
    "InputError",
    "error_line",
    "is_blank",
    "parse_line",
    "request_id",
    "result_line",
]

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_encode_ascii = json.JSONEncoder(separators=(",", ":")).encode


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON has no such values, and echoing them
    # would write output lines that other JSON parsers reject.
    raise ValueError(f"{name} is not a JSON value")


class _IntegerTooLongError(Exception):
    """An integer with more digits than Python converts (`sys.get_int_max_str_digits`)."""


def _parse_int(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:
        # Python's own message tells the reader to call sys.set_int_max_str_digits().
        raise _IntegerTooLongError from None


_decode = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int).decode
_BOM = b"\xef\xbb\xbf"


class ExecutionError(Exception):
    """Ends the job `Failed`; the message becomes its Status.Message.

    (The client's `ark_batch.errors.JobFailedError` is what a caller sees afterwards.)
    """


class InputError(ExecutionError):
    """The input file is malformed."""


class InputUnavailableError(ExecutionError):
    """The input file is missing or cannot be read: it may be back later, so a job that
    had made progress keeps it (`JobRunner`)."""


def is_blank(raw: bytes, line_no: int) -> bool:
    """Whether a line is skipped and not counted: only whitespace (after a first-line BOM).

    Both passes must agree on this, or Total and the execute pass's lines disagree.
    """
    if line_no == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    # isspace() stops at the first other byte and copies nothing, unlike strip().
    return not raw or raw.isspace()


def parse_line(raw: bytes, line_no: int, *, exact_numbers: bool = False) -> tuple[str, Any]:
    """``(custom_id, body)`` of a non-blank input line; raises `InputError`.

    Integers beyond 64 bits come back as floats unless `exact_numbers` is set, which is
    slower; a body that is forwarded as it is needs it. Either way a line is accepted or
    refused alike, with the same message.
    """
    if line_no == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]  # the input is UTF-8; a BOM is tolerated on the first line
    if exact_numbers:
        return _parse_slowly(raw, line_no)
    try:
        # orjson is about 5x faster than json and accepts a subset of what json does (it
        # rejects NaN, invalid UTF-8 and lone surrogate escapes); anything it rejects
        # goes through the json path, which decides and words the error.
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _parse_slowly(raw, line_no)
    if type(obj) is not dict:
        raise InputError(f"Invalid input file: line {line_no} is not a JSON object.")
    custom_id = obj.get("custom_id")
    if type(custom_id) is str and custom_id:
        return custom_id, obj.get("body")
    return _custom_id(obj, line_no), obj.get("body")  # raises: the right message


def _parse_slowly(raw: bytes, line_no: int) -> tuple[str, Any]:
    """`parse_line` for what orjson refused: the json module's verdict and message."""
    try:
        obj = _decode(raw.decode())
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InputError(f"Invalid input file: line {line_no} is not valid JSON ({exc}).") from None
    except RecursionError:
        raise InputError(f"Invalid input file: line {line_no} is nested too deeply.") from None
    except _IntegerTooLongError:
        raise InputError(
            f"Invalid input file: line {line_no} has an integer of more than "
            f"{sys.get_int_max_str_digits()} digits."
        ) from None
    if type(obj) is not dict:
        raise InputError(f"Invalid input file: line {line_no} is not a JSON object.")
    custom_id = _custom_id(obj, line_no)
    if not _is_utf8_text(custom_id):
        # A JSON escape such as "\udc00" decodes to a lone surrogate: it could not be
        # indexed, hashed into a request id or written to an output file.
        raise InputError(f"Invalid input file: line {line_no}: custom_id is not valid UTF-8 text.")
    return custom_id, obj.get("body")


def _custom_id(obj: dict[str, Any], line_no: int) -> str:
    """The line's custom_id if it is a non-empty string; raises `InputError` if not."""
    if "custom_id" not in obj:
        raise InputError(f"Invalid input file: line {line_no} has no custom_id.")
    custom_id = obj["custom_id"]
    if type(custom_id) is not str or not custom_id:
        raise InputError(
            f"Invalid input file: line {line_no}: custom_id must be a non-empty string."
        )
    return custom_id


def _is_utf8_text(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


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
    return _dump(line)


def error_line(custom_id: str, request_id: str, error: ModelError) -> bytes:
    """An errors.jsonl line (newline included)."""
    line = {
        "id": request_id,
        "custom_id": custom_id,
        "response": None,
        "error": {"code": error.code, "type": error.type, "message": error.message},
    }
    return _dump(line)


def _dump(line: dict[str, Any]) -> bytes:
    """One output line, newline included; valid UTF-8 JSON whatever its strings hold."""
    try:
        # The same compact UTF-8 JSON as json writes, several times faster. Concatenating
        # the newline copies the line out of orjson's buffer, which stays 4 KiB however
        # short the line: a chunk of lines would otherwise hold several times its size.
        return orjson.dumps(line) + b"\n"
    except orjson.JSONEncodeError:
        pass  # e.g. an integer beyond 64 bits or a lone surrogate: json can write both
    try:
        return _encode(line).encode() + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate (from a valid JSON escape in the input, e.g. "\ud800", echoed
        # back) has no UTF-8 form; escaping everything to ASCII keeps the line valid JSON
        # that reads back to the same strings.
        return _encode_ascii(line).encode() + b"\n"
