"""Cookies that skip the cookie jar for a response that sets none.

``httpx.Client`` hands every response to ``http.cookiejar`` through a urllib request and
response built for it, about 18 µs a request, even when no ``Set-Cookie`` header came
back (docs/decisions/0025). A response without ``Set-Cookie`` or ``Set-Cookie2`` adds
nothing to a jar, so skipping it changes nothing; a cookie that a gateway sets is kept
and sent back as before. :func:`ark_batch.http_clients.lean_client_class` puts it on a
client.
"""

from __future__ import annotations

import httpx

__all__ = ["ResponseCookies"]

_SETS_COOKIE = frozenset((b"set-cookie", b"set-cookie2"))


class ResponseCookies(httpx.Cookies):
    """``httpx.Cookies`` that skips the cookie jar for a response that sets no cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Load the cookies of ``response``'s ``Set-Cookie`` headers, if it has any."""
        # The raw names: a lookup by str would make httpx check the encoding of every
        # header of every response first.
        if any(name.lower() in _SETS_COOKIE for name, _ in response.headers.raw):
            super().extract_cookies(response)
