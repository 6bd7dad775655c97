"""The HTTP/1.1 connection protocol the emulator serves with.

uvicorn's h11 protocol, except that a request too malformed to reach the app (bad
header bytes, a broken request line) is answered in the envelope like every other
error, rather than with uvicorn's plain-text 400.
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ark_batch.emulator.config import EmulatorConfig
from ark_batch.emulator.protocol import EnvelopeError, error_body, request_id

__all__ = ["envelope_protocol"]


def envelope_protocol(config: EmulatorConfig) -> type[H11Protocol]:
    """An ``H11Protocol`` class for ``uvicorn.Config(http=...)`` answering in the envelope."""

    class EnvelopeH11Protocol(H11Protocol):
        def send_400_response(self, msg: str) -> None:
            error = EnvelopeError(
                "InvalidParameter", "The request is not a well-formed HTTP/1.1 request."
            )
            payload = error_body(request_id(config.clock()), None, None, config.region, error)
            headers = [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(payload)).encode("ascii")),
                (b"connection", b"close"),
            ]
            for event in (
                h11.Response(status_code=error.status, headers=headers, reason=b"Bad Request"),
                h11.Data(data=payload),
                h11.EndOfMessage(),
            ):
                self.transport.write(self.conn.send(event) or b"")
            self.transport.close()

    return EnvelopeH11Protocol
