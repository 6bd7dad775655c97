"""The async httpx client on httpx-aiohttp, with httpx's cookie jar as the only one.

An aiohttp session keeps cookies in a jar of its own. Under httpx that is a second,
hidden jar: a cookie a gateway sets is kept there as well as in httpx's, and aiohttp
sends it again after the user has cleared the client's cookies, or when the user's own
jar has a policy that refused it. Here every session httpx-aiohttp makes gets aiohttp's
``DummyCookieJar``, so the async client keeps and sends exactly the cookies
``client.cookies`` holds, as the sync transports do (docs/decisions/0031).

This module needs the ``aiohttp`` extra; :func:`ark_batch.connect.async_client_class`
imports it only when httpx-aiohttp is installed.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient

__all__ = ["HEADER_LINE_LIMIT", "AiohttpClient", "JarlessAiohttpTransport", "TextReasonResponse"]

#: The longest response header line read, in bytes. aiohttp's own limit is 8,190; the
#: sync transports read longer ones (httpx's up to a 16 KiB head, pyreqwest's more).
HEADER_LINE_LIMIT = 64 * 1024


class TextReasonResponse(aiohttp.ClientResponse):
    """aiohttp's response, whose reason phrase is always text UTF-8 can encode.

    aiohttp keeps the bytes of a reason phrase that is not UTF-8 as surrogates
    (``HTTP/1.1 200 \\xd6K``), which httpx-aiohttp then fails to encode: the call died
    with a bare ``UnicodeEncodeError`` and left its connection checked out. Each such
    byte reads as U+FFFD here; httpx's own transport reads these lines too.
    """

    @property
    def reason(self) -> str | None:
        return self._text_reason

    @reason.setter
    def reason(self, value: str | None) -> None:
        if value is not None and not value.isascii():  # the usual phrase is ASCII
            value = value.encode("utf-8", "replace").decode("utf-8")
        self._text_reason = value


class JarlessAiohttpTransport(AiohttpTransport):
    """httpx-aiohttp's transport whose own aiohttp session keeps no cookies, reads
    response header lines up to :data:`HEADER_LINE_LIMIT`, and hands on any reason
    phrase (:class:`TextReasonResponse`).

    A session or session factory given as ``client=`` is used as it is.
    """

    def get_client(self) -> aiohttp.ClientSession:
        """The session httpx-aiohttp would make, on the same connector, without a jar."""
        made = super().get_client()
        if self.client is not None:
            return made
        connector = made.connector
        made.detach()  # the new session owns and closes the connector
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            max_line_size=HEADER_LINE_LIMIT,
            max_field_size=HEADER_LINE_LIMIT,
            response_class=TextReasonResponse,
        )


class AiohttpClient(HttpxAiohttpClient):
    """``HttpxAiohttpClient`` whose own transports (direct and proxied) are jarless.

    A ``transport=`` given is used as it is, as in httpx.
    """

    # Whatever httpx passes (verify, cert, trust_env, http1, http2, limits) reaches the
    # transport as it would reach httpx-aiohttp's own.
    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        given: httpx.AsyncBaseTransport | None = kwargs.pop("transport", None)
        return given if given is not None else JarlessAiohttpTransport(*args, **kwargs)

    def _init_proxy_transport(
        self, proxy: httpx.Proxy, *args: Any, **kwargs: Any
    ) -> httpx.AsyncBaseTransport:
        kwargs["proxy"] = proxy
        return JarlessAiohttpTransport(*args, **kwargs)
