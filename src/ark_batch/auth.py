"""``httpx.Auth`` that signs every request with Volcengine HMAC-SHA256."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Mapping
from datetime import UTC, datetime, timedelta

import httpx

from ark_batch.credentials import Credentials, resolve_credentials, resolve_region
from ark_batch.signing import SigningKeyCache, format_x_date, sign_selected

__all__ = ["Clock", "VolcengineAuth"]

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime."""

# Headers this auth owns. A request that is sent again (retry, redirect, a reused
# Request) still carries the previous attempt's copies; they go before re-signing.
_OWNED = ("authorization", "x-date", "x-content-sha256", "x-security-token")
_OWNED_BYTES = frozenset(name.encode("ascii") for name in _OWNED)
_ALWAYS_SIGNED = frozenset({b"content-type", b"content-md5", b"host"})
_NAME_BYTES = {
    name: (name.encode("ascii"), name.lower().encode("ascii"))
    for name in ("Authorization", "X-Date", "X-Content-Sha256", "X-Security-Token")
}


def _has_header_triples() -> bool:
    """Whether httpx.Headers keeps ``_list`` as (raw name, lowercase name, value) bytes.

    Through the public API, reading the headers and setting three costs about 5 us,
    more than the signature itself (each ``__setitem__`` rescans every header). httpx
    0.27 and 0.28 store this list; if a future httpx does not, the public path is used.
    """
    probe = httpx.Headers({"X-Probe": "1"})
    return getattr(probe, "_list", None) == [(b"X-Probe", b"x-probe", b"1")]


_HEADER_TRIPLES = _has_header_triples()


def _select(
    triples: Iterable[tuple[bytes, bytes, bytes]], encoding: str
) -> tuple[dict[str, str], bool]:
    """Signed headers by lowercase name, from (raw name, lowercase name, value) bytes,
    and whether any header this auth owns is already present."""
    selected: dict[str, str] = {}
    stale = False
    for _, name, value in triples:
        if name in _OWNED_BYTES:
            stale = True
        elif name in _ALWAYS_SIGNED or name.startswith(b"x-"):
            key = name.decode(encoding)
            text = value.decode(encoding)
            # A repeated header is signed joined, as httpx.Headers.get joins it.
            previous = selected.get(key)
            selected[key] = text if previous is None else f"{previous}, {text}"
    return selected, stale


_last_x_date: tuple[int, str] = (-1, "")


def _system_x_date() -> str:
    """X-Date for the wall clock, formatted at most once per second."""
    global _last_x_date  # noqa: PLW0603  # swapping one immutable tuple is thread-safe
    second = int(time.time())
    cached_second, cached = _last_x_date
    if second != cached_second:
        cached = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
        _last_x_date = (second, cached)
    return cached


class VolcengineAuth(httpx.Auth):
    """Sign every send of a request, sync or async, with a fresh X-Date.

    The final request is signed as sent: raw path and query, exact body bytes and the
    Host header httpx (or the caller) set. Signing lives in ``auth_flow`` because httpx
    runs event hooks and transports after auth, too late to sign. ``clock=None`` means
    the system clock; tests inject one returning an aware datetime.
    ``clock_offset`` (seconds) is added to that clock: the facade sets it from the
    server's ``Date`` when the service reports ``InvalidTimestamp`` (clock skew).
    """

    requires_request_body = True

    def __init__(
        self,
        credentials: Credentials,
        region: str | None = None,
        service: str = "ark",
        *,
        clock: Clock | None = None,
        key_cache: SigningKeyCache | None = None,
    ) -> None:
        self.credentials = credentials
        self.region = resolve_region(region)
        self.service = service
        self.clock = clock
        self.clock_offset = 0.0
        # Per instance by default, so a derived key lives no longer than its auth.
        self.key_cache = SigningKeyCache(maxsize=4) if key_cache is None else key_cache

    @classmethod
    def from_environment(
        cls,
        region: str | None = None,
        service: str = "ark",
        *,
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        key_cache: SigningKeyCache | None = None,
    ) -> VolcengineAuth:
        """Build from :func:`resolve_credentials` and :func:`resolve_region`."""
        return cls(
            resolve_credentials(environ=environ),
            resolve_region(region, environ=environ),
            service,
            clock=clock,
            key_cache=key_cache,
        )

    def __repr__(self) -> str:
        return (
            f"VolcengineAuth(credentials={self.credentials!r}, region={self.region!r}, "
            f"service={self.service!r})"
        )

    def now(self) -> datetime:
        """The signing time: the clock (or the system's) plus ``clock_offset``."""
        now = datetime.now(UTC) if self.clock is None else self.clock()
        return now + timedelta(seconds=self.clock_offset) if self.clock_offset else now

    def _x_date(self) -> str:
        if self.clock is None and not self.clock_offset:
            return _system_x_date()
        return format_x_date(self.now())

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign ``request`` in place and send it; no I/O, so sync and async alike."""
        self.sign_request(request)
        yield request

    def sign_request(self, request: httpx.Request) -> None:
        """Drop any earlier signing headers from ``request`` and sign it afresh."""
        headers = request.headers
        fast = _HEADER_TRIPLES and type(headers) is httpx.Headers
        triples: Iterable[tuple[bytes, bytes, bytes]]
        if fast:
            triples = headers._list
        else:
            triples = [(name, name.lower(), value) for name, value in headers.raw]
        try:
            selected, stale = _select(triples, "ascii")
        except UnicodeDecodeError:
            # Non-ASCII header: decode as httpx does. Not the default, because
            # Headers.encoding re-checks every header of each new request.
            selected, stale = _select(triples, headers.encoding)
        if stale:
            for name in _OWNED:
                if name in headers:
                    del headers[name]
        path, _, query = request.url.raw_path.decode("ascii").partition("?")
        credentials = self.credentials
        new_headers = sign_selected(
            request.method,
            path,
            query,
            selected,
            request.content,
            credentials.access_key,
            credentials.secret_key,
            self.region,
            self.service,
            self._x_date(),
            credentials.session_token,
            self.key_cache,
        )
        if fast:
            # The names are known absent (stale copies were deleted), so append
            # directly instead of letting __setitem__ rescan the list per header.
            # UTF-8 as __setitem__ uses; Headers.encoding would re-check every header.
            append = headers._list.append
            for name, value in new_headers.items():
                raw_name, lower_name = _NAME_BYTES[name]
                append((raw_name, lower_name, value.encode("utf-8")))
        else:
            for name, value in new_headers.items():
                headers[name] = value
