"""Whole request bodies for every request command: ``--input-json`` and ``--set``.

``--input-json FILE|-`` reads a request body in the service's JSON (the AWS CLI
convention); the command's own flags then override its fields. Each ``--set
Field.Sub=VALUE`` sets one field by its dotted path to the string VALUE, and ``--set
Field:=JSON`` to a JSON value (HTTPie's convention: ``--set PageSize:=5``), so a model
version such as ``240615`` stays a string. The
result is checked by the generated request model's ``from_dict``: a missing required
field, a wrong shape or a field the model does not know is a usage error (exit 2), so a
field added to the spec is usable here after ``nox -s generate`` and nothing else.
"""

from __future__ import annotations

import json
import linecache
import math
import re
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, Self, TypeVar

import typer

from ark_batch.cli.failures import UsageError

__all__ = ["InputJsonOpt", "SetOpt", "build_request", "request_body"]

InputJsonOpt = Annotated[
    str | None,
    typer.Option(
        "--input-json",
        metavar="FILE|-",
        help="The whole request body as JSON, from a file or - for stdin; "
        "flags and --set override its fields.",
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="FIELD=VALUE|FIELD:=JSON",
        help="Set one request field, named by its dotted path in the service's JSON, to a "
        "string (--set Filter.Name=nightly) or with := to a JSON value (--set PageSize:=5). "
        "Repeatable.",
    ),
]


class _Model(Protocol):
    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self: ...

    def to_dict(self) -> dict[str, Any]: ...


M = TypeVar("M", bound=_Model)


def read_input_json(source: str) -> dict[str, Any]:
    """The JSON object in ``source`` (a path, or ``-`` for stdin)."""
    where = "stdin" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise UsageError(f"--input-json {where}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--input-json {where} is not UTF-8 text (byte {exc.start})") from None
    document = _json(text, f"--input-json {where}")
    if not isinstance(document, dict):
        raise UsageError(f"--input-json {where} is not a JSON object")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a JSON number the service reads")
    return value


_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def _json(text: str, what: str) -> Any:
    """``text`` as strict JSON: no NaN or Infinity, which would be sent as invalid JSON."""
    try:
        return _decoder.decode(text)
    except RecursionError:
        raise UsageError(f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise UsageError(f"{what} is not JSON: {exc}") from None


def apply_set(body: dict[str, Any], assignment: str) -> None:
    """Apply one ``Field.Sub=VALUE`` (a string) or ``Field.Sub:=JSON`` to ``body``."""
    path, sep, raw = assignment.partition("=")
    is_json = path.endswith(":")
    path = path.removesuffix(":")
    keys = path.split(".")
    if not sep or not all(keys):
        raise UsageError(f"--set expects FIELD=VALUE or FIELD:=JSON, got {assignment!r}")
    value: Any = raw
    if is_json:
        value = _json(raw, f"--set {path}:= value")
    target = body
    for depth, key in enumerate(keys[:-1]):
        child = target.setdefault(key, {})
        if not isinstance(child, dict):
            where = ".".join(keys[: depth + 1])
            raise UsageError(f"--set {path}: {where} is not an object")
        target = child
    target[keys[-1]] = value


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it; objects merge, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, Mapping):
            merged[key] = merge(old, value)
        else:
            merged[key] = value
    return merged


def request_body(
    input_json: str | None, flags: Mapping[str, Any], sets: list[str] | None
) -> dict[str, Any]:
    """``--input-json``, then the flags, then each ``--set``."""
    body = read_input_json(input_json) if input_json else {}
    body = merge(body, flags)
    for assignment in sets or ():
        apply_set(body, assignment)
    return body


def _unknown(sent: Any, kept: Any, path: str) -> list[str]:
    if isinstance(sent, dict) and isinstance(kept, dict):
        found = []
        for key, value in sent.items():
            where = f"{path}.{key}" if path else key
            if key not in kept:
                if value is not None:  # an explicit null reads as absent (decision 0009)
                    found.append(where)
            else:
                found.extend(_unknown(value, kept[key], where))
        return found
    if isinstance(sent, list) and isinstance(kept, list):
        return [
            name
            for n, (a, b) in enumerate(zip(sent, kept, strict=False))
            for name in _unknown(a, b, f"{path}[{n}]")
        ]
    return []


#: How a generated ``from_dict`` reads a member: ``d.pop("Name"`` (generator/ templates).
_POP = re.compile(r'd\.pop\("([^"]+)"')


@dataclass
class _Failure:
    """Where in the body a generated ``from_dict`` failed."""

    path: list[str | int]
    #: The member read was a list (the failure came while reading its items).
    list_member: bool = False


def _failure(exc: BaseException, body: Mapping[str, Any]) -> _Failure:
    """The member of ``body`` the generated models were reading when ``exc`` was raised.

    The models do not say which member they failed on, so this reads the traceback: in
    each ``from_dict`` frame, the last ``d.pop("Member"`` line before the failing line
    names the member, and the item of a list is found by identity.
    """
    failure = _Failure([])
    value: Any = body
    for frame, line_no in traceback.walk_tb(exc.__traceback__):
        code = frame.f_code
        if code.co_name != "from_dict" or not isinstance(value, Mapping):
            continue
        lines = linecache.getlines(code.co_filename)
        end = line_no
        # A call split over lines (``X.from_dict(`` then ``d.pop("Member")``) fails on its
        # first line: read on to the end of the call.
        while end < len(lines) and lines[end - 1].rstrip().endswith("("):
            end += 1
        source = lines[code.co_firstlineno - 1 : end]
        for back, line in enumerate(reversed(source)):
            member = _POP.search(line)
            if member is None:
                continue
            failure.path.append(member[1])
            value = value.get(member[1])
            failure.list_member = any(" for " in text for text in source[len(source) - back :])
            break
        else:
            return failure
        if isinstance(value, list):
            item = next(
                (n for n, x in enumerate(value) if _reads(frame, x)),
                None,
            )
            if item is not None:
                failure.path.append(item)
                failure.list_member = False
                value = value[item]
    return failure


def _reads(frame: Any, item: Any) -> bool:
    """Whether ``frame`` was reading ``item`` of a list when it failed."""
    return any(
        name.endswith("_item_data") and local is item for name, local in frame.f_locals.items()
    )


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number")


def build_request(
    model: type[M], body: dict[str, Any], *, hints: Mapping[str, str] | None = None
) -> M:
    """``model.from_dict(body)``, with every problem as one usage error naming its field.

    ``hints`` names the flag that sets a required field, for the message when it is missing.
    """
    what = model.__name__.removesuffix("Request")
    try:
        request = model.from_dict(body)
    except KeyError as exc:
        missing = str(exc.args[0])
        failure = _failure(exc, body)
        if failure.path[-1:] == [missing]:  # the failing line is the pop of the member
            failure.path.pop()
        where = field_path([*failure.path, missing])
        if not failure.path:
            flag = (hints or {}).get(missing)
            ways = f"{flag}, " if flag else ""
            fix = f"give {ways}--set {missing}=VALUE or --input-json FILE"
        elif any(isinstance(part, int) for part in failure.path):
            # --set cannot reach into a list: the whole list is given again.
            fix = f"give the whole list with --set {failure.path[0]}:=JSON or --input-json FILE"
        else:
            fix = f"give --set {where}=VALUE or --input-json FILE"
        raise UsageError(f"the {what} request has no {where}: {fix}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        failure = _failure(exc, body)
        if not failure.path:
            raise UsageError(f"the {what} request is not valid: {exc}") from None
        value = _value_at(body, failure.path)
        if failure.list_member and not isinstance(value, list):
            reason = f"expects a list, not {_json_kind(value)}"
        elif isinstance(exc, AttributeError) and not isinstance(value, dict):
            reason = f"expects an object, not {_json_kind(value)}"
        else:
            reason = str(exc)
        raise UsageError(
            f"the {what} request is not valid: {field_path(failure.path)}: {reason}"
        ) from None
    unknown = _unknown(body, request.to_dict(), "")
    if unknown:
        raise UsageError(f"the {what} request has no field {', '.join(unknown)}")
    return request


def _value_at(body: Any, path: list[str | int]) -> Any:
    for part in path:
        body = body[part]
    return body


def field_path(parts: list[str | int]) -> str:
    """``Tags[0].Value`` style name of a member."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text
