"""Dispatch on the ``Action`` and ``Version`` query parameters, as the gateway does."""

from __future__ import annotations

from urllib.parse import unquote_plus

from ark_batch.emulator.protocol import ApiError
from ark_batch.spec import ACTIONS, API_VERSION

__all__ = ["ALLOWED_METHOD", "OPERATIONS", "check_method", "check_operation", "resolve_action"]

ALLOWED_METHOD = "POST"
#: Every (Action, Version) pair the emulator serves.
OPERATIONS = frozenset((action, API_VERSION) for action in ACTIONS)
_DISPATCH = ("Action", "Version")


def check_method(method: str) -> None:
    """Every action is POST; anything else is 405 (the caller adds ``Allow: POST``)."""
    if method != ALLOWED_METHOD:
        raise ApiError(
            "MethodNotAllowed",
            f"The method {method[:16]} is not allowed; every action takes POST.",
            headers={"Allow": ALLOWED_METHOD},
        )


def _dispatch_values(raw_query: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for part in raw_query.split("&"):
        key, _, value = part.partition("=")
        name = unquote_plus(key)
        if name in _DISPATCH:
            if name in values:
                # Signing collapses repeats (last wins) but a router must not guess which
                # operation was meant: reject, so ?Action=a&Action=b is never executed.
                raise ApiError("InvalidParameter", f"The parameter {name} is given more than once.")
            values[name] = unquote_plus(value)
    return values


def resolve_action(raw_query: str) -> tuple[str | None, str | None]:
    """``(action, version)`` when both are present and repeated neither.

    Returns the pair even when unknown: the caller still echoes them in error envelopes.
    """
    values = _dispatch_values(raw_query)
    return values.get("Action"), values.get("Version")


def check_operation(action: str | None, version: str | None) -> tuple[str, str]:
    """Raise MissingParameter / InvalidActionOrVersion unless the pair is served."""
    if not action:
        raise ApiError("MissingParameter", "The parameter Action is required.")
    if not version:
        raise ApiError("MissingParameter", "The parameter Version is required.")
    if (action, version) not in OPERATIONS:
        raise ApiError(
            "InvalidActionOrVersion",
            f"Could not find operation {action[:64]} for version {version[:32]}.",
        )
    return action, version
