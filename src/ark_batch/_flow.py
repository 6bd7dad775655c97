"""The steps a facade flow yields, and the reply it is resumed with (see ``_core``)."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeVar

import httpx

__all__ = ["Flow", "Reply", "Send", "Sleep"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Send:
    """One HTTP exchange: POST ``body`` to ``action``; finish by ``deadline`` (clock)."""

    action: str
    body: bytes
    timeout: httpx.Timeout
    deadline: float | None


@dataclass(frozen=True, slots=True)
class Sleep:
    """Pause before the next step."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Reply:
    """A whole HTTP response."""

    status: int
    headers: httpx.Headers
    content: bytes


#: A generator of steps that returns a ``T``.
Flow = Generator[Send | Sleep, Reply | None, T]
