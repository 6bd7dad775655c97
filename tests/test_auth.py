"""VolcengineAuth end to end through real httpx clients with a capturing MockTransport."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ark_batch import auth as auth_module
from ark_batch import signing
from ark_batch.auth import VolcengineAuth
from ark_batch.credentials import Credentials
from ark_batch.errors import MissingCredentialsError
from ark_batch.signing import SigningKeyCache, compute_signature, parse_authorization

AK = "AKLTEXAMPLEAK1234567890"
SK = "ExampleSecretKey+/0123456789abcdefEXAMPLE=="
TOKEN = "STSTOKENEXAMPLE"
V1_TIME = datetime(2024, 5, 14, 13, 27, 43, tzinfo=UTC)
OPEN_URL = "https://open.volcengineapi.com/"
GET_PARAMS = "?Action=GetBatchInferenceJob&Version=2024-01-01"
JSON_HEADERS = {"Host": "open.volcengineapi.com", "Content-Type": "application/json"}

V1_BODY = b'{"Id": "bi-20240918194641-r2nwq"}'
V1_AUTHORIZATION = (
    "HMAC-SHA256 Credential=AKLTEXAMPLEAK1234567890/20240514/cn-beijing/ark/request, "
    "SignedHeaders=content-type;host;x-content-sha256;x-date, "
    "Signature=7bd360c8c9aec236b8d2f041544fe2cbdaa1b3871054463b4ac4741adb918d98"
)
V2_SIGNATURE = "2096dbdc97fce222e462901f4a7473e5e1424dc70a8643b6b6473f02593687de"
V3_BODY = (
    b'{"CompletionWindow": "1d", "InputFileTosLocation": {"BucketName": "my-bucket-name", '
    b'"ObjectKey": "batch-inference-job/dataset/my-job.jsonl"}, "ModelReference": '
    b'{"FoundationModel": {"ModelVersion": "240615", "Name": "doubao-pro-32k"}}, '
    b'"Name": "\\u6279\\u91cf\\u63a8\\u7406\\u4efb\\u52a1", "OutputDirTosLocation": '
    b'{"BucketName": "my-bucket-name", "ObjectKey": "batch-inference-job/output/"}, '
    b'"ProjectName": "default", "Tags": [{"Key": "test_key", "Value": "test_value"}]}'
)
V3_SIGNATURE = "6fe2542eb40f5978f20fb964e314fb9c064f88e63dbd7f77099aa18a73ee3523"
V4_SIGNATURE = "ca4fc30f0d4acbf8f349f394a550605c1dd4c7bcba6b144091d46b1e947cfb28"
OWNED = ("authorization", "x-date", "x-content-sha256", "x-security-token")


class FakeClock:
    """Returns ``start``, then ``start + step`` and so on."""

    def __init__(self, start: datetime, step: timedelta = timedelta(0)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        now = self.now
        self.now += self.step
        return now


class Capture:
    """MockTransport handler that records every request it receives."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"Result": {}})

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def make_auth(
    token: str | None = None,
    clock: Callable[[], datetime] | None = None,
    key_cache: SigningKeyCache | None = None,
) -> VolcengineAuth:
    return VolcengineAuth(
        Credentials(AK, SK, token),
        region="cn-beijing",
        clock=clock or FakeClock(V1_TIME),
        key_cache=key_cache,
    )


@pytest.fixture
def capture() -> Capture:
    return Capture()


@pytest.fixture
def client_for(capture: Capture) -> Iterator[Callable[[VolcengineAuth], httpx.Client]]:
    clients: list[httpx.Client] = []

    def build(auth: VolcengineAuth) -> httpx.Client:
        client = httpx.Client(transport=httpx.MockTransport(capture), auth=auth)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def verify(request: httpx.Request, secret_key: str = SK) -> bool:
    """Check a captured request the way a server would: from its own SignedHeaders."""
    parsed = parse_authorization(request.headers["Authorization"])
    path, _, query = request.url.raw_path.decode().partition("?")
    expected = compute_signature(
        method=request.method,
        path=path,
        query=query,
        headers=request.headers,
        signed_headers=parsed.signed_headers,
        body_sha256=hashlib.sha256(request.content).hexdigest(),
        x_date=request.headers["X-Date"],
        date=parsed.date,
        region=parsed.region,
        service=parsed.service,
        secret_key=secret_key,
    )
    return expected == parsed.signature


def assert_single_signing_headers(request: httpx.Request, token: str | None = None) -> None:
    for name in OWNED[:3]:
        assert len(request.headers.get_list(name)) == 1, name
    assert request.headers.get_list("x-security-token") == ([token] if token else [])


# --- vectors end to end ---------------------------------------------------------------


def test_v1_through_sync_client(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth())
    client.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=JSON_HEADERS)
    request = capture.last
    assert request.headers["Authorization"] == V1_AUTHORIZATION
    assert request.headers["X-Date"] == "20240514T132743Z"
    assert request.headers["X-Content-Sha256"] == hashlib.sha256(V1_BODY).hexdigest()
    assert "x-security-token" not in request.headers
    # httpx's own headers went out unsigned.
    assert {"accept", "user-agent", "content-length"} <= set(request.headers.keys())
    assert_single_signing_headers(request)


def test_v3_through_sync_client(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth())
    client.post(
        OPEN_URL,
        params={"Action": "CreateBatchInferenceJob", "Version": "2024-01-01"},
        content=V3_BODY,
        headers=JSON_HEADERS,
    )
    assert capture.last.content == V3_BODY
    assert parse_authorization(capture.last.headers["Authorization"]).signature == V3_SIGNATURE


async def test_v1_through_async_client(capture: Capture) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(capture), auth=make_auth()) as c:
        await c.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=JSON_HEADERS)
    assert capture.last.headers["Authorization"] == V1_AUTHORIZATION
    assert_single_signing_headers(capture.last)


def test_v2_session_token_header_set_and_signed(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth(token=TOKEN))
    client.post(
        "https://ark.cn-beijing.volcengineapi.com/" + GET_PARAMS,
        content=V1_BODY,
        headers={"Content-Type": "application/json"},  # Host comes from the URL
    )
    request = capture.last
    assert request.headers["Host"] == "ark.cn-beijing.volcengineapi.com"
    assert request.headers["X-Security-Token"] == TOKEN
    parsed = parse_authorization(request.headers["Authorization"])
    assert "x-security-token" in parsed.signed_headers
    assert parsed.signature == V2_SIGNATURE
    assert_single_signing_headers(request, TOKEN)


def test_v4_through_sync_client(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth(clock=FakeClock(datetime(2025, 1, 15, 9, 52, 31, tzinfo=UTC))))
    client.post(
        "https://ark.cn-beijing.volcengineapi.com/?Action=ListBatchInferenceJobs&Version=2024-01-01",
        content=b'{"PageNumber":1,"PageSize":10,"Filter":{"Phases":["Running","Queued"]}}',
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    assert capture.last.headers["X-Date"] == "20250115T095231Z"
    assert parse_authorization(capture.last.headers["Authorization"]).signature == V4_SIGNATURE


def test_streamed_body_is_read_before_signing(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth())
    chunks = iter([V1_BODY[:10], V1_BODY[10:]])
    client.post(OPEN_URL + GET_PARAMS, content=chunks, headers=JSON_HEADERS)
    assert capture.last.headers["Authorization"] == V1_AUTHORIZATION


def test_public_headers_path_signs_identically(
    monkeypatch: pytest.MonkeyPatch,
    capture: Capture,
    client_for: Callable[[VolcengineAuth], httpx.Client],
) -> None:
    # The fallback for an httpx whose Headers internals differ from 0.27/0.28.
    monkeypatch.setattr(auth_module, "_HEADER_TRIPLES", False)
    client = client_for(make_auth(token=TOKEN))
    stale = {**JSON_HEADERS, "Authorization": "old", "X-Date": "19990101T000000Z"}
    client.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=stale)
    assert_single_signing_headers(capture.last, TOKEN)
    assert capture.last.headers["X-Date"] == "20240514T132743Z"
    assert verify(capture.last)

    monkeypatch.setattr(auth_module, "_HEADER_TRIPLES", True)
    client.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=stale)
    first, second = capture.requests
    assert first.headers.multi_items() == second.headers.multi_items()


def test_header_internals_probe_matches_this_httpx() -> None:
    # If this fails, httpx changed Headers internals and the slower public path is in use.
    assert auth_module._HEADER_TRIPLES


def test_non_ascii_header_value_is_signed_as_decoded(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth())
    client.post(
        OPEN_URL + GET_PARAMS,
        content=V1_BODY,
        headers=[(b"Content-Type", b"application/json"), (b"X-Note", "café".encode())],
    )
    assert "x-note" in parse_authorization(capture.last.headers["Authorization"]).signed_headers
    assert capture.last.headers["X-Note"] == "café"
    assert verify(capture.last)


def test_default_port_is_stripped_only_in_the_signature(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth())
    client.post(
        OPEN_URL + GET_PARAMS,
        content=V1_BODY,
        headers={"Host": "open.volcengineapi.com:443", "Content-Type": "application/json"},
    )
    assert capture.last.headers["Host"] == "open.volcengineapi.com:443"  # sent as given
    assert capture.last.headers["Authorization"] == V1_AUTHORIZATION


# --- per-send behaviour ---------------------------------------------------------------------


def test_fresh_x_date_and_signature_on_every_send(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth(clock=FakeClock(V1_TIME, timedelta(seconds=1))))
    for _ in range(2):
        client.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=JSON_HEADERS)
    first, second = capture.requests
    assert first.headers["X-Date"] == "20240514T132743Z"
    assert second.headers["X-Date"] == "20240514T132744Z"
    assert first.headers["Authorization"] != second.headers["Authorization"]
    assert verify(first)
    assert verify(second)


def test_resending_the_same_request_replaces_signing_headers(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth(token=TOKEN, clock=FakeClock(V1_TIME, timedelta(minutes=5))))
    request = client.build_request("POST", OPEN_URL + GET_PARAMS, content=V1_BODY)
    client.send(request)
    first_date = request.headers["X-Date"]
    client.send(request)
    assert request.headers["X-Date"] != first_date
    assert_single_signing_headers(request, TOKEN)
    assert verify(request)


@pytest.mark.parametrize("token", [None, TOKEN])
def test_stale_signing_headers_are_replaced_not_duplicated(
    token: str | None,
    capture: Capture,
    client_for: Callable[[VolcengineAuth], httpx.Client],
) -> None:
    client = client_for(make_auth(token=token))
    stale = {
        **JSON_HEADERS,
        "Authorization": "HMAC-SHA256 Credential=old",
        "X-Date": "19990101T000000Z",
        "x-content-sha256": "0" * 64,
        "X-Security-Token": "old-token",
    }
    client.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=stale)
    request = capture.last
    assert_single_signing_headers(request, token)
    assert "old-token" not in request.headers.values()
    assert request.headers["X-Date"] == "20240514T132743Z"
    if token is None:
        assert request.headers["Authorization"] == V1_AUTHORIZATION
    assert verify(request)


def test_signing_key_is_derived_once_per_day(
    monkeypatch: pytest.MonkeyPatch,
    capture: Capture,
    client_for: Callable[[VolcengineAuth], httpx.Client],
) -> None:
    derived: list[str] = []
    real = signing.derive_signing_key

    def counting(secret_key: str, date: str, region: str, service: str) -> bytes:
        derived.append(date)
        return real(secret_key, date, region, service)

    monkeypatch.setattr(signing, "derive_signing_key", counting)
    clock = FakeClock(datetime(2024, 5, 14, 23, 59, 58, tzinfo=UTC), timedelta(seconds=1))
    auth = make_auth(clock=clock)
    client = client_for(auth)
    for _ in range(3):  # 23:59:58, 23:59:59, then 00:00:00 the next day
        client.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=JSON_HEADERS)
    assert derived == ["20240514", "20240515"]
    assert (auth.key_cache.hits, auth.key_cache.misses) == (1, 2)
    assert all(verify(request) for request in capture.requests)


def test_system_clock_is_used_by_default(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    auth = VolcengineAuth(Credentials(AK, SK), region="cn-beijing")
    client = client_for(auth)
    before = datetime.now(UTC).replace(microsecond=0)
    client.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=JSON_HEADERS)
    after = datetime.now(UTC)
    sent = datetime.strptime(capture.last.headers["X-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= sent <= after
    assert verify(capture.last)


# --- construction and secrecy ---------------------------------------------------------------


def test_from_environment() -> None:
    environ = {
        "VOLCENGINE_ACCESS_KEY": AK,
        "VOLCENGINE_SECRET_KEY": SK,
        "VOLCENGINE_SESSION_TOKEN": TOKEN,
        "VOLCENGINE_REGION": "cn-shanghai",
    }
    auth = VolcengineAuth.from_environment(environ=environ)
    assert auth.credentials == Credentials(AK, SK, TOKEN)
    assert auth.region == "cn-shanghai"
    assert auth.service == "ark"
    assert VolcengineAuth.from_environment("cn-beijing", environ=environ).region == "cn-beijing"
    with pytest.raises(MissingCredentialsError) as excinfo:
        VolcengineAuth.from_environment(environ={"VOLCENGINE_SECRET_KEY": SK})
    assert "VOLCENGINE_ACCESS_KEY" in str(excinfo.value)
    assert SK not in str(excinfo.value)


def test_region_defaults_to_cn_beijing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOLCENGINE_REGION", raising=False)
    assert VolcengineAuth(Credentials(AK, SK)).region == "cn-beijing"


def test_secrets_absent_from_repr_and_debug_log(
    caplog: pytest.LogCaptureFixture,
    capture: Capture,
    client_for: Callable[[VolcengineAuth], httpx.Client],
) -> None:
    auth = make_auth(token=TOKEN)
    for text in (repr(auth), str(auth)):
        assert SK not in text
        assert TOKEN not in text
        assert "AKLT…" in text
    client = client_for(auth)
    with caplog.at_level(logging.DEBUG, logger="ark_batch.signing"):
        client.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=JSON_HEADERS)
    signature = parse_authorization(capture.last.headers["Authorization"]).signature
    assert "canonical request:\nPOST\n/\nAction=GetBatchInferenceJob" in caplog.text
    assert "string to sign:\nHMAC-SHA256\n20240514T132743Z\n" in caplog.text
    assert "x-security-token:<redacted>" in caplog.text
    for secret in (SK, TOKEN, signature):
        assert secret not in caplog.text


def test_repeated_header_is_signed_joined_like_httpx_reads_it(
    capture: Capture, client_for: Callable[[VolcengineAuth], httpx.Client]
) -> None:
    client = client_for(make_auth())
    headers = [("Content-Type", "application/json"), ("X-Tag", "a"), ("X-Tag", "b")]
    client.post(OPEN_URL + GET_PARAMS, content=V1_BODY, headers=headers)
    assert capture.last.headers.get_list("x-tag") == ["a", "b"]
    assert capture.last.headers["X-Tag"] == "a, b"
    assert verify(capture.last)
