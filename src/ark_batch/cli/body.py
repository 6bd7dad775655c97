"""Whole request bodies for every request command: ``--input-json`` and ``--set``.

``--input-json FILE|-`` reads a request body in the service's JSON (the AWS CLI
convention); the command's own flags then override its fields. Each ``--set
Field.Sub=VALUE`` sets one field by its dotted path to the string VALUE, and ``--set
Field:=JSON`` to a JSON value (HTTPie's convention: ``--set PageSize:=5``), so a model
version such as ``240615`` stays a string. The
result is checked against the generated request model's members, then built by its
``from_dict``: a missing required field, a wrong JSON type, a value its enum does not
list or a field the model does not know is a usage error (exit 2) naming the field, so a
field added to the spec is usable here after ``nox -s generate`` and nothing else.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, Self, TypeVar

import typer

from ark_batch.cli.failures import UsageError

if TYPE_CHECKING:
    from ark_batch._json_types import MissingMemberError

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


def build_request(
    model: type[M], body: dict[str, Any], *, hints: Mapping[str, str] | None = None
) -> M:
    """``model.from_dict(body)``, with every problem as one usage error naming its field.

    The body is checked first against the generated model's declared members (required
    ones, JSON types, enum values), so an error names the member by its path
    (``Tags[0].Value``). ``hints`` names the flag that sets a required top-level field.
    """
    # Here, not at the top: it loads the generated models, which `--help` does not need.
    from ark_batch._json_types import (  # noqa: PLC0415
        JsonTypeError,
        MissingMemberError,
        NotAChoiceError,
        check_request,
        kind,
        kind_of,
    )

    what = f"the {model.__name__.removesuffix('Request')} request"
    try:
        check_request(model, body)
    except MissingMemberError as missing:
        raise UsageError(f"{what} has no {missing.where}: {_fix(missing, hints)}") from None
    except NotAChoiceError as wrong:
        raise UsageError(
            f"{what} is not valid: {wrong.where}: {_short(wrong.value)} is not one of "
            f"{', '.join(sorted(wrong.choices))}"
        ) from None
    except JsonTypeError as wrong:
        where = wrong.where or "the body"
        raise UsageError(
            f"{what} is not valid: {where}: expects {kind_of(wrong.expected)}, "
            f"not {kind(wrong.value)}"
        ) from None
    try:
        request = model.from_dict(body)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{what} is not valid: {exc}") from None
    unknown = _unknown(body, request.to_dict(), "")
    if unknown:
        raise UsageError(f"{what} has no field {', '.join(unknown)}")
    return request


def _fix(missing: MissingMemberError, hints: Mapping[str, str] | None) -> str:
    """How to give a missing member: its flag or --set at the top, the whole list inside one."""
    top = missing.path[-1]
    if len(missing.path) == 1:
        flag = (hints or {}).get(top)
        ways = f"{flag}, " if flag else ""
        return f"give {ways}--set {top}=VALUE or --input-json FILE"
    if any(part.startswith("[") for part in missing.path):
        # --set cannot reach into a list: the whole list is given again.
        return f"give the whole list with --set {top}:=JSON or --input-json FILE"
    return f"give --set {missing.where}=VALUE or --input-json FILE"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
