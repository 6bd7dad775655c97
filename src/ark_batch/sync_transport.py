"""The sync httpx client's transport: pyreqwest's when installed and able, else httpx's own.

httpx's stock sync transport (httpcore + h11) is about 40 % of a generated call's CPU.
pyreqwest (the ``reqwest`` extra, Rust reqwest behind an httpx transport) does the same
exchange for about a quarter less CPU per call (docs/decisions/0026). It is used only
when every httpx argument in effect can be honoured; otherwise the stock transport
is, and the reason is logged at DEBUG on the ``ark_batch`` logger.

Whatever pyreqwest raises leaves this transport as the httpx exception httpx's own
transport raises for the same failure. A failure is ``httpx.ConnectError`` (or
``ConnectTimeout``) only when the connection was never made, so a request that may
have reached the server is never reported as unsent.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.request import getproxies

import httpx

if TYPE_CHECKING:
    from pyreqwest.client import SyncClient
    from pyreqwest.exceptions import PyreqwestError

__all__ = ["PYREQWEST", "STOCK", "TransportName", "reqwest_transport"]

logger = logging.getLogger("ark_batch")

TransportName = Literal["pyreqwest", "httpx"]
#: The names ``SignedClient.sync_transport_name()`` answers.
PYREQWEST: Final = "pyreqwest"
STOCK: Final = "httpx"

#: ``httpx.Client`` arguments that httpx applies above the transport, or that the
#: pyreqwest client is built from (the values of ``verify``, ``http1`` and ``http2``
#: are checked further in :func:`_unsupported`).
_HONOURED: Final = frozenset(
    {
        "auth",
        "params",
        "headers",
        "cookies",
        "verify",
        "http1",
        "http2",
        "timeout",
        "follow_redirects",
        "limits",
        "max_redirects",
        "event_hooks",
        "base_url",
        "trust_env",
        "default_encoding",
        "mounts",
    }
)
_CLIENT_DEFAULTS: Final = inspect.signature(httpx.Client).parameters
#: The hyper-util error a connection that could not be opened carries: nothing was sent.
_NOT_CONNECTED: Final = "client error (Connect)"


def _unsupported(args: Mapping[str, Any]) -> str | None:
    """Why the pyreqwest transport cannot honour ``args`` exactly, or None."""
    given = {name: value for name, value in args.items() if value is not None}
    if "transport" in given:
        return "a transport was given"
    if "proxy" in given:
        return "an explicit proxy (httpx's proxy transport carries every request)"
    unknown = sorted(set(given) - _HONOURED)
    if unknown:
        return f"{', '.join(unknown)} given"
    if given.get("verify", True) not in (True, False):
        return "verify is a CA bundle or an SSL context"
    if given.get("http2", False) or not given.get("http1", True):
        return "HTTP/2 asked for"
    if given.get("trust_env", True) and _environment_proxies():
        return "proxies from the environment (httpx's proxy transport carries those requests)"
    if given.get("verify", True) is True and _uses_tls(given.get("base_url")):
        return _other_roots(trust_env=bool(given.get("trust_env", True)))
    return None


def _environment_proxies() -> bool:
    """Whether httpx would mount proxies from the environment (as httpx reads them).

    httpx reads them only for a client without a transport of its own, so a client
    that would have them keeps httpx's transport.
    """
    found = getproxies()
    if "*" in (host.strip() for host in found.get("no", "").split(",")):
        return False
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


def _uses_tls(base_url: Any) -> bool:
    return httpx.URL(base_url or "").scheme != "http"


def _other_roots(*, trust_env: bool) -> str | None:
    """Why pyreqwest would trust other roots than the user set up for httpx, or None.

    Both read ``SSL_CERT_FILE`` and ``SSL_CERT_DIR``, but httpx only with ``trust_env``
    and only the file when both are set; pyreqwest reads them always, and both.
    Without either, httpx trusts certifi's roots and pyreqwest the system's: a
    difference of defaults recorded in docs/decisions/0026, not a setting overridden.
    """
    named = [name for name in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(name)]
    if named and not trust_env:
        return f"{' and '.join(named)} set while trust_env is off"
    if len(named) == 2:
        return "both SSL_CERT_FILE and SSL_CERT_DIR are set (httpx reads only the file)"
    return None


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def reqwest_transport(args: Mapping[str, Any]) -> httpx.BaseTransport | None:
    """pyreqwest's transport for an ``httpx.Client`` built from ``args``, else None.

    None when pyreqwest is not installed or ``args`` ask for something it cannot do
    exactly: a transport of their own, a CA bundle or SSL context, a client
    certificate, HTTP/2, a proxy (given, or from the environment), or trust roots from
    ``SSL_CERT_FILE``/``SSL_CERT_DIR`` that it would read otherwise than httpx. The
    reason is logged at DEBUG. Redirects, cookies and content decoding stay with
    httpx, as on its own transport.
    """
    reason = _unsupported(args)
    if reason is None:
        try:
            from pyreqwest.client import SyncClientBuilder  # noqa: PLC0415  # optional extra
        except ImportError:
            reason = "pyreqwest is not installed"
    if reason is not None:
        logger.debug("sync transport: httpx's own, because %s", reason)
        return None
    limits: httpx.Limits = args.get("limits") or _CLIENT_DEFAULTS["limits"].default
    builder = (
        SyncClientBuilder()
        .follow_redirects(False)  # httpx sees every 3xx (the signed client refuses them)
        .no_proxy()  # httpx mounts its own proxy transports for proxies it is given
        .default_cookie_store(False)
        .gzip(False)  # httpx decodes by Content-Encoding, exactly once
        .brotli(False)
        .zstd(False)
        .deflate(False)
        .referer(False)
        # A header folded over two lines (obsolete, RFC 9112 5.2) is read as httpx's
        # own transport and aiohttp read it, not refused.
        .http1_allow_obsolete_multiline_headers_in_responses(True)
        .max_connections(limits.max_connections)
        .pool_idle_timeout(_seconds(limits.keepalive_expiry))
    )
    if args.get("verify") is False:
        builder = builder.danger_accept_invalid_certs(True)
    if limits.max_keepalive_connections is not None:
        builder = builder.pool_max_idle_per_host(limits.max_keepalive_connections)
    # No client-wide timeouts: each request carries its own (the client's or a per-call
    # one) and gets them as one total in _ReqwestTransport.
    from pyreqwest.exceptions import PyreqwestError  # noqa: PLC0415

    try:
        client = builder.build()
    except PyreqwestError as exc:
        # e.g. no trust root could be loaded: httpx reports it in its own way, or copes.
        logger.debug("sync transport: httpx's own, because pyreqwest failed: %s", exc.message)
        return None
    stock = functools.partial(
        httpx.HTTPTransport,
        verify=args.get("verify", True),
        trust_env=args.get("trust_env", True),
        limits=limits,
    )
    return _ReqwestTransport(client, stock)


def _causes(exc: PyreqwestError) -> list[str]:
    details = getattr(exc, "details", None) or {}
    return [cause.get("message", "") for cause in details.get("causes") or []]


def _as_httpx(exc: PyreqwestError, request: httpx.Request, *, body: bool) -> httpx.HTTPError:
    """The httpx exception httpx's own transport raises for the failure ``exc`` reports.

    pyreqwest calls a server that hung up after the request a ``ConnectError`` and a
    response that never came a ``ConnectTimeoutError``; only hyper-util's connect error
    among the causes means that the connection was never opened. With decoding off, a
    ``DecodeError`` is a malformed or cut-off response, not a content encoding.
    """
    from pyreqwest import exceptions as errors  # noqa: PLC0415  # installed when reached

    causes = _causes(exc)
    detail = ": ".join(dict.fromkeys([exc.message, *causes[1:]]))
    if body:
        if isinstance(exc, errors.RequestTimeoutError):
            return httpx.ReadTimeout(detail, request=request)
        return httpx.ReadError(detail, request=request)
    if _NOT_CONNECTED in causes:
        if isinstance(exc, errors.RequestTimeoutError):
            return httpx.ConnectTimeout(detail, request=request)
        return httpx.ConnectError(detail, request=request)
    if isinstance(exc, errors.PoolTimeoutError):
        return httpx.PoolTimeout(detail, request=request)
    if isinstance(exc, errors.WriteTimeoutError):
        return httpx.WriteTimeout(detail, request=request)
    if isinstance(exc, errors.RequestTimeoutError):
        return httpx.ReadTimeout(detail, request=request)
    if isinstance(exc, errors.WriteError):
        return httpx.WriteError(detail, request=request)
    if isinstance(exc, errors.DecodeError):
        return httpx.RemoteProtocolError(detail, request=request)
    return httpx.ReadError(detail, request=request)


class _MappedStream(httpx.SyncByteStream):
    """A response body whose pyreqwest read failures surface as httpx's."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        request: httpx.Request,
        failure: type[PyreqwestError],
    ) -> None:
        self._inner = inner
        self._request = request
        self._failure = failure

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except self._failure as exc:
            raise _as_httpx(exc, self._request, body=True) from exc

    def close(self) -> None:
        self._inner.close()


def _total(timeout: Mapping[str, float | None]) -> float | None:
    """The one timeout reqwest takes for a request with httpx's per-phase ``timeout``.

    Its longest phase: so a request whose phases the facade capped at the time left
    before a deadline ends by that deadline. None when a phase is unbounded.
    """
    phases = [timeout.get(name) for name in ("connect", "read", "write", "pool")]
    bounded = [phase for phase in phases if phase is not None]
    return max(bounded) if len(bounded) == len(phases) else None


class _ReqwestTransport(httpx.BaseTransport):
    """pyreqwest's httpx transport, raising what httpx's own transport raises.

    reqwest takes one total timeout per request, where httpx has four phases.
    pyreqwest would use their sum (four times the time left before a deadline); this
    transport gives it the longest phase instead. A request with an unbounded phase
    (``Timeout(read=None)``, say) goes through httpx's own transport, built on first
    such request, since reqwest cannot bound one phase and not another.
    """

    def __init__(self, client: SyncClient, stock: Callable[[], httpx.HTTPTransport]) -> None:
        from pyreqwest.compatibility.httpx import SyncHttpxTransport  # noqa: PLC0415
        from pyreqwest.exceptions import PyreqwestError  # noqa: PLC0415

        self._inner = SyncHttpxTransport(client)
        self._failure = PyreqwestError
        self._make_stock = stock
        self._stock: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through pyreqwest; the body streams as it arrives."""
        timeout = request.extensions.get("timeout")
        if isinstance(timeout, Mapping):
            total = _total(timeout)
            if total is None:
                if self._stock is None:
                    self._stock = self._make_stock()
                return self._stock.handle_request(request)
            request.extensions = {**request.extensions, "timeout": {"read": total}}
        try:
            response = self._inner.handle_request(request)
        except httpx.HTTPError as exc:
            # pyreqwest's own mapping, which names a hang-up after sending a ConnectError.
            if isinstance(exc.__cause__, self._failure):
                raise _as_httpx(exc.__cause__, request, body=False) from exc.__cause__
            raise
        except self._failure as exc:
            raise _as_httpx(exc, request, body=False) from exc
        except ValueError as exc:
            # pyreqwest turns headers into text both ways: a request header with a control
            # character, or a response header that is not visible ASCII, fails there. Its
            # message (and so the chain) quotes the header, which may be private.
            if "header" not in str(exc).lower():
                raise
            raise httpx.ProtocolError(
                "a header pyreqwest cannot carry: a request header with a control "
                "character, or a response header that is not ASCII",
                request=request,
            ) from None
        if isinstance(response.stream, httpx.SyncByteStream):
            response.stream = _MappedStream(response.stream, request, self._failure)
        return response

    def close(self) -> None:
        """Close the pyreqwest client and its connections (and httpx's, if it was used)."""
        self._inner.close()
        if self._stock is not None:
            self._stock.close()
