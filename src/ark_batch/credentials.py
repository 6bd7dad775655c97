"""Access-key credentials and region, resolved from arguments or the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ark_batch.errors import InvalidSettingError, MissingCredentialsError

__all__ = [
    "DEFAULT_REGION",
    "REGION_ENV",
    "Credentials",
    "any_credential_set",
    "resolve_credentials",
    "resolve_region",
]

DEFAULT_REGION = "cn-beijing"
# What an access key, secret key or session token may hold: visible ASCII only.
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
# A region name goes into the signature's credential scope: letters, digits, - and _.
_REGION = re.compile(r"[A-Za-z0-9_-]+")
#: Environment variable that sets the signing region.
REGION_ENV = "VOLCENGINE_REGION"

# (access key, secret key, session token) variable names, in precedence order. The
# VOLCENGINE_* names are the official Python SDK's; VOLC_* are the older SDK's and the
# Ark tutorials', which have no token variable.
_ENV_SOURCES: tuple[tuple[str, str, str | None], ...] = (
    ("VOLCENGINE_ACCESS_KEY", "VOLCENGINE_SECRET_KEY", "VOLCENGINE_SESSION_TOKEN"),
    ("VOLC_ACCESSKEY", "VOLC_SECRETKEY", None),
)


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """An access key, its secret key and an optional STS session token.

    ``repr``/``str`` show only the first four characters of the access key.
    """

    access_key: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.access_key or not self.secret_key:
            raise InvalidSettingError("Credentials need a non-empty access_key and secret_key")
        # The key and token go into request headers, where a stray newline would fail
        # the request with an error quoting the header, secret and all.
        for name in ("access_key", "secret_key", "session_token"):
            value = getattr(self, name)
            if value and not _VISIBLE_ASCII.fullmatch(value):  # "" is no token
                raise InvalidSettingError(
                    f"Credentials: the {name} has whitespace, a control character or a "
                    "non-ASCII character (a trailing newline from a file?); "
                    "its value is not shown"
                )

    def __repr__(self) -> str:
        token = "'***'" if self.session_token else "None"
        return (
            f"Credentials(access_key='{self.access_key[:4]}…', secret_key='***', "
            f"session_token={token})"
        )

    __str__ = __repr__


def _set(value: str | None) -> str | None:
    """Treat an empty string like an unset value."""
    return value or None


def resolve_credentials(
    access_key: str | None = None,
    secret_key: str | None = None,
    session_token: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """Resolve credentials: explicit arguments, then VOLCENGINE_*, then VOLC_*.

    The first source that supplies any part wins and must be complete: an access key
    from one source is never paired with a secret key (or token) from another. Empty
    values count as unset. Raises MissingCredentialsError naming what is missing.
    """
    if _set(access_key) or _set(secret_key) or _set(session_token):
        return _complete(
            _set(access_key),
            _set(secret_key),
            _set(session_token),
            ("access_key", "secret_key"),
            "pass",
        )
    env = os.environ if environ is None else environ
    for ak_name, sk_name, token_name in _ENV_SOURCES:
        ak = _set(env.get(ak_name))
        sk = _set(env.get(sk_name))
        token = _set(env.get(token_name)) if token_name else None
        if ak or sk or token:
            return _complete(ak, sk, token, (ak_name, sk_name), "set")
    raise MissingCredentialsError(
        "no Volcengine credentials found: set VOLCENGINE_ACCESS_KEY and "
        "VOLCENGINE_SECRET_KEY (optionally VOLCENGINE_SESSION_TOKEN), or VOLC_ACCESSKEY "
        "and VOLC_SECRETKEY, or pass access_key and secret_key"
    )


def any_credential_set(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment sets any credential variable, even half a key pair.

    When it sets none, :func:`resolve_credentials` without arguments raises its "no
    Volcengine credentials found" error; otherwise it succeeds or names the missing half.
    """
    env = os.environ if environ is None else environ
    return any(_set(env.get(name)) for names in _ENV_SOURCES for name in names if name is not None)


def _complete(
    access_key: str | None,
    secret_key: str | None,
    session_token: str | None,
    names: tuple[str, str],
    verb: str,
) -> Credentials:
    if access_key and secret_key:
        return Credentials(access_key, secret_key, session_token)
    missing = [
        name for name, value in zip(names, (access_key, secret_key), strict=True) if not value
    ]
    raise MissingCredentialsError(
        f"incomplete Volcengine credentials: also {verb} {' and '.join(missing)} "
        "(an access key and its secret key must come from the same source)"
    )


def resolve_region(region: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    """Resolve the region: explicit argument, then VOLCENGINE_REGION, then cn-beijing.

    Raises :class:`~ark_batch.errors.InvalidSettingError` for a name that is not
    letters, digits, dashes and underscores.
    """
    env = os.environ if environ is None else environ
    chosen = region or env.get(REGION_ENV) or DEFAULT_REGION
    if not _REGION.fullmatch(chosen):
        source = "region" if region else REGION_ENV
        raise InvalidSettingError(
            f"{source} {chosen!r} is not a region name: letters, digits, - and _ only"
        )
    return chosen
