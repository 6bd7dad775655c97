"""What the emulator decides before it reads a request body.

Memory before authentication is the concern: a request whose headers already fail
authentication is answered without reading its body, and the body bytes held in memory
at once, across every connection, stay under a budget.
"""

from __future__ import annotations

import calendar
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import timedelta

from ark_batch.emulator.config import AccountCredential, Clock
from ark_batch.emulator.protocol import EnvelopeError
from ark_batch.emulator.signature import SignatureVerifier
from ark_batch.signing import parse_authorization

__all__ = ["BodyBudget", "HeaderGate", "Reservation", "check_headers"]

_X_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\Z")

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


class HeaderGate:
    """Refuses, before the body is read, a request its headers already condemn.

    The exact check (:func:`check_headers`) costs about as much as verifying the whole
    signature, so it only runs when a cheap look finds the Authorization missing or
    malformed, the access key unknown, or the X-Date missing or stale. A request that
    passes the look is still verified in full once its body is read.
    """

    def __init__(
        self,
        verifier: SignatureVerifier,
        accounts: Iterable[AccountCredential],
        clock: Clock,
        clock_skew: timedelta,
    ) -> None:
        self._verifier = verifier
        self._access_keys = frozenset(account.access_key for account in accounts)
        self._clock = clock
        self._skew = clock_skew.total_seconds()

    def check(self, method: str, path: str, query: str, headers: Mapping[str, str]) -> None:
        """Raise the EnvelopeError the headers alone earn, if any."""
        if not self._plausible(headers):
            check_headers(self._verifier, method, path, query, headers)

    def _plausible(self, headers: Mapping[str, str]) -> bool:
        try:
            parsed = parse_authorization(headers.get("authorization", ""))
        except ValueError:
            return False
        if parsed.access_key not in self._access_keys:
            return False
        match = _X_DATE.match(headers.get("x-date", ""))
        if match is None:
            return False
        try:
            signed_at = calendar.timegm(tuple(map(int, match.groups())))
        except ValueError:  # not a calendar date
            return False
        return abs(self._clock().timestamp() - signed_at) <= self._skew
