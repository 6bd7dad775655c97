"""Sign schemathesis' requests: a ``requests`` auth over :mod:`ark_batch.signing`.

schemathesis sends through ``requests`` (also in-process), and a ``requests.auth.AuthBase``
sees the final URL and body bytes, which is what a signature must cover.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

from ark_batch.emulator.config import DEV_ACCESS_KEY, DEV_SECRET_KEY
from ark_batch.signing import SigningKeyCache, format_x_date, is_signed_header, sign

__all__ = ["ACCESS_KEY_ENV", "SECRET_KEY_ENV", "SESSION_TOKEN_ENV", "VolcengineRequestsAuth"]

# Names of environment variables, not secrets.
ACCESS_KEY_ENV = "ARK_BATCH_FUZZ_ACCESS_KEY"
SECRET_KEY_ENV = "ARK_BATCH_FUZZ_SECRET_KEY"  # noqa: S105
SESSION_TOKEN_ENV = "ARK_BATCH_FUZZ_SESSION_TOKEN"  # noqa: S105
REGION_ENV = "ARK_BATCH_FUZZ_REGION"

_OWNED = ("authorization", "x-date", "x-content-sha256", "x-security-token")


class VolcengineRequestsAuth(requests.auth.AuthBase):
    """Volcengine HMAC-SHA256 signing of a prepared ``requests`` request."""

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        *,
        session_token: str | None = None,
        region: str = "cn-beijing",
    ) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.session_token = session_token
        self.region = region
        self._keys = SigningKeyCache(maxsize=4)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VolcengineRequestsAuth:
        """``ARK_BATCH_FUZZ_ACCESS_KEY``/``..._SECRET_KEY`` (default: the emulator's dev pair)."""
        env = os.environ if environ is None else environ
        return cls(
            env.get(ACCESS_KEY_ENV) or DEV_ACCESS_KEY,
            env.get(SECRET_KEY_ENV) or DEV_SECRET_KEY,
            session_token=env.get(SESSION_TOKEN_ENV) or None,
            region=env.get(REGION_ENV) or "cn-beijing",
        )

    def __repr__(self) -> str:
        return f"VolcengineRequestsAuth(access_key={self.access_key[:4]!r}…)"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        for name in _OWNED:
            request.headers.pop(name, None)
        # http.client adds Host only at send time, after auth: set it so it can be signed.
        # Like http.client, leave out the default port of the scheme.
        host = url.hostname or ""
        default_port = 443 if url.scheme == "https" else 80
        if url.port and url.port != default_port:
            host = f"{host}:{url.port}"
        request.headers["Host"] = host
        signable = {
            name: value.decode("latin-1") if isinstance(value, bytes) else value
            for name, value in request.headers.items()
            if is_signed_header(name)
        }
        request.headers.update(
            sign(
                method=request.method or "POST",
                path=url.path or "/",
                query=url.query,
                headers=signable,
                body=body,
                access_key=self.access_key,
                secret_key=self.secret_key,
                region=self.region,
                service="ark",
                x_date=format_x_date(datetime.now(UTC)),
                session_token=self.session_token,
                key_cache=self._keys,
            )
        )
        return request
