"""Credential and region resolution: precedence, whole pairs, secrecy."""

from __future__ import annotations

import dataclasses

import pytest

from ark_batch.credentials import Credentials, resolve_credentials, resolve_region
from ark_batch.errors import ArkBatchError, InvalidSettingError, MissingCredentialsError

AK = "AKLTEXAMPLEAK1234567890"
SK = "ExampleSecretKey+/0123456789abcdefEXAMPLE=="
TOKEN = "STSTOKENEXAMPLE"

VOLCENGINE = {
    "VOLCENGINE_ACCESS_KEY": "AKLTVOLCENGINE",
    "VOLCENGINE_SECRET_KEY": "volcengine-secret",
    "VOLCENGINE_SESSION_TOKEN": "volcengine-token",
}
VOLC = {"VOLC_ACCESSKEY": "AKLTVOLC", "VOLC_SECRETKEY": "volc-secret"}
ALL_SECRETS = (SK, TOKEN, "volcengine-secret", "volcengine-token", "volc-secret")


def missing(environ: dict[str, str], **explicit: str) -> str:
    with pytest.raises(MissingCredentialsError) as excinfo:
        resolve_credentials(environ=environ, **explicit)
    message = str(excinfo.value)
    for secret in ALL_SECRETS:
        assert secret not in message
    return message


# --- precedence -------------------------------------------------------------------------


def test_explicit_arguments_win_over_environment() -> None:
    creds = resolve_credentials(AK, SK, TOKEN, environ={**VOLCENGINE, **VOLC})
    assert creds == Credentials(AK, SK, TOKEN)


def test_explicit_pair_does_not_borrow_the_environment_token() -> None:
    assert resolve_credentials(AK, SK, environ=VOLCENGINE).session_token is None


def test_volcengine_variables_win_over_volc() -> None:
    creds = resolve_credentials(environ={**VOLC, **VOLCENGINE})
    assert creds == Credentials("AKLTVOLCENGINE", "volcengine-secret", "volcengine-token")


def test_volcengine_session_token_is_optional() -> None:
    environ = {"VOLCENGINE_ACCESS_KEY": AK, "VOLCENGINE_SECRET_KEY": SK}
    assert resolve_credentials(environ=environ) == Credentials(AK, SK, None)


def test_volc_variables_are_the_fallback() -> None:
    assert resolve_credentials(environ=VOLC) == Credentials("AKLTVOLC", "volc-secret", None)


def test_empty_values_count_as_unset() -> None:
    environ = {"VOLCENGINE_ACCESS_KEY": "", "VOLCENGINE_SECRET_KEY": "", **VOLC}
    assert resolve_credentials("", "", "", environ=environ).access_key == "AKLTVOLC"


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*VOLCENGINE, *VOLC):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VOLC_ACCESSKEY", AK)
    monkeypatch.setenv("VOLC_SECRETKEY", SK)
    assert resolve_credentials() == Credentials(AK, SK)


# --- incomplete sources ---------------------------------------------------------------------


def test_nothing_set_names_every_variable() -> None:
    message = missing({})
    for name in (
        "VOLCENGINE_ACCESS_KEY",
        "VOLCENGINE_SECRET_KEY",
        "VOLC_ACCESSKEY",
        "VOLC_SECRETKEY",
        "access_key",
        "secret_key",
    ):
        assert name in message


def test_partial_explicit_pair_is_not_completed_from_the_environment() -> None:
    message = missing({**VOLCENGINE, **VOLC}, access_key=AK)
    assert "also pass secret_key " in message
    assert "access_key" not in message
    message = missing(VOLCENGINE, secret_key=SK, session_token=TOKEN)
    assert "also pass access_key " in message


def test_explicit_token_alone_is_incomplete() -> None:
    message = missing(VOLCENGINE, session_token=TOKEN)
    assert "also pass access_key and secret_key " in message


def test_partial_volcengine_pair_does_not_fall_back_to_volc() -> None:
    message = missing({"VOLCENGINE_ACCESS_KEY": AK, **VOLC})
    assert "VOLCENGINE_SECRET_KEY" in message
    assert "VOLCENGINE_ACCESS_KEY and" not in message  # it is set; only the SK is missing


def test_volcengine_secret_alone_names_the_access_key() -> None:
    message = missing({"VOLCENGINE_SECRET_KEY": SK})
    assert "also set VOLCENGINE_ACCESS_KEY " in message


def test_lone_volcengine_token_is_not_paired_with_volc_keys() -> None:
    message = missing({"VOLCENGINE_SESSION_TOKEN": TOKEN, **VOLC})
    assert "VOLCENGINE_ACCESS_KEY and VOLCENGINE_SECRET_KEY" in message


def test_partial_volc_pair() -> None:
    assert "also set VOLC_SECRETKEY " in missing({"VOLC_ACCESSKEY": AK})
    assert "also set VOLC_ACCESSKEY " in missing({"VOLC_SECRETKEY": SK})


def test_missing_credentials_error_is_an_ark_batch_error() -> None:
    assert issubclass(MissingCredentialsError, ArkBatchError)
    assert issubclass(ArkBatchError, Exception)


# --- Credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, TOKEN])
def test_repr_and_str_hide_secret_and_token(token: str | None) -> None:
    creds = Credentials(AK, SK, token)
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert SK not in text
        assert TOKEN not in text
        assert AK not in text
        assert "AKLT…" in text
    expected_token = "'***'" if token else "None"
    assert repr(creds) == (
        f"Credentials(access_key='AKLT…', secret_key='***', session_token={expected_token})"
    )


def test_credentials_are_frozen_and_validated() -> None:
    creds = Credentials(AK, SK)
    with pytest.raises(dataclasses.FrozenInstanceError):
        creds.secret_key = "other"  # type: ignore[misc]
    with pytest.raises(ValueError, match="non-empty") as excinfo:
        Credentials("", SK)
    assert SK not in str(excinfo.value)
    with pytest.raises(ValueError, match="non-empty"):
        Credentials(AK, "")


@pytest.mark.parametrize("field", ["access_key", "secret_key", "session_token"])
@pytest.mark.parametrize(
    "flaw", ["\n", "\r\n", " ", "\x00", "\t", "é"], ids=["LF", "CRLF", "space", "NUL", "tab", "é"]
)
def test_a_key_that_cannot_go_into_a_header_is_refused_without_showing_it(
    field: str, flaw: str
) -> None:
    # A trailing newline from a file used to fail the request with an error that quoted
    # the header, token and all.
    values = {"access_key": AK, "secret_key": SK, "session_token": TOKEN}
    values[field] += flaw
    with pytest.raises(InvalidSettingError, match=f"the {field} has") as excinfo:
        Credentials(**values)
    assert isinstance(excinfo.value, ValueError)
    for value in values.values():
        assert value.strip() not in str(excinfo.value)
    with pytest.raises(InvalidSettingError):
        resolve_credentials(
            environ={
                "VOLCENGINE_ACCESS_KEY": values["access_key"],
                "VOLCENGINE_SECRET_KEY": values["secret_key"],
                "VOLCENGINE_SESSION_TOKEN": values["session_token"],
            }
        )


def test_an_empty_session_token_is_no_token() -> None:
    creds = Credentials(AK, SK, "")
    assert "session_token=None" in repr(creds)


# --- region -------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["cn beijing", "cn-beijing\n", "cn/beijing", "北京"])
def test_a_region_that_cannot_be_signed_is_refused(region: str) -> None:
    with pytest.raises(InvalidSettingError, match="is not a region name"):
        resolve_region(region, environ={})
    with pytest.raises(InvalidSettingError, match="VOLCENGINE_REGION"):
        resolve_region(environ={"VOLCENGINE_REGION": region})


def test_region_precedence() -> None:
    environ = {"VOLCENGINE_REGION": "cn-shanghai"}
    assert resolve_region("ap-southeast-1", environ=environ) == "ap-southeast-1"
    assert resolve_region(environ=environ) == "cn-shanghai"
    assert resolve_region(environ={}) == "cn-beijing"
    assert resolve_region("", environ={"VOLCENGINE_REGION": ""}) == "cn-beijing"


def test_region_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOLCENGINE_REGION", "cn-guangzhou")
    assert resolve_region() == "cn-guangzhou"
