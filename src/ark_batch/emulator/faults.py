"""Runtime fault injection, for testing client retries against the emulator.

Reach it as ``app.state.emulator.faults``. Faults apply to authenticated requests, after
Action/Version dispatch and signature verification, the way a gateway throttles.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from ark_batch.emulator.protocol import EnvelopeError

__all__ = ["FaultInjector"]


@dataclass(slots=True)
class _Fault:
    remaining: int
    code: str
    message: str
    actions: frozenset[str] | None
    retry_after: int | None


class FaultInjector:
    """Answers the next matching requests with an injected error. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self.injected = 0
        """How many requests have been answered with an injected fault so far."""

    def inject_throttling(
        self, count: int, retry_after: int | None = None, actions: Iterable[str] | None = None
    ) -> None:
        """Answer the next ``count`` requests (of ``actions``, default all) 429 FlowLimitExceeded.

        With ``retry_after`` the response carries ``Retry-After: <seconds>``.
        """
        self._add(
            _Fault(
                count,
                "FlowLimitExceeded",
                "Request was denied due to request throttling.",
                None if actions is None else frozenset(actions),
                retry_after,
            )
        )

    def inject_server_errors(self, count: int, actions: Iterable[str] | None = None) -> None:
        """Answer the next ``count`` requests (of ``actions``, default all) 500 InternalError."""
        self._add(
            _Fault(
                count,
                "InternalError",
                "The service encountered an internal error (injected).",
                None if actions is None else frozenset(actions),
                None,
            )
        )

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> int:
        """Requests still to be answered with a fault."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    def _add(self, fault: _Fault) -> None:
        if fault.remaining < 0:
            raise ValueError("count must not be negative")
        if fault.retry_after is not None and fault.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if fault.remaining:
            with self._lock:
                self._faults.append(fault)

    def check(self, action: str) -> None:
        """Raise the injected EnvelopeError if a fault matches ``action`` (consuming one)."""
        if not self._faults:  # lock-free fast path: the common case has no faults
            return
        with self._lock:
            for fault in self._faults:
                if fault.actions is None or action in fault.actions:
                    fault.remaining -= 1
                    if not fault.remaining:
                        self._faults.remove(fault)
                    self.injected += 1
                    headers = {}
                    if fault.retry_after is not None:
                        headers["Retry-After"] = str(fault.retry_after)
                    raise EnvelopeError(fault.code, fault.message, headers=headers)
