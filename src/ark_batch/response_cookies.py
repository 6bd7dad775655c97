"""httpx clients that read a response's cookies only when it sets one.

``httpx.Client`` hands every response to ``http.cookiejar`` through a urllib request and
response built for it, about 18 µs a request, even when no ``Set-Cookie`` header came
back (docs/decisions/0025). A response without ``Set-Cookie`` or ``Set-Cookie2`` adds
nothing to a jar, so skipping it changes nothing; a cookie that a gateway sets is kept
and sent back as before.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import httpx

__all__ = ["ResponseCookies", "with_response_cookies"]

_Client = TypeVar("_Client", httpx.Client, httpx.AsyncClient)


class ResponseCookies(httpx.Cookies):
    """``httpx.Cookies`` that skips the cookie jar for a response that sets no cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Load the cookies of ``response``'s ``Set-Cookie`` headers, if it has any."""
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


def _cookies(client: Any) -> httpx.Cookies:
    return cast(httpx.Cookies, client._response_cookies)


def _set_cookies(client: Any, cookies: Any) -> None:
    # As httpx's own setter: a CookieJar is used as it is, anything else is copied.
    client._response_cookies = ResponseCookies(cookies)


# One subclass per httpx client class, so every client of a kind has the same type.
_SUBCLASSES: dict[type[Any], type[Any]] = {}


def with_response_cookies(base: type[_Client]) -> type[_Client]:
    """A subclass of the httpx client class ``base`` whose ``cookies`` is a ResponseCookies.

    httpx reads a client's cookies only through its public ``cookies`` property, which
    the subclass overrides; its constructor takes the same arguments.
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
    }
    subclass = _SUBCLASSES[base] = type(base.__name__, (base,), namespace)
    return cast(type[_Client], subclass)
