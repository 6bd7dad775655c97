"""What the emulator decides before it reads a request body.

Memory before authentication is the concern: a request whose headers already fail
authentication is answered without reading its body, and the body bytes held in memory
at once, across every connection, stay under a budget.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from ark_batch.emulator.protocol import EnvelopeError
from ark_batch.emulator.signature import SignatureVerifier

__all__ = ["BodyBudget", "Reservation", "check_headers"]

#: Seconds a client is asked to wait when the body budget is spent.
RETRY_AFTER_SECONDS = 1


class BodyBudget:
    """Bytes of request bodies held at once, across connections (and servers)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        # Several servers, each on its own thread and loop, may share one app.
        self._lock = threading.Lock()

    def reservation(self) -> Reservation:
        """An empty reservation; grow it chunk by chunk, release it when done."""
        return Reservation(self)

    def _take(self, size: int) -> bool:
        with self._lock:
            if self.held + size > self.limit:
                return False
            self.held += size
            return True

    def _give(self, size: int) -> None:
        with self._lock:
            self.held -= size


class Reservation:
    """The share of a :class:`BodyBudget` one request holds."""

    def __init__(self, budget: BodyBudget) -> None:
        self._budget = budget
        self.size = 0

    def grow(self, size: int) -> None:
        """Hold ``size`` more bytes, or raise ServiceUnavailableTemp (503, Retry-After)."""
        if not self._budget._take(size):
            raise EnvelopeError(
                "ServiceUnavailableTemp",
                "The emulator is holding too many request bodies at once; retry shortly.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.size += size

    def release(self) -> None:
        """Give back everything held (idempotent)."""
        size, self.size = self.size, 0
        if size:
            self._budget._give(size)


def check_headers(
    verifier: SignatureVerifier,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
) -> None:
    """Raise the EnvelopeError a request's headers alone already earn.

    The verifier decides everything but the final signature comparison (and the
    ``X-Content-Sha256`` check) from the headers: a missing or malformed Authorization,
    a bad scope, a stale or missing X-Date, an unknown access key, a bad security token.
    Run against an empty body, only ``SignatureDoesNotMatch`` depends on the real body,
    so that answer alone is left for the full check.
    """
    try:
        verifier.verify(method, path, query, headers, b"")
    except EnvelopeError as error:
        if error.code != "SignatureDoesNotMatch":
            raise
