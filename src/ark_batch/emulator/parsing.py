"""Request bodies: JSON decoding and validation against the spec's request schemas.

The schemas in spec/openapi.yaml are the only source of field rules
(:func:`ark_batch.spec.request_validator`); this module only turns the first violation
into an :class:`EnvelopeError` that names the offending field.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from typing import Any

from jsonschema.exceptions import ValidationError

from ark_batch.emulator.protocol import EnvelopeError
from ark_batch.spec import request_validator

__all__ = ["field_path", "parse_body", "validation_error"]

_MAX_VALUE_TEXT = 120


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_TOO_DEEP = "The request body is nested too deeply."


def _text(raw: bytes) -> str:
    # json.loads(bytes) decodes with "surrogatepass", which lets the raw bytes of a lone
    # surrogate (ED A0 80) through as a str that no database or encoder accepts; decode
    # strictly instead, in the encoding json would have detected.
    try:
        return raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError as exc:
        raise EnvelopeError(
            "MalformedJSON",
            f"The request body is not valid {exc.encoding.upper()} at byte {exc.start}.",
        ) from None


def _decode(raw: bytes) -> Any:
    text = _text(raw)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise EnvelopeError("MalformedJSON", _TOO_DEEP) from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise EnvelopeError(
            "MalformedJSON", f"The request body is not valid JSON: {exc}."
        ) from None


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def field_path(parts: Iterable[str | int]) -> str:
    """``Filter.Phases[0]`` style name of a field."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except RecursionError:
        # Only a value nested near the interpreter's limit gets here; its kind is enough.
        text = f"a deeply nested {'array' if isinstance(value, list) else 'object'}"
    if len(text) > _MAX_VALUE_TEXT:
        text = text[: _MAX_VALUE_TEXT - 3] + "..."
    return text


def _describe(error: ValidationError) -> str:
    """A short reason, without echoing a long value in full."""
    kind = error.validator
    expected: Any = error.validator_value
    if kind == "maxLength":
        return f"it is longer than {expected} characters"
    if kind == "minLength":
        return f"it is shorter than {expected} character{'s' if expected != 1 else ''}"
    if kind == "maxItems":
        return f"it has more than {expected} items"
    if kind == "pattern":
        return f"{_short(error.instance)} does not match {expected}"
    if kind == "enum":
        return f"{_short(error.instance)} is not one of {', '.join(map(str, expected))}"
    if kind == "type":
        return f"{_short(error.instance)} is not of type {expected}"
    if kind == "maximum":
        return f"{_short(error.instance)} is greater than the maximum of {expected}"
    if kind == "minimum":
        return f"{_short(error.instance)} is less than the minimum of {expected}"
    if kind == "not" and isinstance(expected, dict) and "description" in expected:
        # The spec says why a value is excluded in the `not` subschema's description.
        return str(expected["description"])
    if kind in ("minProperties", "maxProperties"):
        schema: Any = error.schema
        names = " or ".join(schema.get("properties", {}))
        return f"exactly one of {names} is required"
    return str(error.message)[:200]


def validation_error(error: ValidationError) -> EnvelopeError:
    """The EnvelopeError for one jsonschema violation, naming the field."""
    path = list(error.absolute_path)
    instance: Any = error.instance
    schema: Any = error.schema
    if error.validator == "required":
        # jsonschema reports the object, not the missing member: find it.
        missing = next((name for name in schema["required"] if name not in instance), None)
        name = field_path([*path, missing]) if missing else field_path(path)
        return EnvelopeError("MissingParameter", f"The parameter {name} is required.")
    if error.validator == "additionalProperties":
        allowed = schema.get("properties", {})
        extra = sorted(k for k in instance if k not in allowed)
        name = field_path([*path, extra[0]]) if extra else field_path(path)
        return EnvelopeError("InvalidParameter", f"The parameter {name} is not supported.")
    name = field_path(path) or "body"
    if not path:
        return EnvelopeError(
            "InvalidParameter", f"The request body is invalid: {_describe(error)}."
        )
    return EnvelopeError(
        "InvalidParameter", f"The parameter {name} is invalid: {_describe(error)}."
    )


_KIND_RANK = {"required": 0, "additionalProperties": 1}
_MAX_ERRORS = 64


def _rank(error: ValidationError) -> tuple[int, int, str]:
    # A missing field first, then an unknown field, then the shallowest other one:
    # deterministic whatever order jsonschema walks the schema in.
    path = list(error.absolute_path)
    return _KIND_RANK.get(str(error.validator), 2), len(path), field_path(path)


def parse_body(action: str, raw: bytes, validator: Any = None) -> dict[str, Any]:
    """Decode and validate ``action``'s JSON body, or raise the EnvelopeError to answer.

    ``validator`` is the requested Version's, from
    :meth:`ark_batch.spec.SpecRegistry.request_validator`; without it, the newest
    shipped Version's.
    """
    if not raw.strip():
        raise EnvelopeError("MissingParameter", "The request body is required: a JSON object.")
    document = _decode(raw)
    if validator is None:
        validator = request_validator(action)
    # A bounded prefix: a 300,000-item array of wrong types would otherwise collect every
    # error while the event loop waits. The ranking below only needs the first few.
    try:
        # jsonschema builds each error's message with repr() of the instance, which
        # recurses as deep as the value: a value that json.loads just managed to build
        # can still exhaust the stack here, at any depth close to the limit.
        errors = list(itertools.islice(validator.iter_errors(document), _MAX_ERRORS))
        if errors:
            raise validation_error(min(errors, key=_rank))
    except RecursionError:
        raise EnvelopeError("MalformedJSON", _TOO_DEEP) from None
    if b"\\u" in raw and _has_lone_surrogate(document):
        raise EnvelopeError(
            "InvalidParameter", "The request body contains an unpaired surrogate escape."
        )
    result: dict[str, Any] = document
    return result
