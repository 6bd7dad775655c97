"""Keep credentials written into URLs out of everything the emulator prints."""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact_url", "redact_url_in"]

REDACTED = "***"
# Everything between "//" and the last "@" before the path: user info, however malformed.
_USERINFO = re.compile(r"(//)[^/?#]*@")


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``; works on malformed URLs."""
    return _USERINFO.sub(rf"\g<1>{REDACTED}@", url)


def redact_url_in(text: str, url: str) -> str:
    """``text`` (an error message about ``url``) with the URL's credentials redacted."""
    redacted = text.replace(url, redact_url(url))
    match = _USERINFO.search(url)
    if match:
        for secret in match.group(0)[2:-1].split(":"):
            if secret:
                redacted = redacted.replace(secret, REDACTED)
    return redacted
