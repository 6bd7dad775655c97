"""Keep credentials written into URLs out of everything the client, CLI and emulator print."""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact_url", "redact_url_in", "redact_userinfo"]

REDACTED = "***"
# Everything between "//" and the last "@" before the query: user info, however
# malformed. Not only up to the path: a secret key with a "/" in it (S3 keys often have
# one) ends the authority early, and the rest of it would show.
_USERINFO = re.compile(r"(//)[^?#]*@")
# One parameter of a query or fragment (a token in `?api_key=...`, `#access_token=...`).
_PARAMETER = re.compile(r"([?&;#])([^&;#]*)")


def redact_url(url: str) -> str:
    """``url`` with its user info and query and fragment values replaced by ``***``.

    ``user:password@`` becomes ``***@`` and ``?api_key=sk-1&x=2`` ``?api_key=***&x=***``
    (a query can carry a token under any name); works on malformed URLs.
    """
    head, tail = _split(url)
    return _USERINFO.sub(rf"\g<1>{REDACTED}@", head) + _PARAMETER.sub(_redact_parameter, tail)


def redact_userinfo(url: str) -> str:
    """``url`` with only its user info replaced (an API request URL's query is not secret)."""
    head, tail = _split(url)
    return _USERINFO.sub(rf"\g<1>{REDACTED}@", head) + tail


def redact_url_in(text: str, url: str) -> str:
    """``text`` (an error message about ``url``) with the URL's credentials redacted."""
    parts = text.split(url)
    for secret in _secrets(url):
        parts = [part.replace(secret, REDACTED) for part in parts]
    return redact_url(url).join(parts)


def _split(url: str) -> tuple[str, str]:
    """``url`` cut before its query or fragment, whichever comes first."""
    match = re.search(r"[?#]", url)
    return (url, "") if match is None else (url[: match.start()], url[match.start() :])


def _redact_parameter(match: re.Match[str]) -> str:
    name, equals, value = match[2].partition("=")
    if equals:
        return f"{match[1]}{name}={REDACTED}" if value else match[0]
    return f"{match[1]}{REDACTED}" if name else match[0]


def _secrets(url: str) -> list[str]:
    """The user info parts and the query and fragment values of ``url``."""
    head, tail = _split(url)
    found: list[str] = []
    match = _USERINFO.search(head)
    if match:
        userinfo = match.group(0)[2:-1]
        # Its parts, and the pieces a parser may quote on its own ("abc" of "k:abc/x@h",
        # read as a port): pieces of three characters or more.
        found += userinfo.split(":")
        found += [piece for piece in re.split(r"[:/@]", userinfo) if len(piece) >= 3]
    for parameter in _PARAMETER.finditer(tail):
        name, equals, value = parameter[2].partition("=")
        found.append(value if equals else name)
    return [secret for secret in found if secret]
