"""Server-side verification of Volcengine HMAC-SHA256 signatures.

The canonical request is rebuilt from exactly the ``SignedHeaders`` the client listed
(real SDK traffic signs extra ``X-`` headers), with the signing primitives of
:mod:`ark_batch.signing`; nothing here re-implements them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from ark_batch.emulator.config import AccountCredential, Clock
from ark_batch.emulator.protocol import SERVICE, EnvelopeError
from ark_batch.signing import ALGORITHM, SigningKeyCache, compute_signature, parse_authorization

__all__ = ["SignatureVerifier"]

_X_DATE = re.compile(r"\d{8}T\d{6}Z\Z")
_SCOPE_DATE = re.compile(r"\d{8}\Z")
_REQUIRED_SIGNED = ("host", "x-date")


def _same(received: str, expected: str) -> bool:
    # Bytes, because compare_digest rejects non-ASCII str and a client may send any.
    return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))


def _classify_unparsable(value: str) -> EnvelopeError:
    """The code for an Authorization header parse_authorization rejected."""
    _, _, signature = value.partition("Signature=")
    well_formed_rest = "Credential=" in value and "SignedHeaders=" in value
    if well_formed_rest and not signature.split(",")[0].strip():
        return EnvelopeError("MissingSignature", "The Authorization header has no Signature.")
    _, found, credential = value.partition("Credential=")
    if found and len(credential.split(",")[0].strip().split("/")) != 5:
        return EnvelopeError(
            "InvalidCredential",
            "The Credential must be <AccessKey>/<yyyymmdd>/<region>/<service>/request.",
        )
    return EnvelopeError(
        "InvalidAuthorization",
        "The Authorization header must be 'HMAC-SHA256 Credential=..., SignedHeaders=..., "
        "Signature=...'.",
    )


class SignatureVerifier:
    """Checks a request's signature and returns the credential that signed it."""

    def __init__(
        self,
        accounts: Sequence[AccountCredential],
        region: str,
        clock: Clock,
        clock_skew: timedelta,
    ) -> None:
        self._accounts = {account.access_key: account for account in accounts}
        self._region = region
        self._clock = clock
        self._skew = clock_skew.total_seconds()
        # Two days (around midnight) per key is enough; the bound only caps memory.
        self._keys = SigningKeyCache(maxsize=max(8, 2 * len(self._accounts)))

    def verify(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> AccountCredential:
        """Verify and return the signing credential, or raise the EnvelopeError to answer.

        ``headers`` is keyed by lowercase name; ``path`` and ``query`` are raw, as sent.
        """
        authorization = headers.get("authorization", "")
        if not authorization.strip():
            raise EnvelopeError(
                "MissingAuthenticationToken", "The request carries no Authorization header."
            )
        if authorization.partition(" ")[0] != ALGORITHM:
            raise EnvelopeError(
                "InvalidAuthorization", f"The Authorization algorithm must be {ALGORITHM}."
            )
        try:
            parsed = parse_authorization(authorization)
        except ValueError:
            raise _classify_unparsable(authorization) from None
        if (
            parsed.terminator != "request"
            or parsed.service != SERVICE
            or parsed.region != self._region
            or not _SCOPE_DATE.match(parsed.date)
        ):
            raise EnvelopeError(
                "InvalidCredential",
                f"The credential scope must be <yyyymmdd>/{self._region}/{SERVICE}/request.",
            )
        signed = parsed.signed_headers
        missing = [name for name in _REQUIRED_SIGNED if name not in signed]
        if missing:
            raise EnvelopeError(
                "InvalidAuthorization", f"SignedHeaders must include {' and '.join(missing)}."
            )

        x_date = headers.get("x-date")
        if not x_date:
            raise EnvelopeError("MissingRequestInfo", "The X-Date header is required.")
        if not _X_DATE.match(x_date):
            raise EnvelopeError("InvalidTimestamp", "X-Date must look like 20240514T132743Z.")
        try:
            signed_at = datetime.strptime(x_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise EnvelopeError(
                "InvalidTimestamp", f"X-Date {x_date} is not a valid time."
            ) from None
        if abs((self._clock() - signed_at).total_seconds()) > self._skew:
            raise EnvelopeError(
                "InvalidTimestamp",
                f"X-Date {x_date} is outside the accepted window of "
                f"{int(self._skew // 60)} minutes around the server time.",
            )
        if parsed.date != x_date[:8]:
            raise EnvelopeError("InvalidCredential", "The credential date does not match X-Date.")

        account = self._accounts.get(parsed.access_key)
        if account is None:
            raise EnvelopeError("InvalidAccessKey", "The access key is not valid.")
        self._check_token(account, headers, signed)

        body_sha256 = hashlib.sha256(body).hexdigest()
        claimed = headers.get("x-content-sha256")
        if claimed is not None and not _same(claimed, body_sha256):
            raise EnvelopeError(
                "SignatureDoesNotMatch", "X-Content-Sha256 does not match the request body."
            )
        try:
            expected = compute_signature(
                method=method,
                path=path,
                query=query,
                headers=headers,
                signed_headers=signed,
                body_sha256=body_sha256,
                x_date=x_date,
                date=parsed.date,
                region=parsed.region,
                service=parsed.service,
                secret_key=account.secret_key,
                key_cache=self._keys,
            )
        except ValueError:
            raise EnvelopeError(
                "SignatureDoesNotMatch", "A header listed in SignedHeaders is missing."
            ) from None
        if not _same(expected, parsed.signature):
            raise EnvelopeError(
                "SignatureDoesNotMatch",
                "The request signature does not match the signature computed by the server.",
            )
        return account

    @staticmethod
    def _check_token(
        account: AccountCredential, headers: Mapping[str, str], signed: Sequence[str]
    ) -> None:
        token = headers.get("x-security-token")
        if account.session_token is None:
            if token is not None:
                raise EnvelopeError(
                    "InvalidSecretToken", "This access key takes no security token."
                )
            return
        if token is None or "x-security-token" not in signed:
            raise EnvelopeError("InvalidSecretToken", "A signed X-Security-Token is required.")
        if not _same(token, account.session_token):
            raise EnvelopeError("InvalidSecretToken", "The security token is not valid.")
