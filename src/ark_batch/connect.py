"""Build a ready, signed generated client in one call."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx

from ark_batch.auth import VolcengineAuth
from ark_batch.credentials import Credentials, resolve_credentials, resolve_region
from ark_batch_client import Client

__all__ = ["DEFAULT_ENDPOINT", "ENDPOINT_ENV", "make_client", "resolve_endpoint"]

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
}


def resolve_endpoint(
    endpoint: str | None = None, *, environ: Mapping[str, str] | None = None
) -> str:
    """The endpoint: explicit, then ``ARK_BATCH_ENDPOINT``, then :data:`DEFAULT_ENDPOINT`.

    A bare host gets ``https://``; a trailing slash is dropped.
    """
    env = os.environ if environ is None else environ
    chosen = endpoint or env.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT
    if "://" not in chosen:
        chosen = f"https://{chosen}"
    return chosen.rstrip("/")


def make_client(
    endpoint: str | None = None,
    *,
    credentials: Credentials | None = None,
    region: str | None = None,
    timeout: float = 30.0,
    environ: Mapping[str, str] | None = None,
    httpx_args: Mapping[str, Any] | None = None,
) -> Client:
    """A generated :class:`ark_batch_client.Client` that signs every request.

    Credentials, region and endpoint come from the arguments, else the environment
    (see :func:`ark_batch.credentials.resolve_credentials`, :func:`resolve_region`,
    :func:`resolve_endpoint`). Works with the generated ``sync`` and ``asyncio`` functions.
    """
    creds = credentials or resolve_credentials(environ=environ)
    auth = VolcengineAuth(creds, resolve_region(region, environ=environ))
    args: dict[str, Any] = dict(httpx_args or {})
    args["auth"] = auth
    # The generated Client passes these to httpx itself; given twice, httpx would refuse.
    own = {name: args.pop(key) for key, name in _CLIENT_FIELDS.items() if key in args}
    return Client(
        base_url=resolve_endpoint(endpoint, environ=environ),
        timeout=httpx.Timeout(timeout),
        httpx_args=args,
        **own,
    )
