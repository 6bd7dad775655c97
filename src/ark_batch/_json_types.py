"""Check the JSON types of a response's ``Result`` against the generated models.

The generated ``from_dict`` copies values as they come: a ``"Phase": ["Running"]`` or a
``"TotalCount": "9"`` would pass and fail later, far from the response, with a builtin
error. :func:`check_result` walks the decoded JSON once before ``from_dict`` and raises
:class:`JsonTypeError` naming the first field of the wrong type. The field types come from
the models' annotations (the spec, through the generator), never from a list kept here.

Responses stay open (decision 0002): unknown fields and nulls are not checked, and an
enum-like string field takes any string. The walk compares exact types (``json.loads``
makes only ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool``) and builds a field's
path only on failure, so a page of jobs costs little more than the ``from_dict`` it guards.
"""

from __future__ import annotations

import datetime
import functools
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs

import ark_batch_client.models
from ark_batch_client.types import Unset

__all__ = ["JsonTypeError", "check_result", "json_name"]


class JsonTypeError(TypeError):
    """A response field whose JSON type is not the one its model declares."""

    def __init__(self, path: list[str], expected: tuple[type, ...], value: Any) -> None:
        self.path = path  # innermost first while the walk unwinds
        self.expected = expected
        self.value = value
        super().__init__()

    def __str__(self) -> str:
        where = "".join(
            part if part.startswith("[") else f".{part}" for part in reversed(self.path)
        )
        return f"Result{where} is {_kind(type(self.value))}, expected {_kind(self.expected[0])}"


_KINDS: dict[type, str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
}


def _kind(cls: type) -> str:
    return _KINDS.get(cls, "null" if cls is type(None) else cls.__name__)


def json_name(attribute: str) -> str:
    """The JSON key of a generated model's attribute (``request_counts``: ``RequestCounts``)."""
    return "".join(part[:1].upper() + part[1:] for part in attribute.split("_"))


#: How one field is checked: its JSON key, the exact types it may have, and a check of
#: its content (an object's fields, an array's items), if any.
Field = tuple[str, tuple[type, ...], Callable[[Any], None] | None]


def check_result(model: type, result: Any) -> None:
    """Raise :class:`JsonTypeError` if ``result`` does not have ``model``'s JSON types."""
    if type(result) is not dict:
        raise JsonTypeError([], (dict,), result)
    _check_object(_fields(model), result)


def _check_object(fields: tuple[Field, ...], value: dict[str, Any]) -> None:
    for name, exact, content in fields:
        item = value.get(name)
        if item is None:  # absent or null: from_dict decides (decision 0009)
            continue
        if type(item) not in exact:
            raise JsonTypeError([name], exact, item)
        if content is not None:
            try:
                content(item)
            except JsonTypeError as wrong:
                wrong.path.append(name)
                raise


@functools.cache
def _fields(model: type) -> tuple[Field, ...]:
    hints = typing.get_type_hints(model, localns=vars(ark_batch_client.models))
    fields: list[Field] = []
    for attribute in attrs.fields(model):
        if attribute.name == "additional_properties":
            continue
        shape = _shape(hints[attribute.name])
        if shape is not None:
            fields.append((json_name(attribute.name), *shape))
    return tuple(fields)


def _shape(hint: Any) -> tuple[tuple[type, ...], Callable[[Any], None] | None] | None:
    """The exact JSON types of a field declared ``hint`` and its content check (None: any)."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        kept = [arg for arg in typing.get_args(hint) if arg is not Unset and arg is not type(None)]
        return _shape(kept[0]) if len(kept) == 1 else None
    if origin is typing.Literal:  # an enum: any string (new values must still read)
        return (str,), None
    if origin is list:
        (item,) = typing.get_args(hint)
        return (list,), _items(_shape(item))
    if hint is str or hint is datetime.datetime:  # a date-time is an ISO string
        return (str,), None
    if hint is bool:
        return (bool,), None
    if hint is int:
        return (int,), None
    if hint is float:
        return (int, float), None
    if isinstance(hint, type) and attrs.has(hint):
        return (dict,), _object(hint)
    return None


def _object(model: type) -> Callable[[Any], None]:
    known: list[tuple[Field, ...]] = []  # the model's fields, looked up on first use

    def check(value: dict[str, Any]) -> None:
        if not known:
            known.append(_fields(model))
        _check_object(known[0], value)

    return check


def _items(
    shape: tuple[tuple[type, ...], Callable[[Any], None] | None] | None,
) -> Callable[[Any], None] | None:
    if shape is None:
        return None
    exact, content = shape

    def check(values: list[Any]) -> None:
        for index, item in enumerate(values):
            if item is None:
                continue
            try:
                if type(item) not in exact:
                    raise JsonTypeError([], exact, item)
                if content is not None:
                    content(item)
            except JsonTypeError as wrong:
                wrong.path.append(f"[{index}]")
                raise

    return check
