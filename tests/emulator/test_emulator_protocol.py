"""Dispatch, envelope, body handling and fault injection of the emulator."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from emulator_support import CREATE, GET, LIST, call, create_body, error_code, signed_headers

from ark_batch.emulator import EmulatorConfig, EmulatorState
from ark_batch.emulator.protocol import ERRORS, request_id

REQUEST_ID = re.compile(r"^\d{14}[0-9A-F]{20}$")


def meta(response: httpx.Response) -> dict[str, object]:
    document = response.json()
    value: dict[str, object] = document["ResponseMetadata"]
    return value


async def test_success_envelope_has_the_real_metadata(emulator_http: httpx.AsyncClient) -> None:
    response = await call(emulator_http, LIST, {})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    metadata = meta(response)
    assert REQUEST_ID.match(str(metadata["RequestId"]))
    assert metadata["Action"] == LIST
    assert metadata["Version"] == "2024-01-01"
    assert metadata["Service"] == "ark"
    assert metadata["Region"] == "cn-beijing"
    assert "Error" not in metadata
    assert set(response.json()) == {"ResponseMetadata", "Result"}


def test_request_id_is_utc8_timestamp_then_20_uppercase_hex() -> None:
    moment = datetime(2024, 9, 19, 2, 51, 20, tzinfo=UTC)
    rid = request_id(moment)
    assert len(rid) == 34
    assert rid.startswith("20240919105120")
    assert re.fullmatch(r"[0-9A-F]{20}", rid[14:])
    assert request_id(moment) != rid


async def test_error_envelope_has_code_coden_message_and_no_result(
    emulator_http: httpx.AsyncClient,
) -> None:
    response = await emulator_http.post("/?Version=2024-01-01", content=b"{}")
    assert response.status_code == 400
    document = response.json()
    assert "Result" not in document
    error = document["ResponseMetadata"]["Error"]
    assert error == {
        "Code": "MissingParameter",
        "CodeN": 100002,
        "Message": "The parameter Action is required.",
    }
    assert REQUEST_ID.match(document["ResponseMetadata"]["RequestId"])


@pytest.mark.parametrize(
    "query", ["Action=ListBatchInferenceJobs", "Action=ListBatchInferenceJobs&Version="]
)
async def test_missing_version_is_missing_parameter(
    emulator_http: httpx.AsyncClient, query: str
) -> None:
    response = await emulator_http.post(f"/?{query}", content=b"{}")
    assert response.status_code == 400
    assert response.json()["ResponseMetadata"]["Error"]["Message"] == (
        "The parameter Version is required."
    )


@pytest.mark.parametrize(
    ("action", "version"),
    [
        ("CancelBatchInferenceJob", "2024-01-01"),
        ("ListBatchInferenceJobs", "2023-01-01"),
        ("listbatchinferencejobs", "2024-01-01"),
    ],
)
async def test_unknown_action_or_version_is_404(
    emulator_http: httpx.AsyncClient, action: str, version: str
) -> None:
    response = await emulator_http.post(f"/?Action={action}&Version={version}", content=b"{}")
    assert response.status_code == 404
    error = response.json()["ResponseMetadata"]["Error"]
    assert error["Code"] == "InvalidActionOrVersion"
    assert error["CodeN"] == 100008
    assert error["Message"] == f"Could not find operation {action} for version {version}."


async def test_repeated_action_is_rejected_not_guessed(emulator_http: httpx.AsyncClient) -> None:
    response = await emulator_http.post(
        "/?Action=ListBatchInferenceJobs&Action=ListBatchInferenceJobs&Version=2024-01-01",
        content=b"{}",
    )
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameter"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_are_405_with_allow_post(
    emulator_http: httpx.AsyncClient, method: str
) -> None:
    response = await emulator_http.request(
        method, "/?Action=ListBatchInferenceJobs&Version=2024-01-01"
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert error_code(response) == "MethodNotAllowed"
    assert "CodeN" not in response.json()["ResponseMetadata"]["Error"]


async def raw_signed(
    client: httpx.AsyncClient, action: str, body: bytes, content_length: bool = True
) -> httpx.Response:
    query = f"Action={action}&Version=2024-01-01"
    headers = signed_headers(query, body)
    if not content_length:

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 4096):
                yield body[start : start + 4096]

        return await client.post(f"/?{query}", content=chunks(), headers=headers)
    return await client.post(f"/?{query}", content=body, headers=headers)


@pytest.mark.parametrize(
    "body",
    [b"{", b"{'Id': 1}", b"\xff\xfe", b'{"Id": NaN}', b'{"Id": "a"} trailing', b"[" * 100_000],
)
async def test_malformed_json_is_400_malformed_json(
    emulator_http: httpx.AsyncClient, body: bytes
) -> None:
    response = await raw_signed(emulator_http, GET, body)
    assert response.status_code == 400
    assert error_code(response) == "MalformedJSON"


async def test_empty_body_is_missing_parameter(emulator_http: httpx.AsyncClient) -> None:
    response = await raw_signed(emulator_http, LIST, b"")
    assert response.status_code == 400
    assert error_code(response) == "MissingParameter"


@pytest.mark.parametrize("body", [b"[]", b"5", b'"x"', b"null"])
async def test_non_object_body_is_invalid_parameter(
    emulator_http: httpx.AsyncClient, body: bytes
) -> None:
    response = await raw_signed(emulator_http, LIST, body)
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameter"


async def test_unpaired_surrogate_is_rejected_not_a_500(emulator_http: httpx.AsyncClient) -> None:
    body = json.dumps(create_body(Name="bad \ud800 name")).encode()
    response = await raw_signed(emulator_http, CREATE, body)
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameter"


@pytest.mark.parametrize("content_length", [True, False])
async def test_oversized_body_is_413(
    emulator_http: httpx.AsyncClient, emulator_config: EmulatorConfig, content_length: bool
) -> None:
    body = json.dumps({"Id": "x" * (emulator_config.max_body_bytes + 1)}).encode()
    response = await raw_signed(emulator_http, GET, body, content_length=content_length)
    assert response.status_code == 413
    error = response.json()["ResponseMetadata"]["Error"]
    assert error["Code"] == "RequestEntityTooLarge"
    assert "CodeN" not in error


async def test_throttling_fault_answers_429_with_retry_after_then_recovers(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    emulator_state.faults.inject_throttling(2, retry_after=3)
    for _ in range(2):
        response = await call(emulator_http, LIST, {})
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"
        error = response.json()["ResponseMetadata"]["Error"]
        assert (error["Code"], error["CodeN"]) == ("FlowLimitExceeded", 100018)
    assert (await call(emulator_http, LIST, {})).status_code == 200
    assert emulator_state.faults.injected == 2
    assert emulator_state.faults.pending == 0


async def test_server_error_fault_is_scoped_to_actions(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    emulator_state.faults.inject_server_errors(1, actions=[CREATE])
    assert (await call(emulator_http, LIST, {})).status_code == 200
    response = await call(emulator_http, CREATE, create_body())
    assert response.status_code == 500
    assert response.json()["ResponseMetadata"]["Error"]["CodeN"] == 100014
    assert "retry-after" not in response.headers
    assert (await call(emulator_http, CREATE, create_body())).status_code == 200


async def test_throttling_without_retry_after_has_no_header(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    emulator_state.faults.inject_throttling(1)
    response = await call(emulator_http, GET, {"Id": "x"})
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    emulator_state.faults.inject_server_errors(5)
    emulator_state.faults.clear()
    assert (await call(emulator_http, GET, {"Id": "x"})).status_code == 404


def test_error_table_matches_the_facts_sheet() -> None:
    assert ERRORS["MissingParameter"] == (400, 100002)
    assert ERRORS["MissingAuthenticationToken"] == (401, 100003)
    assert ERRORS["MissingRequestInfo"] == (400, 100004)
    assert ERRORS["MissingSignature"] == (401, 100005)
    assert ERRORS["InvalidTimestamp"] == (400, 100006)
    assert ERRORS["InvalidActionOrVersion"] == (404, 100008)
    assert ERRORS["InvalidAccessKey"] == (401, 100009)
    assert ERRORS["SignatureDoesNotMatch"] == (401, 100010)
    assert ERRORS["InternalError"] == (500, 100014)
    assert ERRORS["ServiceUnavailableTemp"] == (503, 100017)
    assert ERRORS["FlowLimitExceeded"] == (429, 100018)
    for code in (
        "InvalidParameter",
        "MalformedJSON",
        "DryRunOperation",
        "RequestEntityTooLarge",
        "InvalidBatchInferenceJob.NotFound",
        "OperationDenied.ActiveJobExists",
    ):
        assert ERRORS[code].code_n is None


async def test_request_id_uses_the_configured_clock(
    emulator_http: httpx.AsyncClient, emulator_config: EmulatorConfig
) -> None:
    response = await call(emulator_http, LIST, {})
    expected = (emulator_config.clock() + timedelta(hours=8)).strftime("%Y%m%d%H%M")
    assert str(meta(response)["RequestId"]).startswith(expected)


def test_oversized_body_through_a_real_server_is_413(emulator_server: str) -> None:
    query = "Action=GetBatchInferenceJob&Version=2024-01-01"
    body = json.dumps({"Id": "x" * (3 * 1024 * 1024)}).encode()
    headers = signed_headers(query, body, host=emulator_server.removeprefix("http://"))
    with httpx.Client(base_url=emulator_server) as client:
        response = client.post(f"/?{query}", content=body, headers=headers)
        assert response.status_code == 413
        assert error_code(response) == "RequestEntityTooLarge"
        # The server stays healthy for the next request.
        small = json.dumps({"Id": "x"}).encode()
        headers = signed_headers(query, small, host=emulator_server.removeprefix("http://"))
        assert client.post(f"/?{query}", content=small, headers=headers).status_code == 404


async def test_an_unexpected_exception_is_an_internal_error_envelope(
    emulator_http: httpx.AsyncClient,
    emulator_state: EmulatorState,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(*_: object) -> dict[str, object]:
        raise RuntimeError("boom")

    monkeypatch.setitem(emulator_state.backend.handlers, LIST, explode)
    response = await call(emulator_http, LIST, {})
    assert response.status_code == 500
    error = response.json()["ResponseMetadata"]["Error"]
    assert (error["Code"], error["CodeN"]) == ("InternalError", 100014)
    assert "boom" not in error["Message"]
    assert "boom" in caplog.text
