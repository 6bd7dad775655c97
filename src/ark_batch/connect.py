"""Build a ready, signed generated client in one call: the one construction path.

:func:`make_client` and the facades both build their clients here. Every httpx argument
given in ``httpx_args`` reaches both the sync and the async httpx client. The async one
runs on the ``httpx-aiohttp`` transport when that package is installed (the ``aiohttp``
extra), else on httpx's stock transport. The sync one runs on pyreqwest's transport when
that is installed (the ``reqwest`` extra) and can honour every argument given, else on
httpx's stock transport (:mod:`ark_batch.sync_transport`). Proxies from the environment
(``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``) apply to both, as in httpx itself.

Signed calls never follow redirects: a response hook turns any 3xx with a ``Location``
into :class:`~ark_batch.errors.RedirectError` before httpx could follow it, so neither
the signature nor a session token ever goes to the place it points to.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from attrs import define, field

from ark_batch.auth import Clock, VolcengineAuth
from ark_batch.credentials import Credentials, resolve_credentials, resolve_region
from ark_batch.errors import InvalidSettingError, RedirectError
from ark_batch.http_clients import lean_client_class
from ark_batch.sync_transport import PYREQWEST, STOCK, TransportName, reqwest_transport
from ark_batch_client import Client

__all__ = [
    "DEFAULT_ENDPOINT",
    "ENDPOINT_ENV",
    "SignedClient",
    "SyncTransportChoice",
    "async_client_class",
    "make_client",
    "resolve_endpoint",
]

#: The official SDK's default for region cn-beijing: the generic OpenAPI gateway.
DEFAULT_ENDPOINT = "https://open.volcengineapi.com"
#: Environment variable that overrides the endpoint (e.g. the emulator's URL).
ENDPOINT_ENV = "ARK_BATCH_ENDPOINT"

#: httpx arguments the generated Client sets itself, and its own names for them.
_CLIENT_FIELDS = {
    "headers": "headers",
    "cookies": "cookies",
    "verify": "verify_ssl",
    "follow_redirects": "follow_redirects",
    "timeout": "timeout",
}


def resolve_endpoint(
    endpoint: str | None = None, *, environ: Mapping[str, str] | None = None
) -> str:
    """The endpoint: explicit, then ``ARK_BATCH_ENDPOINT``, then :data:`DEFAULT_ENDPOINT`.

    A bare host gets ``https://``; a trailing slash is dropped. An endpoint with user
    info (``user:password@host``) raises :class:`~ark_batch.errors.InvalidSettingError`:
    requests are signed, a password there would only reach logs, reprs and error
    messages (and the aiohttp transport refuses it next to the signature).
    """
    env = os.environ if environ is None else environ
    setting = "endpoint"
    chosen = endpoint
    if not chosen:
        chosen = env.get(ENDPOINT_ENV)
        setting = ENDPOINT_ENV
    if not chosen:
        return DEFAULT_ENDPOINT
    if "://" not in chosen:
        chosen = f"https://{chosen}"
    # Anywhere before the query: a password with a "/" in it ends the authority early.
    if "@" in _QUERY.split(chosen.partition("://")[2], maxsplit=1)[0]:
        raise InvalidSettingError(
            f"the {setting} has user info (user:password@host); requests are signed with "
            "the credentials, give the endpoint without it (its value is not shown)"
        )
    return chosen.rstrip("/")


#: Where a URL's query or fragment starts.
_QUERY = re.compile(r"[?#]")


def async_client_class() -> type[httpx.AsyncClient]:
    """:class:`~ark_batch.aiohttp_client.AiohttpClient` when httpx-aiohttp is installed,
    else ``httpx.AsyncClient``.

    The aiohttp transport serves 32 requests in flight at several times the stock
    transport's rate, with less CPU per request (docs/decisions/0007).
    """
    try:
        # The extra itself first: ark_batch.aiohttp_client may be imported already.
        import httpx_aiohttp  # noqa: F401, PLC0415

        from ark_batch.aiohttp_client import AiohttpClient  # noqa: PLC0415
    except ImportError:
        return httpx.AsyncClient
    return AiohttpClient


def _refuse_redirect(response: httpx.Response) -> None:
    # httpx closes the response when a hook raises. A 3xx without a Location (a 304, a
    # 300 with an error envelope) points nowhere: it is read like any other error answer.
    location = response.headers.get("location") if response.is_redirect else None
    if location is not None:
        raise RedirectError(
            status=response.status_code,
            location=location,
            action=response.request.url.params.get("Action"),
        )


async def _refuse_redirect_async(response: httpx.Response) -> None:
    _refuse_redirect(response)


#: httpx's default request headers that say nothing an Ark gateway uses: ``*/*`` is
#: what no ``Accept`` means, and HTTP/1.1 connections persist without ``Connection``.
#: Each header costs CPU in every layer of every call (decision 0026).
_NEEDLESS_DEFAULTS = ("accept", "connection")


def _trim_default_headers(headers: httpx.Headers, given: Mapping[str, str]) -> None:
    """Drop needless default headers the user did not set."""
    chosen = set(httpx.Headers(given).keys())
    for name in _NEEDLESS_DEFAULTS:
        if name not in chosen and name in headers:
            del headers[name]


# A header name is an RFC 9110 token; a value holds no control character but a tab.
_HEADER_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def _check_headers(headers: Any) -> None:
    """Refuse headers no transport can send, naming the header but never its value.

    Each transport refuses them only when sending, in its own words, some of which quote
    the value (a private token, say).
    """
    try:
        raw = httpx.Headers(headers).raw
    except UnicodeEncodeError:
        raise InvalidSettingError("a header is not ASCII text; its value is not shown") from None
    for name, value in raw:
        if not _HEADER_NAME.fullmatch(name):
            raise InvalidSettingError(
                "a header name has a character no header name may hold (a space, a colon, "
                "a control character); its value is not shown"
            )
        if _CONTROL.search(value):
            raise InvalidSettingError(
                f"the header {name.decode()!r} has a control character (a newline?); "
                "its value is not shown"
            )


def _with_hook(args: Mapping[str, Any], hook: Any) -> dict[str, Any]:
    hooks = {name: list(value) for name, value in (args.get("event_hooks") or {}).items()}
    hooks["response"] = [hook, *hooks.get("response", [])]
    return {**args, "event_hooks": hooks}


#: ``"auto"``: pyreqwest's transport where it can honour every argument; ``"httpx"``:
#: httpx's own always.
SyncTransportChoice = Literal["auto", "httpx"]


@define
class SignedClient(Client):
    """The generated ``Client``, with redirects refused and both transports chosen.

    Built lazily like its parent: each httpx client is made on first use, from the
    same arguments.
    """

    _sync_transport: SyncTransportChoice = field(
        default="auto", kw_only=True, alias="sync_transport"
    )
    _sync_transport_used: TransportName = field(default=STOCK, init=False)

    def get_httpx_client(self) -> httpx.Client:
        """The sync httpx client (made on first use), on pyreqwest's transport if it can.

        ``make_client(sync_transport="httpx")`` keeps it on httpx's own.
        """
        if self._client is None:
            cls = lean_client_class(httpx.Client)
            args = self._shared_args(_refuse_redirect, httpx.BaseTransport)
            transport = reqwest_transport(args) if self._sync_transport == "auto" else None
            if transport is not None:
                args["transport"] = transport
                self._sync_transport_used = PYREQWEST
            self._client = cls(**args)
            _trim_default_headers(self._client.headers, self._headers)
        return self._client

    def with_headers(self, headers: dict[str, str]) -> Client:
        """The generated ``with_headers``, refusing headers no transport can send."""
        _check_headers(headers)
        return super().with_headers(headers)

    def sync_transport_name(self) -> TransportName:
        """``"pyreqwest"`` or ``"httpx"``: what the sync httpx client sends through."""
        self.get_httpx_client()
        return self._sync_transport_used

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """The async httpx client (made on first use), on the aiohttp transport if installed."""
        if self._async_client is None:
            cls = lean_client_class(async_client_class())
            args = self._shared_args(_refuse_redirect_async, httpx.AsyncBaseTransport)
            self._async_client = cls(**args)
            _trim_default_headers(self._async_client.headers, self._headers)
        return self._async_client

    def _shared_args(self, hook: Any, kind: type[Any]) -> dict[str, Any]:
        """The httpx arguments for one client; a ``transport`` of the other kind is left out.

        So ``httpx_args={"transport": httpx.AsyncHTTPTransport(...)}`` serves the async
        client and leaves the sync one on its default transport (and the reverse).
        """
        args = dict(self._httpx_args)
        if "transport" in args and not isinstance(args["transport"], kind):
            del args["transport"]
        return _with_hook(
            {
                "base_url": self._base_url,
                "cookies": self._cookies,
                "headers": self._headers,
                "timeout": self._timeout,
                "verify": self._verify_ssl,
                "follow_redirects": self._follow_redirects,
                **args,
            },
            hook,
        )


def make_client(
    endpoint: str | None = None,
    *,
    credentials: Credentials | None = None,
    region: str | None = None,
    timeout: float | httpx.Timeout = 30.0,
    environ: Mapping[str, str] | None = None,
    httpx_args: Mapping[str, Any] | None = None,
    max_connections: int | None = None,
    clock: Clock | None = None,
    sync_transport: SyncTransportChoice = "auto",
) -> SignedClient:
    """A generated :class:`ark_batch_client.Client` that signs every request.

    Credentials, region and endpoint come from the arguments, else the environment
    (see :func:`ark_batch.credentials.resolve_credentials`, :func:`resolve_region`,
    :func:`resolve_endpoint`). Works with the generated ``sync`` and ``asyncio`` functions.
    ``httpx_args`` go to both httpx clients (``verify``, ``cert``, ``proxy``,
    ``limits``, ``timeout``, ``headers``, ``trust_env``, ...); ``max_connections`` is a
    short form of ``limits``. ``clock`` returns the signing time as an aware datetime
    (default: the system clock). ``sync_transport="httpx"`` keeps the sync client on
    httpx's own transport (by default it is on pyreqwest's where that is installed and
    can honour every argument: :mod:`ark_batch.sync_transport`).
    """
    creds = credentials or resolve_credentials(environ=environ)
    auth = VolcengineAuth(creds, resolve_region(region, environ=environ), clock=clock)
    args: dict[str, Any] = dict(httpx_args or {})
    if args.get("headers"):
        _check_headers(args["headers"])
    args["auth"] = auth
    if max_connections is not None and "limits" not in args:
        args["limits"] = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
    args["timeout"] = httpx.Timeout(args.get("timeout", timeout))
    # The generated Client passes these to httpx itself; given twice, httpx would refuse.
    own = {name: args.pop(key) for key, name in _CLIENT_FIELDS.items() if key in args}
    return SignedClient(
        base_url=resolve_endpoint(endpoint, environ=environ),
        httpx_args=args,
        sync_transport=sync_transport,
        **own,
    )


def signing_auth(client: Client) -> VolcengineAuth | None:
    """The :class:`VolcengineAuth` a client built here signs with (None for others)."""
    if isinstance(client, SignedClient):
        auth = client._httpx_args.get("auth")
        if isinstance(auth, VolcengineAuth):
            return auth
    return None
