"""The httpx client classes ark-batch builds, and how it lets go of a read response.

Two per-request costs of a stock httpx client are avoided here, neither changing what
is sent or returned:

- Cookies: a response that sets none skips the cookie jar (:class:`ResponseCookies`,
  docs/decisions/0025).
- Garbage: httpx's bound response stream refers back to its response, a reference cycle
  that only the cyclic garbage collector frees. Until a collection runs, every object of
  the exchange stays allocated (the request, both header sets, the transport's response),
  about 40 objects a call. :func:`release_stream` drops the stream of a response whose
  body has been read and whose stream is closed, so reference counting frees the
  exchange at once (docs/decisions/0028).
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import httpx

from ark_batch.response_cookies import ResponseCookies

__all__ = ["lean_client_class", "release_stream"]

_Client = TypeVar("_Client", httpx.Client, httpx.AsyncClient)

#: What a released response's ``stream`` becomes: empty, and both sync and async.
_RELEASED = httpx.ByteStream(b"")


def release_stream(response: httpx.Response) -> None:
    """Drop the closed stream of ``response``, breaking httpx's response-stream cycle.

    Call it only once the stream is closed. The body already read stays readable
    (``content``, ``read()``, ``iter_bytes()``); the raw stream was consumed anyway.
    """
    response.stream = _RELEASED


def _cookies(client: Any) -> httpx.Cookies:
    return cast(httpx.Cookies, client._response_cookies)


def _set_cookies(client: Any, cookies: Any) -> None:
    # As httpx's own setter: a CookieJar is used as it is, anything else is copied.
    client._response_cookies = ResponseCookies(cookies)


def _send_for(base: type[Any]) -> Any:
    """``send`` that releases the stream of a response it has read whole."""
    if issubclass(base, httpx.AsyncClient):

        async def send_async(
            self: Any, request: httpx.Request, *, stream: bool = False, **kwargs: Any
        ) -> httpx.Response:
            response: httpx.Response = await base.send(self, request, stream=stream, **kwargs)
            if not stream and response.is_closed:
                release_stream(response)
            return response

        return send_async

    def send(
        self: Any, request: httpx.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        response: httpx.Response = base.send(self, request, stream=stream, **kwargs)
        if not stream and response.is_closed:
            release_stream(response)
        return response

    return send


# One subclass per httpx client class, so every client of a kind has the same type.
_SUBCLASSES: dict[type[Any], type[Any]] = {}


def lean_client_class(base: type[_Client]) -> type[_Client]:
    """A subclass of the httpx client class ``base`` with both costs above avoided.

    Its ``cookies`` is a :class:`ResponseCookies` (httpx reads a client's cookies only
    through that public property), and its ``send`` releases the stream of a response
    it returns already read (``stream=False``, what ``get``/``post``/``request`` use).
    A streamed response is the caller's to close and release. The constructor takes the
    same arguments as ``base``'s.
    """

    known = _SUBCLASSES.get(base)
    if known is not None:
        return cast(type[_Client], known)

    def __init__(self: Any, *args: Any, cookies: Any = None, **kwargs: Any) -> None:
        base.__init__(self, *args, **kwargs)
        self.cookies = cookies

    namespace = {
        "__init__": __init__,
        "__module__": __name__,
        "__doc__": base.__doc__,
        "cookies": property(_cookies, _set_cookies),
        "send": _send_for(base),
    }
    subclass = _SUBCLASSES[base] = type(base.__name__, (base,), namespace)
    return cast(type[_Client], subclass)
