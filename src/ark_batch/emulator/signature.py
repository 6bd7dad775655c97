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
from ark_batch.emulator.protocol import SERVICE, ApiError
from ark_batch.signing import ALGORITHM, SigningKeyCache, compute_signature, parse_authorization

__all__ = ["SignatureVerifier"]

_X_DATE = re.compile(r"\d{8}T\d{6}Z\Z")
_SCOPE_DATE = re.compile(r"\d{8}\Z")
_REQUIRED_SIGNED = ("host", "x-date")


def _same(received: str, expected: str) -> bool:
    # Bytes, because compare_digest rejects non-ASCII str and a client may send any.
    return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))


def _classify_unparsable(value: str) -> ApiError:
    """The code for an Authorization header parse_authorization rejected."""
    _, _, signature = value.partition("Signature=")
    well_formed_rest = "Credential=" in value and "SignedHeaders=" in value
    if well_formed_rest and not signature.split(",")[0].strip():
        return ApiError("MissingSignature", "The Authorization header has no Signature.")
    _, found, credential = value.partition("Credential=")
    if found and len(credential.split(",")[0].strip().split("/")) != 5:
        return ApiError(
            "InvalidCredential",
            "The Credential must be <AccessKey>/<yyyymmdd>/<region>/<service>/request.",
        )
    return ApiError(
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
        """Verify and return the signing credential, or raise the ApiError to answer.

        ``headers`` is keyed by lowercase name; ``path`` and ``query`` are raw, as sent.
        """
        authorization = headers.get("authorization", "")
        if not authorization.strip():
            raise ApiError(
                "MissingAuthenticationToken", "The request carries no Authorization header."
            )
        if authorization.partition(" ")[0] != ALGORITHM:
            raise ApiError(
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
            raise ApiError(
                "InvalidCredential",
                f"The credential scope must be <yyyymmdd>/{self._region}/{SERVICE}/request.",
            )
        signed = parsed.signed_headers
        missing = [name for name in _REQUIRED_SIGNED if name not in signed]
        if missing:
            raise ApiError(
                "InvalidAuthorization", f"SignedHeaders must include {' and '.join(missing)}."
            )

        x_date = headers.get("x-date")
        if not x_date:
            raise ApiError("MissingRequestInfo", "The X-Date header is required.")
        if not _X_DATE.match(x_date):
            raise ApiError("InvalidTimestamp", "X-Date must look like 20240514T132743Z.")
        try:
            signed_at = datetime.strptime(x_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise ApiError("InvalidTimestamp", f"X-Date {x_date} is not a valid time.") from None
        if abs((self._clock() - signed_at).total_seconds()) > self._skew:
            raise ApiError(
                "InvalidTimestamp",
                f"X-Date {x_date} is outside the accepted window of "
                f"{int(self._skew // 60)} minutes around the server time.",
            )
        if parsed.date != x_date[:8]:
            raise ApiError("InvalidCredential", "The credential date does not match X-Date.")

        account = self._accounts.get(parsed.access_key)
        if account is None:
            raise ApiError("InvalidAccessKey", "The access key is not valid.")
        self._check_token(account, headers, signed)

        body_sha256 = hashlib.sha256(body).hexdigest()
        claimed = headers.get("x-content-sha256")
        if claimed is not None and not _same(claimed, body_sha256):
            raise ApiError(
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
            raise ApiError(
                "SignatureDoesNotMatch", "A header listed in SignedHeaders is missing."
            ) from None
        if not _same(expected, parsed.signature):
            raise ApiError(
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
                raise ApiError("InvalidSecretToken", "This access key takes no security token.")
            return
        if token is None or "x-security-token" not in signed:
            raise ApiError("InvalidSecretToken", "A signed X-Security-Token is required.")
        if not _same(token, account.session_token):
            raise ApiError("InvalidSecretToken", "The security token is not valid.")
