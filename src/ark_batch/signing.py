"""Volcengine HMAC-SHA256 ("V4") request signing, stdlib only.

Matches the official ``volcenginesdkcore.signv4.SignerV4`` byte for byte, with two
deliberate differences (see docs/decisions/0004-request-signing.md):

* Header selection ignores case: ``content-type``, ``content-md5``, ``host`` and every
  ``x-*`` header are signed however they are spelled. The SDK only signs keys spelled
  exactly ``Content-Type``, ``Content-Md5``, ``Host`` or starting with ``X-``.
* No ``Content-Type`` is invented for requests without one (the SDK inserts
  ``application/x-www-form-urlencoded; charset=utf-8``): we sign what is sent.

Like the SDK, a repeated query key keeps only its last value.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, unquote_to_bytes

__all__ = [
    "ALGORITHM",
    "EMPTY_BODY_SHA256",
    "PAYLOAD_HOLE",
    "CanonicalTemplate",
    "KeyChain",
    "ParsedAuthorization",
    "SigningKeyCache",
    "canonical_headers",
    "canonical_host",
    "canonical_query",
    "canonical_query_from_pairs",
    "canonical_request",
    "canonical_template",
    "compute_signature",
    "credential_scope",
    "default_key_cache",
    "derive_key_chain",
    "derive_signing_key",
    "format_x_date",
    "is_signed_header",
    "parse_authorization",
    "select_signed_headers",
    "sign",
    "sign_selected",
    "string_to_sign",
]

logger = logging.getLogger("ark_batch.signing")

ALGORITHM = "HMAC-SHA256"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
REDACTED = "<redacted>"

_ALWAYS_SIGNED = frozenset({"content-type", "content-md5", "host"})
# Headers sign() itself adds; they sort in this order among all signed names.
_ADDED = ("x-content-sha256", "x-date", "x-security-token")
_UNRESERVED = "-_.~"  # quote() leaves A-Z a-z 0-9 alone by itself


def is_signed_header(name: str) -> bool:
    """Whether a header (any case) is signed: content-type, content-md5, host, x-*."""
    lowered = name.lower()
    return lowered in _ALWAYS_SIGNED or lowered.startswith("x-")


def select_signed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The signed subset of ``headers`` (any case), keyed by lowercase name."""
    selected: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _ALWAYS_SIGNED or lowered.startswith("x-"):
            selected[lowered] = value
    return selected


# --- canonical query ------------------------------------------------------------------


def _join_encoded(pairs: Iterable[tuple[str | bytes, str | bytes]]) -> str:
    encoded = sorted((quote(k, safe=_UNRESERVED), quote(v, safe=_UNRESERVED)) for k, v in pairs)
    return "&".join([f"{k}={v}" for k, v in encoded])


def canonical_query_from_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """Canonical query for decoded ``(key, value)`` pairs.

    A repeated key keeps only its last value, as in the SDK (which passes the query
    through a ``dict``). Pairs are sorted by (encoded key, encoded value).
    """
    return _join_encoded(dict(pairs).items())


@lru_cache(maxsize=256)
def canonical_query(raw_query: str) -> str:
    """Canonical query for a raw (percent-encoded) query string, without the ``?``.

    ``+`` means a space, as servers parse it; repeated keys keep the last value.
    Decoding goes to bytes so that any byte sequence re-encodes exactly. Cached because
    clients send a handful of constant queries.
    """
    collapsed: dict[bytes, bytes] = {}
    for part in raw_query.split("&"):
        if part:
            key, _, value = part.partition("=")
            collapsed[unquote_to_bytes(key.replace("+", " "))] = unquote_to_bytes(
                value.replace("+", " ")
            )
    return _join_encoded(collapsed.items())


# --- canonical request ------------------------------------------------------------------


def canonical_host(value: str) -> str:
    """Drop a ``:80`` or ``:443`` suffix, whatever the scheme, as the SDK does."""
    host, sep, port = value.rpartition(":")
    return host if sep and port in ("80", "443") else value


def canonical_headers(headers: Mapping[str, str], signed_headers: Sequence[str]) -> str:
    """Header block: ``name:value\\n`` for each of ``signed_headers``, in the order given.

    ``headers`` is keyed by exactly those names. Values stay untrimmed, as in the SDK;
    only the host value is canonicalised.
    """
    return "".join(
        [
            f"{name}:{canonical_host(headers[name]) if name == 'host' else headers[name]}\n"
            for name in signed_headers
        ]
    )


def canonical_request(
    method: str,
    path: str,
    canonical_query: str,
    canonical_headers: str,
    signed_headers: str,
    body_sha256: str,
) -> str:
    """The six parts, already canonical, joined by newlines; an empty path becomes ``/``.

    The header block ends in a newline, so a blank line follows it. This states the
    layout; requests are built by :func:`canonical_template`.
    """
    return "\n".join(
        (method, path or "/", canonical_query, canonical_headers, signed_headers, body_sha256)
    )


class CanonicalTemplate(NamedTuple):
    """A canonical request with holes: ``fragments`` around the values of ``holes``.

    ``holes`` names the signed headers whose values are filled in per request, then
    the payload hash (the empty name) last; ``len(fragments) == len(holes) + 1``.
    """

    fragments: tuple[str, ...]
    holes: tuple[str, ...]
    signed_headers: str

    def fill(self, values: Mapping[str, str]) -> str:
        """The canonical request, with ``values`` by hole name (``""``: payload hash)."""
        parts = [self.fragments[0]]
        for name, fragment in zip(self.holes, self.fragments[1:], strict=True):
            parts.append(values[name])
            parts.append(fragment)
        return "".join(parts)


#: The hole name of the payload hash in a :class:`CanonicalTemplate`.
PAYLOAD_HOLE = ""


def canonical_template(
    method: str,
    path: str,
    query: str,
    values: Mapping[str, str],
    names: Sequence[str],
    holes: Iterable[str] = (),
) -> CanonicalTemplate:
    """The one builder of canonical requests, for the signer and the verifier alike.

    ``query`` is raw; ``names`` are the signed headers (lowercase, in signing order)
    and ``values`` their values by name, except those listed in ``holes``, which are
    left open for :meth:`CanonicalTemplate.fill` (the signer fills X-Date and the body
    hash per send; the verifier leaves only the payload hash open). The layout is
    :func:`canonical_request`'s.
    """
    open_names = frozenset(holes)
    fragments = [f"{method}\n{path or '/'}\n{canonical_query(query)}\n"]
    hole_names: list[str] = []
    for name in names:
        if name in open_names:
            fragments[-1] += f"{name}:"
            hole_names.append(name)
            fragments.append("\n")
        else:
            fragments[-1] += canonical_headers(values, (name,))
    signed_headers = ";".join(names)
    fragments[-1] += f"\n{signed_headers}\n"
    hole_names.append(PAYLOAD_HOLE)
    fragments.append("")
    return CanonicalTemplate(tuple(fragments), tuple(hole_names), signed_headers)


def credential_scope(date: str, region: str, service: str) -> str:
    """``<yyyymmdd>/<region>/<service>/request``."""
    return f"{date}/{region}/{service}/request"


def string_to_sign(x_date: str, scope: str, canonical_request: str) -> str:
    """``HMAC-SHA256``, X-Date, scope and the hex SHA-256 of the canonical request."""
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{x_date}\n{scope}\n{digest}"


def format_x_date(now: datetime) -> str:
    """``yyyymmddTHHMMSSZ`` for an aware datetime, converted to UTC."""
    if now.tzinfo is not UTC:
        offset = now.utcoffset()
        if offset is None:
            raise ValueError("X-Date needs an aware datetime; got a naive one")
        if offset:
            now = now.astimezone(UTC)
    # %-formatting is over twice as fast as strftime or an f-string; it runs per send.
    return "%04d%02d%02dT%02d%02d%02dZ" % (  # noqa: UP031
        now.year,
        now.month,
        now.day,
        now.hour,
        now.minute,
        now.second,
    )


# --- signing key ------------------------------------------------------------------------


class KeyChain(NamedTuple):
    """Every intermediate key of the derivation, for tests and debugging."""

    k_date: bytes
    k_region: bytes
    k_service: bytes
    k_signing: bytes


def derive_key_chain(secret_key: str, date: str, region: str, service: str) -> KeyChain:
    """kDate = HMAC(SK, date), kRegion, kService, kSigning = HMAC(kService, "request").

    Unlike AWS SigV4 there is no prefix on the secret key.
    """
    k_date = hmac.digest(secret_key.encode("utf-8"), date.encode("utf-8"), "sha256")
    k_region = hmac.digest(k_date, region.encode("utf-8"), "sha256")
    k_service = hmac.digest(k_region, service.encode("utf-8"), "sha256")
    return KeyChain(k_date, k_region, k_service, hmac.digest(k_service, b"request", "sha256"))


def derive_signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The signing key kSigning, uncached."""
    return derive_key_chain(secret_key, date, region, service).k_signing


_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


class _PreparedKey:
    """A signing key with its HMAC inner and outer SHA-256 states precomputed.

    Copying two keyed hash states is about twice as fast as ``hmac.digest``, which
    redoes the key schedule on every call; this is the costliest step of a signature.
    """

    __slots__ = ("inner", "key", "outer")

    def __init__(self, key: bytes) -> None:
        padded = key.ljust(64, b"\0")  # kSigning (32 bytes) fits SHA-256's 64-byte block
        self.key = key
        self.inner = hashlib.sha256(padded.translate(_IPAD))
        self.outer = hashlib.sha256(padded.translate(_OPAD))

    def hexdigest(self, message: bytes) -> str:
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class SigningKeyCache:
    """Small bounded cache of signing keys per (secret key, date, region, service).

    A key serves a whole UTC day, so a signer needs one or two entries; the bound only
    stops rotated secrets piling up. When full, the oldest entry goes (dates only move
    forward). ``hits``/``misses`` count lookups. ``repr`` shows no key or secret.
    """

    __slots__ = ("_entries", "hits", "maxsize", "misses")

    def __init__(self, maxsize: int = 8) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: dict[tuple[str, str, str, str], _PreparedKey] = {}

    def get(self, secret_key: str, date: str, region: str, service: str) -> bytes:
        """The signing key, derived and stored on a miss."""
        return self._prepared(secret_key, date, region, service).key

    def _prepared(self, secret_key: str, date: str, region: str, service: str) -> _PreparedKey:
        cache_key = (secret_key, date, region, service)
        prepared = self._entries.get(cache_key)
        if prepared is not None:
            self.hits += 1
            return prepared
        self.misses += 1
        prepared = _PreparedKey(derive_signing_key(secret_key, date, region, service))
        if len(self._entries) >= self.maxsize:
            self._entries.pop(next(iter(self._entries)), None)
        self._entries[cache_key] = prepared
        return prepared

    def clear(self) -> None:
        """Forget every key and reset the counters."""
        self._entries.clear()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SigningKeyCache(size={len(self._entries)}, maxsize={self.maxsize})"


default_key_cache = SigningKeyCache()
"""The cache :func:`sign` and :func:`compute_signature` use when given none."""


# --- signing ----------------------------------------------------------------------------

# Signer templates, per (method, path, query, signed headers, has token). Real traffic
# has a few such shapes, so the sort, host and query canonicalisation run once each.
_templates: dict[tuple[object, ...], CanonicalTemplate] = {}
_TEMPLATES_MAX = 128


def _mask_access_key(access_key: str) -> str:
    return f"{access_key[:4]}…"


def _log_debug(
    canonical: str,
    to_sign: str,
    authorization: str,
    signature: str,
    access_key: str,
    session_token: str | None,
) -> None:
    if session_token:
        canonical = canonical.replace(session_token, REDACTED)
    authorization = authorization.replace(signature, REDACTED).replace(
        f"Credential={access_key}/", f"Credential={_mask_access_key(access_key)}/"
    )
    logger.debug("canonical request:\n%s", canonical)
    logger.debug("string to sign:\n%s", to_sign)
    logger.debug("authorization: %s", authorization)


def sign(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    x_date: str,
    session_token: str | None = None,
    key_cache: SigningKeyCache | None = None,
) -> dict[str, str]:
    """Sign a request; return the headers to set on it.

    ``path`` and ``query`` are the raw strings as sent (query without ``?``),
    ``headers`` the headers as sent (any case), ``body`` the exact body bytes and
    ``x_date`` as made by :func:`format_x_date`. Signed: content-type, content-md5,
    host, every ``x-*`` header, and the X-Date, X-Content-Sha256 and X-Security-Token
    this adds (stale copies of those three in ``headers`` are ignored).

    Returns ``X-Date``, ``X-Content-Sha256``, ``Authorization`` and, given a session
    token, ``X-Security-Token``.
    """
    selected = select_signed_headers(headers)
    for name in _ADDED:
        selected.pop(name, None)
    return sign_selected(
        method,
        path,
        query,
        selected,
        body,
        access_key,
        secret_key,
        region,
        service,
        x_date,
        session_token,
        default_key_cache if key_cache is None else key_cache,
    )


def sign_selected(
    method: str,
    path: str,
    query: str,
    selected: dict[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    x_date: str,
    session_token: str | None,
    key_cache: SigningKeyCache,
) -> dict[str, str]:
    """:func:`sign` for a caller that already selected the signed headers.

    ``selected`` maps lowercase names to values and must not hold x-date,
    x-content-sha256 or x-security-token. Positional, because the httpx auth calls
    this on every send.
    """
    body_sha256 = hashlib.sha256(body).hexdigest()
    template_key = (method, path, query, bool(session_token), *selected.items())
    template = _templates.get(template_key)
    if template is None:
        if len(_templates) >= _TEMPLATES_MAX:
            _templates.clear()
        added = _ADDED if session_token else _ADDED[:2]
        template = _templates[template_key] = canonical_template(
            method, path, query, selected, sorted([*selected, *added]), added
        )
    # The holes are x-content-sha256, x-date[, x-security-token] (in sorted order) and
    # the payload hash: filled positionally, the fastest way on this per-send path.
    fragments = template.fragments
    signed_headers = template.signed_headers
    if session_token:
        canonical = (
            f"{fragments[0]}{body_sha256}{fragments[1]}{x_date}{fragments[2]}{session_token}"
            f"{fragments[3]}{body_sha256}"
        )
    else:
        canonical = f"{fragments[0]}{body_sha256}{fragments[1]}{x_date}{fragments[2]}{body_sha256}"
    date = x_date[:8]
    scope = f"{date}/{region}/{service}/request"
    canonical_hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    to_sign = f"{ALGORITHM}\n{x_date}\n{scope}\n{canonical_hash}"
    signature = key_cache._prepared(secret_key, date, region, service).hexdigest(
        to_sign.encode("utf-8")
    )
    authorization = (
        f"{ALGORITHM} Credential={access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    if logger.isEnabledFor(logging.DEBUG):
        _log_debug(canonical, to_sign, authorization, signature, access_key, session_token)
    headers = {"X-Date": x_date, "X-Content-Sha256": body_sha256, "Authorization": authorization}
    if session_token:
        headers["X-Security-Token"] = session_token
    return headers


# --- verification -----------------------------------------------------------------------


def compute_signature(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    body_sha256: str,
    x_date: str,
    date: str,
    region: str,
    service: str,
    secret_key: str,
    key_cache: SigningKeyCache | None = None,
) -> str:
    """The signature a received request should carry (the server side of :func:`sign`).

    Rebuilds the canonical request from exactly the ``signed_headers`` the client
    listed, in its order, looking values up in ``headers`` by name in any case.
    ``date``, ``region`` and ``service`` are the credential-scope parts. Compare the
    result with :func:`hmac.compare_digest`.

    Raises ValueError if a listed header is missing from ``headers``.
    """
    present = {name.lower(): value for name, value in headers.items()}
    values: dict[str, str] = {}
    for name in signed_headers:
        value = present.get(name.lower())
        if value is None:
            raise ValueError(f"SignedHeaders lists {name!r} but the request has no such header")
        values[name] = value
    template = canonical_template(method, path, query, values, signed_headers)
    canonical = template.fill({PAYLOAD_HOLE: body_sha256})
    to_sign = string_to_sign(x_date, credential_scope(date, region, service), canonical)
    cache = default_key_cache if key_cache is None else key_cache  # an empty cache is falsy
    return cache._prepared(secret_key, date, region, service).hexdigest(to_sign.encode("utf-8"))


class ParsedAuthorization(NamedTuple):
    """The fields of an ``Authorization: HMAC-SHA256 ...`` header."""

    access_key: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization:
    """Split ``HMAC-SHA256 Credential=AK/date/region/service/request, SignedHeaders=...,
    Signature=...`` into its fields. Raises ValueError for any other shape; the message
    never quotes the header.
    """
    algorithm, _, rest = value.partition(" ")
    if algorithm != ALGORITHM:
        raise ValueError("authorization header does not use HMAC-SHA256")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, field_value = item.strip().partition("=")
        if not sep:
            raise ValueError("malformed authorization header")
        fields[name] = field_value
    credential = fields.get("Credential", "")
    signed = fields.get("SignedHeaders", "")
    signature = fields.get("Signature", "")
    parts = credential.rsplit("/", 4)
    if len(parts) != 5 or not all(parts) or not signed or not signature:
        raise ValueError("malformed authorization header")
    access_key, date, region, service, terminator = parts
    return ParsedAuthorization(
        access_key, date, region, service, terminator, tuple(signed.split(";")), signature
    )
