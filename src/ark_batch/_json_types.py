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
from dataclasses import dataclass
from typing import Any

import attrs

import ark_batch_client.models
from ark_batch_client.types import Unset

__all__ = [
    "JsonTypeError",
    "MissingMemberError",
    "NotAChoiceError",
    "check_request",
    "check_result",
    "json_name",
    "kind",
    "kind_of",
]


class JsonTypeError(TypeError):
    """A response field whose JSON type is not the one its model declares."""

    def __init__(self, path: list[str], expected: tuple[type, ...], value: Any) -> None:
        self.path = path  # innermost first while the walk unwinds
        self.expected = expected
        self.value = value
        super().__init__()

    @property
    def where(self) -> str:
        """The member's path, ``Status.Phase`` or ``Tags[0].Value`` ('' for the whole)."""
        return "".join(
            part if part.startswith("[") else f".{part}" for part in reversed(self.path)
        ).removeprefix(".")

    def __str__(self) -> str:
        where = f".{self.where}" if self.where and not self.where.startswith("[") else self.where
        return f"Result{where} is {kind(self.value)}, expected {kind_of(self.expected)}"


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


def kind(value: Any) -> str:
    """What a JSON value is, in words: ``an object``, ``a string``, ``null``..."""
    return _kind(type(value))


def kind_of(expected: tuple[type, ...]) -> str:
    """What a member expects, in words (``a number`` for ``int | float``)."""
    return "a number" if float in expected else _kind(expected[0])


def json_name(attribute: str) -> str:
    """The JSON key of a generated model's attribute (``request_counts``: ``RequestCounts``)."""
    return "".join(part[:1].upper() + part[1:] for part in attribute.split("_"))


#: How one field is checked: its JSON key, the exact types it may have, and a check of
#: its content (an object's fields, an array's items), if any.
Field = tuple[str, tuple[type, ...], Callable[[Any], None] | None]


@dataclass(frozen=True, slots=True)
class _Node:
    """What a field declared with some annotation holds in JSON."""

    exact: tuple[type, ...]
    #: An enum's values (a ``Literal``): any string in a response, one of these in a request.
    choices: tuple[str, ...] | None = None
    #: An array's items.
    items: _Node | None = None
    #: An object's model.
    model: type | None = None


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
            value[name] = _whole(item, exact, [name])
            continue
        if content is not None:
            try:
                content(item)
            except JsonTypeError as wrong:
                wrong.path.append(name)
                raise


def _whole(item: Any, exact: tuple[type, ...], path: list[str]) -> int:
    """An integer written as a float (``10.0``, as JSON Schema's ``integer`` allows), as
    an ``int``; anything else of the wrong type raises :class:`JsonTypeError`."""
    if exact == (int,) and type(item) is float and item.is_integer():
        return int(item)
    raise JsonTypeError(path, exact, item)


@functools.cache
def _members(model: type) -> tuple[tuple[str, _Node, bool], ...]:
    """Each JSON member ``model`` declares: its key, its node, whether it is required."""
    hints = typing.get_type_hints(model, localns=vars(ark_batch_client.models))
    members = []
    for attribute in attrs.fields(model):
        if attribute.name == "additional_properties":
            continue
        node = _node(hints[attribute.name])
        if node is not None:
            required = attribute.default is attrs.NOTHING
            members.append((json_name(attribute.name), node, required))
    return tuple(members)


@functools.cache
def _fields(model: type) -> tuple[Field, ...]:
    return tuple((name, node.exact, _content(node)) for name, node, _ in _members(model))


def _node(hint: Any) -> _Node | None:
    """What a field declared ``hint`` holds (None: anything)."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        kept = [arg for arg in typing.get_args(hint) if arg is not Unset and arg is not type(None)]
        return _node(kept[0]) if len(kept) == 1 else None
    if origin is typing.Literal:
        return _Node((str,), choices=tuple(str(arg) for arg in typing.get_args(hint)))
    if origin is list:
        (item,) = typing.get_args(hint)
        return _Node((list,), items=_node(item))
    if hint is str or hint is datetime.datetime:  # a date-time is an ISO string
        return _Node((str,))
    if hint is bool:
        return _Node((bool,))
    if hint is int:
        return _Node((int,))
    if hint is float:
        return _Node((int, float))
    if isinstance(hint, type) and attrs.has(hint):
        return _Node((dict,), model=hint)
    return None


def _content(node: _Node) -> Callable[[Any], None] | None:
    """The response check of a node's content; enums take any string (decision 0002)."""
    if node.model is not None:
        return _object(node.model)
    if node.items is not None:
        return _items(node.items)
    return None


def _object(model: type) -> Callable[[Any], None]:
    known: list[tuple[Field, ...]] = []  # the model's fields, looked up on first use

    def check(value: dict[str, Any]) -> None:
        if not known:
            known.append(_fields(model))
        _check_object(known[0], value)

    return check


def _items(node: _Node) -> Callable[[Any], None]:
    exact, content = node.exact, _content(node)

    def check(values: list[Any]) -> None:
        for index, item in enumerate(values):
            if item is None:
                continue
            try:
                if type(item) not in exact:
                    values[index] = _whole(item, exact, [])
                elif content is not None:
                    content(item)
            except JsonTypeError as wrong:
                wrong.path.append(f"[{index}]")
                raise

    return check


# --- requests: closed (decision 0002) -------------------------------------------------------


class MissingMemberError(JsonTypeError):
    """A required member absent (or null) in a request body."""

    def __init__(self, path: list[str]) -> None:
        super().__init__(path, (), None)

    def __str__(self) -> str:
        return f"{self.where} is required"


class NotAChoiceError(JsonTypeError):
    """A string that is none of its enum's values, in a request body."""

    def __init__(self, path: list[str], choices: tuple[str, ...], value: str) -> None:
        super().__init__(path, (str,), value)
        self.choices = choices

    def __str__(self) -> str:
        return f"{self.where} is {self.value!r}, not one of {', '.join(self.choices)}"


def check_request(model: type, body: Any) -> None:
    """Raise :class:`JsonTypeError` if ``body`` is not a whole ``model`` request:
    :class:`MissingMemberError` for a required member absent or null,
    :class:`NotAChoiceError` for a value its enum does not list, else a wrong JSON type.
    Unknown members are not checked here. ``path`` is innermost first.
    """
    _check_strict(_Node((dict,), model=model), body, [])


def _check_strict(node: _Node, value: Any, path: list[str]) -> Any:
    """``value`` checked, with an integer written as a float made an ``int``."""
    if type(value) not in node.exact:
        return _whole(value, node.exact, path)
    if node.choices is not None and value not in node.choices:
        raise NotAChoiceError(path, node.choices, value)
    if node.items is not None:
        for index, item in enumerate(value):
            value[index] = _check_strict(node.items, item, [f"[{index}]", *path])
    if node.model is not None:
        for name, member, required in _members(node.model):
            item = value.get(name)
            if item is None:
                if required:
                    raise MissingMemberError([name, *path])
                continue
            value[name] = _check_strict(member, item, [name, *path])
    return value
