"""Signature verification: every failure has its code, and tampering never succeeds."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from emulator_support import (
    DEV_CREDENTIALS,
    LIST,
    OTHER_CREDENTIALS,
    STS_CREDENTIALS,
    call,
    error_code,
    query_for,
    signed_headers,
)
from starlette.applications import Starlette

from ark_batch.credentials import Credentials
from ark_batch.emulator import EmulatorConfig, create_app
from ark_batch.signing import format_x_date

BODY = json.dumps({"PageSize": 5}).encode()
QUERY = query_for(LIST)


def fresh_headers(**kwargs: object) -> dict[str, str]:
    return signed_headers(QUERY, BODY, **kwargs)  # type: ignore[arg-type]


async def post(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    query: str = QUERY,
    body: bytes = BODY,
) -> httpx.Response:
    return await client.post(f"/?{query}", content=body, headers=headers)


def expect(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert error_code(response) == code


async def test_signed_request_is_accepted(emulator_http: httpx.AsyncClient) -> None:
    response = await post(emulator_http, fresh_headers())
    assert response.status_code == 200


async def test_extra_signed_x_headers_as_the_real_sdk_sends(
    emulator_http: httpx.AsyncClient,
) -> None:
    headers = fresh_headers(
        extra={"X-Sdk-Invocation-Id": "0b7c8f9e-1d2a", "X-Sdk-Request": "attempt=1; max=4"}
    )
    assert "x-sdk-invocation-id;x-sdk-request" in headers["Authorization"]
    assert (await post(emulator_http, headers)).status_code == 200
    headers["X-Sdk-Request"] = "attempt=2; max=4"
    expect(await post(emulator_http, headers), 401, "SignatureDoesNotMatch")


async def test_unsigned_headers_may_change(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers()
    headers["User-Agent"] = "something-else"
    headers["Accept"] = "*/*"
    assert (await post(emulator_http, headers)).status_code == 200


async def test_no_authorization_is_missing_authentication_token(
    emulator_http: httpx.AsyncClient,
) -> None:
    headers = fresh_headers()
    del headers["Authorization"]
    response = await post(emulator_http, headers)
    expect(response, 401, "MissingAuthenticationToken")
    assert response.json()["ResponseMetadata"]["Error"]["CodeN"] == 100003


async def test_changed_body_byte_is_rejected(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers()
    tampered = BODY.replace(b"5", b"6")
    expect(await post(emulator_http, headers, body=tampered), 401, "SignatureDoesNotMatch")


async def test_changed_body_with_matching_content_sha_is_rejected(
    emulator_http: httpx.AsyncClient,
) -> None:
    headers = fresh_headers()
    tampered = BODY.replace(b"5", b"6")
    headers["X-Content-Sha256"] = hashlib.sha256(tampered).hexdigest()
    expect(await post(emulator_http, headers, body=tampered), 401, "SignatureDoesNotMatch")


async def test_content_sha_not_matching_body_is_rejected(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers()
    headers["X-Content-Sha256"] = "0" * 64
    response = await post(emulator_http, headers)
    expect(response, 401, "SignatureDoesNotMatch")
    assert "X-Content-Sha256" in response.json()["ResponseMetadata"]["Error"]["Message"]


async def test_changed_signed_header_is_rejected(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers()
    headers["Content-Type"] = "application/json; charset=UTF-8"
    expect(await post(emulator_http, headers), 401, "SignatureDoesNotMatch")


async def test_changed_host_is_rejected(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers()
    headers["Host"] = "evil.example"
    expect(await post(emulator_http, headers), 401, "SignatureDoesNotMatch")


async def test_removed_signed_header_is_rejected(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers(extra={"X-Custom": "1"})
    del headers["X-Custom"]
    expect(await post(emulator_http, headers), 401, "SignatureDoesNotMatch")


async def test_changed_query_is_rejected(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers()
    expect(
        await post(emulator_http, headers, query=f"{QUERY}&Extra=1"), 401, "SignatureDoesNotMatch"
    )


async def test_query_signed_for_another_action_is_rejected(
    emulator_http: httpx.AsyncClient,
) -> None:
    headers = signed_headers(query_for("GetBatchInferenceJob"), BODY)
    expect(await post(emulator_http, headers), 401, "SignatureDoesNotMatch")


@pytest.mark.parametrize("minutes", [-16, 16, -60 * 24])
async def test_x_date_outside_the_window_is_invalid_timestamp(
    emulator_http: httpx.AsyncClient, minutes: int
) -> None:
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    response = await post(emulator_http, fresh_headers(x_date=format_x_date(moment)))
    expect(response, 400, "InvalidTimestamp")
    assert response.json()["ResponseMetadata"]["Error"]["CodeN"] == 100006


@pytest.mark.parametrize("minutes", [-14, 14])
async def test_x_date_inside_the_window_is_accepted(
    emulator_http: httpx.AsyncClient, minutes: int
) -> None:
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    assert (
        await post(emulator_http, fresh_headers(x_date=format_x_date(moment)))
    ).status_code == 200


async def test_window_follows_the_server_clock(
    emulator_http: httpx.AsyncClient, emulator_config: EmulatorConfig
) -> None:
    headers = fresh_headers()
    emulator_config.clock.advance(timedelta(minutes=20))  # type: ignore[attr-defined]
    expect(await post(emulator_http, headers), 400, "InvalidTimestamp")


async def test_configurable_window(tmp_path: object, emulator_config: EmulatorConfig) -> None:
    emulator_config.clock_skew = timedelta(minutes=1)
    app = create_app(emulator_config)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://emulator.local"
        ) as client:
            moment = datetime.now(UTC) - timedelta(minutes=2)
            response = await post(client, fresh_headers(x_date=format_x_date(moment)))
            expect(response, 400, "InvalidTimestamp")
    finally:
        app.state.emulator.close()


async def test_missing_x_date_is_missing_request_info(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers()
    del headers["X-Date"]
    response = await post(emulator_http, headers)
    expect(response, 400, "MissingRequestInfo")
    assert response.json()["ResponseMetadata"]["Error"]["CodeN"] == 100004


@pytest.mark.parametrize("value", ["yesterday", "20241314T250000Z", "2024-05-14T13:27:43Z"])
async def test_malformed_x_date_is_invalid_timestamp(
    emulator_http: httpx.AsyncClient, value: str
) -> None:
    headers = fresh_headers()
    headers["X-Date"] = value
    expect(await post(emulator_http, headers), 400, "InvalidTimestamp")


async def test_unknown_access_key_is_invalid_access_key(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers(credentials=Credentials("AKLTUNKNOWN", "whatever"))
    response = await post(emulator_http, headers)
    expect(response, 401, "InvalidAccessKey")
    assert response.json()["ResponseMetadata"]["Error"]["CodeN"] == 100009


async def test_wrong_secret_is_signature_does_not_match(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers(credentials=Credentials(DEV_CREDENTIALS.access_key, "wrong"))
    response = await post(emulator_http, headers)
    expect(response, 401, "SignatureDoesNotMatch")
    assert response.json()["ResponseMetadata"]["Error"]["CodeN"] == 100010


def auth(
    scope: str = "AK/20240101/cn-beijing/ark/request",
    signed: str = "host;x-date",
    signature: str | None = "ab",
) -> str:
    text = f"HMAC-SHA256 Credential={scope}, SignedHeaders={signed}"
    return text if signature is None else f"{text}, Signature={signature}"


@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        ("Bearer abc", 400, "InvalidAuthorization"),
        ("HMAC-SHA1 Credential=a/b/c/d/request", 400, "InvalidAuthorization"),
        ("HMAC-SHA256 garbage", 400, "InvalidAuthorization"),
        (auth(signature=None), 401, "MissingSignature"),
        (auth(signature=""), 401, "MissingSignature"),
        (auth(scope="AK/20240101"), 400, "InvalidCredential"),
        (auth(scope="AK/20240101/us-east-1/ark/request"), 400, "InvalidCredential"),
        (auth(scope="AK/20240101/cn-beijing/ecs/request"), 400, "InvalidCredential"),
        (auth(scope="AK/20240101/cn-beijing/ark/aws4_request"), 400, "InvalidCredential"),
        (auth(scope="AK/2024-1-1/cn-beijing/ark/request"), 400, "InvalidCredential"),
        (auth(signed="x-date"), 400, "InvalidAuthorization"),
        (auth(signed="host"), 400, "InvalidAuthorization"),
    ],
)
async def test_bad_authorization_shapes(
    emulator_http: httpx.AsyncClient, authorization: str, status: int, code: str
) -> None:
    headers = fresh_headers()
    headers["Authorization"] = authorization
    expect(await post(emulator_http, headers), status, code)


async def test_credential_date_must_match_x_date(emulator_http: httpx.AsyncClient) -> None:
    headers = fresh_headers()
    headers["Authorization"] = headers["Authorization"].replace(
        f"/{headers['X-Date'][:8]}/", "/19991231/"
    )
    expect(await post(emulator_http, headers), 400, "InvalidCredential")


async def test_sts_credential_with_its_token_is_accepted(emulator_http: httpx.AsyncClient) -> None:
    response = await call(emulator_http, LIST, {}, credentials=STS_CREDENTIALS)
    assert response.status_code == 200


async def test_sts_credential_without_token_is_invalid_secret_token(
    emulator_http: httpx.AsyncClient,
) -> None:
    creds = Credentials(STS_CREDENTIALS.access_key, STS_CREDENTIALS.secret_key)
    expect(await post(emulator_http, fresh_headers(credentials=creds)), 401, "InvalidSecretToken")


async def test_sts_credential_with_wrong_token_is_invalid_secret_token(
    emulator_http: httpx.AsyncClient,
) -> None:
    creds = Credentials(STS_CREDENTIALS.access_key, STS_CREDENTIALS.secret_key, "WRONG")
    expect(await post(emulator_http, fresh_headers(credentials=creds)), 401, "InvalidSecretToken")


async def test_token_on_a_permanent_key_is_invalid_secret_token(
    emulator_http: httpx.AsyncClient,
) -> None:
    creds = Credentials(OTHER_CREDENTIALS.access_key, OTHER_CREDENTIALS.secret_key, "TOKEN")
    expect(await post(emulator_http, fresh_headers(credentials=creds)), 401, "InvalidSecretToken")


async def test_tampered_requests_never_get_a_5xx(emulator_http: httpx.AsyncClient) -> None:
    base = fresh_headers()
    variants: list[dict[str, str]] = []
    for name in list(base):
        shorter = dict(base)
        del shorter[name]
        variants.append(shorter)
        for value in ("", "\u00e9\u00e9", "x" * 5000, "HMAC-SHA256 ,,,,", "a=b, c=d"):
            changed = dict(base)
            changed[name] = value
            variants.append(changed)
    for headers in variants:
        raw = {name.encode(): value.encode("utf-8") for name, value in headers.items()}
        response = await emulator_http.post(f"/?{QUERY}", content=BODY, headers=raw)
        assert 400 <= response.status_code < 500 or response.status_code == 200, response.text
        assert response.json()["ResponseMetadata"]["RequestId"]


async def test_verification_can_be_switched_off(emulator_config: EmulatorConfig) -> None:
    emulator_config.verify_signatures = False
    app: Starlette = create_app(emulator_config)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://emulator.local"
        ) as client:
            response = await client.post(f"/?{QUERY}", content=BODY)
            assert response.status_code == 200
    finally:
        app.state.emulator.close()
