"""Dispatch on the ``Action`` and ``Version`` query parameters, as the gateway does."""

from __future__ import annotations

from urllib.parse import unquote_plus

from ark_batch.emulator.protocol import EnvelopeError
from ark_batch.spec import SpecRegistry, default_registry

__all__ = [
    "ALLOWED_METHOD",
    "check_method",
    "check_operation",
    "check_path",
    "resolve_action",
]

ALLOWED_METHOD = "POST"
_DISPATCH = ("Action", "Version")


def check_method(method: str) -> None:
    """Every action is POST; anything else is 405 (the caller adds ``Allow: POST``)."""
    if method != ALLOWED_METHOD:
        raise EnvelopeError(
            "MethodNotAllowed",
            f"The method {method[:16]} is not allowed; every action takes POST.",
            headers={"Allow": ALLOWED_METHOD},
        )


def check_path(path: str) -> None:
    """Every action lives at ``/``; another path is a misconfigured endpoint."""
    if path != "/":
        raise EnvelopeError(
            "InvalidActionOrVersion",
            f"Could not find an operation at path {path[:64]}: every action is served at /.",
        )


def _dispatch_values(raw_query: str) -> dict[str, str]:
    values: dict[str, str] = {}
    seen: set[str] = set()
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        name = unquote_plus(key)
        if name in seen:
            # The canonical query collapses repeats (last wins), so an added copy of a
            # signed key would pass verification; and a router must not guess which
            # ?Action=a&Action=b was meant. Reject every repeat.
            raise EnvelopeError(
                "InvalidParameter", f"The query parameter {name[:64]} is given more than once."
            )
        seen.add(name)
        if name in _DISPATCH:
            values[name] = unquote_plus(value)
    return values


def resolve_action(raw_query: str) -> tuple[str | None, str | None]:
    """``(action, version)`` when both are present and repeated neither.

    Returns the pair even when unknown: the caller still echoes them in error envelopes.
    """
    values = _dispatch_values(raw_query)
    return values.get("Action"), values.get("Version")


def check_operation(
    action: str | None, version: str | None, spec: SpecRegistry | None = None
) -> tuple[str, str]:
    """Raise MissingParameter / InvalidActionOrVersion unless the pair is served.

    A pair is served when a document in ``spec`` (the shipped spec/ by default) has that
    Version and defines that action.
    """
    if not action:
        raise EnvelopeError("MissingParameter", "The parameter Action is required.")
    if not version:
        raise EnvelopeError("MissingParameter", "The parameter Version is required.")
    if not (spec or default_registry()).serves(action, version):
        raise EnvelopeError(
            "InvalidActionOrVersion",
            f"Could not find operation {action[:64]} for version {version[:32]}.",
        )
    return action, version
