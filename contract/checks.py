"""Extra schemathesis checks, shared by the CLI hooks and the pytest suite.

``auth_is_enforced`` replaces the built-in ``ignored_auth``: that check demands 401/403
for a malformed Authorization header, but the Volcengine gateway answers those
``400 InvalidAuthorization`` (facts sheet §3, and the spec's 400 response). This check
probes the same three situations with the statuses the contract documents.

The built-in ``positive_data_acceptance`` check has to accept a 400 for Create (a valid
request with ``DryRun: true`` is answered ``400 DryRunOperation`` by design); this check
narrows that allowance back down: a schema-valid Create may only be refused with 400
``DryRunOperation`` (DryRun true); 409 ``OperationDenied.ActiveJobExists`` is allowed by
the built-in check already.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import schemathesis
from schemathesis import GenerationMode

# Internal helpers of the pinned schemathesis (4.32.5): the probe machinery its own
# ignored_auth uses, which sends without the run's credentials.
from schemathesis.specs.openapi._auth_retry import (
    get_security_parameters,
    remove_auth,
    send_probe,
)

from ark_batch.emulator.config import DEV_ACCESS_KEY
from ark_batch.signing import format_x_date

__all__ = [
    "TARGET_ENV",
    "auth_is_enforced",
    "register",
    "valid_create_refused_only_for_documented_reasons",
    "valid_lifecycle_refused_only_for_documented_reasons",
]

_probed: set[str] = set()


def _error_code(response: Any) -> str | None:
    try:
        document = response.json()
    except ValueError:
        return None
    code = document.get("ResponseMetadata", {}).get("Error", {}).get("Code")
    return code if isinstance(code, str) else None


def valid_create_refused_only_for_documented_reasons(
    ctx: Any, response: Any, case: Any
) -> bool | None:
    """A positive Create answered 400 must be a dry run."""
    if case.operation.label.find("CreateBatchInferenceJob") < 0:
        return None
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return None
    if response.status_code != 400:
        return None
    body = case.body if isinstance(case.body, dict) else {}
    code = _error_code(response)
    if code == "DryRunOperation" and body.get("DryRun") is True:
        return None
    raise AssertionError(f"A schema-valid Create was refused with 400 {code}")


_DRY_RUN_ACTIONS = ("StopBatchInferenceJob", "UpdateBatchInferenceJob", "DeleteBatchInferenceJob")


def valid_lifecycle_refused_only_for_documented_reasons(
    ctx: Any, response: Any, case: Any
) -> bool | None:
    """A positive Stop, Update or Delete answered 400 must be a dry run, or an Update
    that names neither Name nor Description."""
    action = next((a for a in _DRY_RUN_ACTIONS if a in case.operation.label), None)
    if action is None or response.status_code != 400:
        return None
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return None
    body = case.body if isinstance(case.body, dict) else {}
    code = _error_code(response)
    if code == "DryRunOperation" and body.get("DryRun") is True:
        return None
    if (
        code == "MissingParameter"
        and action == "UpdateBatchInferenceJob"
        and "Name" not in body
        and "Description" not in body
    ):
        return None
    raise AssertionError(f"A schema-valid {action} was refused with 400 {code}")


def _probe(ctx: Any, case: Any, authorization: str | None) -> Any:
    probe = remove_auth(case, get_security_parameters(case.operation))
    if authorization is not None:
        probe.headers["Authorization"] = authorization
        probe.headers["X-Date"] = format_x_date(datetime.now(UTC))
    return send_probe(ctx, case, probe)


#: ``real``: a service whose exact auth error codes are not known; probes then only need
#: to be refused with a 4xx (set by ``python -m contract.fuzz --url``).
TARGET_ENV = "ARK_BATCH_FUZZ_TARGET"


def auth_is_enforced(ctx: Any, response: Any, case: Any) -> bool | None:
    """After a 2xx, the same request unsigned, malformed and mis-signed must be refused.

    Against the emulator each probe must get its documented status and code; with
    ``ARK_BATCH_FUZZ_TARGET=real`` any 4xx counts as refused.
    """
    if not 200 <= response.status_code < 300 or case.operation.label in _probed:
        return None
    _probed.add(case.operation.label)
    date = format_x_date(datetime.now(UTC))[:8]
    scope = f"{DEV_ACCESS_KEY}/{date}/cn-beijing/ark/request"
    expectations = [
        (None, {401: {"MissingAuthenticationToken"}}),
        ("Bearer not-a-signature", {400: {"InvalidAuthorization"}}),
        (
            f"HMAC-SHA256 Credential={scope}, SignedHeaders=host;x-date, Signature={'0' * 64}",
            {401: {"SignatureDoesNotMatch", "InvalidAccessKey"}},
        ),
    ]
    lenient = os.environ.get(TARGET_ENV) == "real"
    for authorization, expected in expectations:
        probe = _probe(ctx, case, authorization)
        if lenient:
            if not 400 <= probe.status_code < 500:
                raise AssertionError(
                    f"With Authorization {authorization!r} the request got {probe.status_code}"
                )
            continue
        codes = expected.get(probe.status_code)
        if codes is None or _error_code(probe) not in codes:
            raise AssertionError(
                f"With Authorization {authorization!r} the request got {probe.status_code} "
                f"{_error_code(probe)}; expected {expected}"
            )
    return None


_registered = False


def register() -> None:
    """Register the checks with schemathesis (once)."""
    global _registered  # noqa: PLW0603
    if not _registered:
        schemathesis.check(valid_create_refused_only_for_documented_reasons)
        schemathesis.check(valid_lifecycle_refused_only_for_documented_reasons)
        schemathesis.check(auth_is_enforced)
        _registered = True
