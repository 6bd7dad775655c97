"""make_client builds a signed generated client from arguments or the environment."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from ark_batch.connect import DEFAULT_ENDPOINT, make_client, resolve_endpoint
from ark_batch.credentials import Credentials
from ark_batch.errors import MissingCredentialsError
from ark_batch_client.api.batch_inference_job import get_batch_inference_job
from ark_batch_client.models import GetBatchInferenceJobRequest

ENV = {"VOLCENGINE_ACCESS_KEY": "AKLTENVKEY", "VOLCENGINE_SECRET_KEY": "env-secret"}


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        (None, {}, DEFAULT_ENDPOINT),
        (None, {"ARK_BATCH_ENDPOINT": "http://127.0.0.1:8080/"}, "http://127.0.0.1:8080"),
        ("https://ark.cn-beijing.volcengineapi.com", {"ARK_BATCH_ENDPOINT": "http://x"}, "https://ark.cn-beijing.volcengineapi.com"),
        ("ark.cn-beijing.volcengineapi.com", {}, "https://ark.cn-beijing.volcengineapi.com"),
    ],
)  # fmt: skip
def test_endpoint_precedence(explicit: str | None, environ: dict[str, str], expected: str) -> None:
    assert resolve_endpoint(explicit, environ=environ) == expected


def capture() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            404,
            json={"ResponseMetadata": {"RequestId": "r", "Error": {"Code": "X", "Message": "m"}}},
        )

    return seen, httpx.MockTransport(handler)  # fmt: skip


def test_client_from_environment_signs_with_the_environment_key() -> None:
    seen, transport = capture()
    client = make_client(
        "http://127.0.0.1:9", environ={**ENV, "VOLCENGINE_REGION": "cn-shanghai"},
        httpx_args={"transport": transport},
    )  # fmt: skip
    get_batch_inference_job.sync(client=client, body=GetBatchInferenceJobRequest(id="bi-1"))
    [request] = seen
    assert str(request.url) == "http://127.0.0.1:9/?Action=GetBatchInferenceJob&Version=2024-01-01"
    authorization = request.headers["authorization"]
    assert authorization.startswith("HMAC-SHA256 Credential=AKLTENVKEY/")
    assert "/cn-shanghai/ark/request, SignedHeaders=" in authorization
    assert request.headers["x-content-sha256"]
    assert "env-secret" not in str(request.headers)


async def test_explicit_credentials_sign_async_requests_too() -> None:
    seen, transport = capture()
    client = make_client(
        "http://127.0.0.1:9",
        credentials=Credentials("AKLTEXPLICIT", "s3cret", "TOKEN"),
        environ=ENV,
        httpx_args={"transport": transport},
    )
    await get_batch_inference_job.asyncio(client=client, body=GetBatchInferenceJobRequest(id="x"))
    [request] = seen
    assert request.headers["authorization"].startswith("HMAC-SHA256 Credential=AKLTEXPLICIT/")
    assert request.headers["x-security-token"] == "TOKEN"
    assert "x-security-token" in request.headers["authorization"]


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        make_client("http://127.0.0.1:9", environ={})
    assert "VOLCENGINE_ACCESS_KEY" in str(info.value)


def test_httpx_args_may_carry_headers_which_are_sent_and_signed() -> None:
    seen, transport = capture()
    client = make_client(
        "http://127.0.0.1:9",
        environ=ENV,
        httpx_args={"transport": transport, "headers": {"X-Trace-Id": "t-1"}, "verify": False},
    )
    get_batch_inference_job.sync(client=client, body=GetBatchInferenceJobRequest(id="x"))
    [request] = seen
    assert request.headers["x-trace-id"] == "t-1"
    assert "x-trace-id" in request.headers["authorization"].split("SignedHeaders=")[1]


# --- one construction path: every httpx argument reaches both httpx clients ---------------


def _ssl_context(http: httpx.Client | httpx.AsyncClient) -> Any:
    transport: Any = http._transport
    pool = getattr(transport, "_pool", None)
    return pool._ssl_context if pool is not None else transport.ssl_context


def _both(httpx_args: dict[str, Any]) -> list[httpx.Client | httpx.AsyncClient]:
    client = make_client("https://127.0.0.1:9", environ=ENV, httpx_args=httpx_args)
    return [client.get_httpx_client(), client.get_async_httpx_client()]


def test_the_async_client_is_on_the_aiohttp_transport() -> None:
    from httpx_aiohttp import AiohttpTransport  # noqa: PLC0415

    _, async_http = _both({})
    assert isinstance(async_http._transport, AiohttpTransport)


def test_verify_false_reaches_both_clients() -> None:
    for http in _both({"verify": False}):
        assert _ssl_context(http).verify_mode == ssl.CERT_NONE
        assert _ssl_context(http).check_hostname is False


def test_an_ssl_context_reaches_both_clients(tmp_path: Path) -> None:
    context = ssl.create_default_context()
    for http in _both({"verify": context}):
        assert _ssl_context(http) is context


def test_a_proxy_reaches_both_clients() -> None:
    for http in _both({"proxy": "http://127.0.0.1:3128"}):
        proxied = [t for t in http._mounts.values() if t is not None]
        assert proxied, type(http)
        for transport in proxied:
            proxy = getattr(transport, "proxy", None)
            url = proxy.url if proxy is not None else transport._pool._proxy_url  # type: ignore[union-attr]
            assert "3128" in str(url)


def test_environment_proxies_reach_both_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3129")
    for http in _both({}):
        assert any(t is not None for t in http._mounts.values()), type(http)
    monkeypatch.delenv("HTTPS_PROXY")
    for http in _both({"trust_env": False}):
        assert http.trust_env is False


@pytest.mark.parametrize(
    ("key", "value", "read"),
    [
        ("follow_redirects", True, lambda h: h.follow_redirects),
        ("timeout", httpx.Timeout(3.0, read=7.0), lambda h: h.timeout),
        ("headers", {"X-Trace-Id": "t-1"}, lambda h: {"X-Trace-Id": h.headers["x-trace-id"]}),
        ("cookies", {"session": "c"}, lambda h: {"session": h.cookies["session"]}),
        ("max_redirects", 3, lambda h: h.max_redirects),
        ("default_encoding", "latin-1", lambda h: h._default_encoding),
    ],
)
def test_plain_httpx_arguments_reach_both_clients(key: str, value: Any, read: Any) -> None:
    for http in _both({key: value}):
        assert read(http) == value, type(http)


def test_limits_reach_both_clients() -> None:
    limits = httpx.Limits(max_connections=7, max_keepalive_connections=3)
    sync_http, async_http = _both({"limits": limits})
    sync_transport: Any = sync_http._transport
    async_transport: Any = async_http._transport
    assert sync_transport._pool._max_connections == 7
    assert async_transport.limits == limits


def test_event_hooks_reach_both_clients_after_the_redirect_guard() -> None:
    def hook(response: httpx.Response) -> None:
        return None

    for http in _both({"event_hooks": {"response": [hook]}}):
        hooks = http.event_hooks["response"]
        assert hooks[-1] is hook
        assert len(hooks) == 2  # the redirect guard runs first


def test_a_transport_serves_only_the_client_of_its_kind() -> None:
    async_transport = httpx.AsyncHTTPTransport()
    sync_http, async_http = _both({"transport": async_transport})
    assert async_http._transport is async_transport
    assert isinstance(sync_http._transport, httpx.HTTPTransport)
    sync_transport = httpx.HTTPTransport()
    sync_http, async_http = _both({"transport": sync_transport})
    assert sync_http._transport is sync_transport
    assert async_http._transport is not sync_transport
