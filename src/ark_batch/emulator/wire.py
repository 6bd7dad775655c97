"""The HTTP/1.1 connection protocol the emulator serves with.

uvicorn's h11 protocol, except that a request too malformed to reach the app (bad
header bytes, a broken request line) is answered in the envelope like every other
error, rather than with uvicorn's plain-text 400.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ark_batch.emulator.config import EmulatorConfig
from ark_batch.emulator.protocol import EnvelopeError, envelope_headers, fresh_error_body

__all__ = ["RepeatedWarningFilter", "envelope_protocol"]

#: uvicorn's warning for each request it cannot parse; a flood of them is one line a
#: window, with a count of what was held back.
MALFORMED_REQUEST_WARNING = "Invalid HTTP request received."
#: Seconds between two of those lines.
WARNING_WINDOW = 10.0


class RepeatedWarningFilter(logging.Filter):
    """Let one ``message`` record through per ``window`` seconds; count the rest."""

    def __init__(
        self,
        message: str = MALFORMED_REQUEST_WARNING,
        window: float = WARNING_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.message = message
        self.window = window
        self.clock = clock
        self._next = float("-inf")
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != self.message:
            return True
        now = self.clock()
        if now < self._next:
            self._held += 1
            return False
        if self._held:
            record.msg = f"{self.message} ({self._held} more in the last {self.window:g} s)"
        self._held = 0
        self._next = now + self.window
        return True


def _limit_repeated_warnings(logger: logging.Logger) -> None:
    if not any(isinstance(f, RepeatedWarningFilter) for f in logger.filters):
        logger.addFilter(RepeatedWarningFilter())


def envelope_protocol(config: EmulatorConfig) -> type[H11Protocol]:
    """An ``H11Protocol`` class for ``uvicorn.Config(http=...)`` answering in the envelope."""
    _limit_repeated_warnings(logging.getLogger("uvicorn.error"))

    class EnvelopeH11Protocol(H11Protocol):
        def send_400_response(self, msg: str) -> None:
            error = EnvelopeError(
                "InvalidParameter", "The request is not a well-formed HTTP/1.1 request."
            )
            payload = fresh_error_body(config.clock(), None, None, config.region, error)
            headers = envelope_headers(payload, {"connection": "close"})
            for event in (
                h11.Response(status_code=error.status, headers=headers, reason=b"Bad Request"),
                h11.Data(data=payload),
                h11.EndOfMessage(),
            ):
                self.transport.write(self.conn.send(event) or b"")
            self.transport.close()

    return EnvelopeH11Protocol
