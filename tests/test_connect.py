"""make_client builds a signed generated client from arguments or the environment."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest
from client.client_support import (
    LoopbackServer,
    clear_transport_environment,
    error_envelope,
    stock_sync_transport,
)

from ark_batch.connect import DEFAULT_ENDPOINT, SignedClient, make_client, resolve_endpoint
from ark_batch.credentials import Credentials
from ark_batch.errors import InvalidSettingError, MissingCredentialsError
from ark_batch.facade import ArkBatch, AsyncArkBatch
from ark_batch.sync_transport import reqwest_transport
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


@pytest.mark.parametrize(
    ("explicit", "environ", "setting"),
    [
        ("http://user:hunter2@127.0.0.1:8080", {}, "endpoint"),
        ("user:hunter2@ark.example.com/x", {}, "endpoint"),
        (None, {"ARK_BATCH_ENDPOINT": "https://user:hunter2@ark.test"}, "ARK_BATCH_ENDPOINT"),
        # A password with a "/" in it ends the authority early: the "@" is then in the path.
        ("http://user:abc/hunter2@127.0.0.1:8080", {}, "endpoint"),
        ("http://u:abc/hunter2@127.0.0.1:8080/?x=1", {}, "endpoint"),
    ],
)  # fmt: skip
def test_endpoint_with_user_info_is_refused_without_showing_it(
    explicit: str | None, environ: dict[str, str], setting: str
) -> None:
    with pytest.raises(InvalidSettingError, match=setting) as caught:
        resolve_endpoint(explicit, environ=environ)
    assert "hunter2" not in str(caught.value)
    # Both facades build their client here, so neither is ever made with it.
    for facade in (ArkBatch, AsyncArkBatch):
        with pytest.raises(InvalidSettingError) as caught:
            facade(explicit, credentials=Credentials("AK", "SK"), environ=environ)
        assert "hunter2" not in str(caught.value)


def test_an_at_sign_in_the_query_is_no_user_info() -> None:
    assert resolve_endpoint("http://127.0.0.1:8080/?a=b@c") == "http://127.0.0.1:8080/?a=b@c"


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
    """Both httpx clients, the sync one on httpx's own transport (its pool is inspected)."""
    client = make_client("https://127.0.0.1:9", environ=ENV, httpx_args=httpx_args)
    with stock_sync_transport():
        return [client.get_httpx_client(), client.get_async_httpx_client()]


def test_the_async_client_is_on_the_aiohttp_transport() -> None:
    from httpx_aiohttp import AiohttpTransport  # noqa: PLC0415

    _, async_http = _both({})
    assert isinstance(async_http._transport, AiohttpTransport)


async def test_a_session_given_to_the_aiohttp_transport_keeps_its_own_jar() -> None:
    import aiohttp  # noqa: PLC0415

    from ark_batch.aiohttp_client import JarlessAiohttpTransport  # noqa: PLC0415

    made = JarlessAiohttpTransport().get_client()
    given = aiohttp.ClientSession()
    try:
        assert isinstance(made.cookie_jar, aiohttp.DummyCookieJar)
        assert JarlessAiohttpTransport(client=lambda: given).get_client() is given
        assert not isinstance(given.cookie_jar, aiohttp.DummyCookieJar)
    finally:
        await made.close()
        await given.close()


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


# --- the sync transport: pyreqwest's when it can honour every argument --------------------


@pytest.fixture
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No trust-root or proxy variables, whatever the machine sets."""
    return clear_transport_environment(monkeypatch)


def _sync_transport(url: str = "https://127.0.0.1:9", **httpx_args: Any) -> str:
    return make_client(url, environ=ENV, httpx_args=httpx_args).sync_transport_name()


def test_the_sync_client_is_on_pyreqwest_by_default(plain_environment: Any) -> None:
    assert _sync_transport() == "pyreqwest"
    assert _sync_transport("http://127.0.0.1:9") == "pyreqwest"


def test_without_pyreqwest_the_sync_client_is_on_httpx(plain_environment: Any) -> None:
    with stock_sync_transport():
        assert _sync_transport() == "httpx"


def test_httpx_own_transport_can_be_asked_for(plain_environment: Any) -> None:
    client = make_client("http://127.0.0.1:9", environ=ENV, sync_transport="httpx")
    assert client.sync_transport_name() == "httpx"
    assert isinstance(client.get_httpx_client()._transport, httpx.HTTPTransport)
    plain_environment.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    proxied = make_client("http://127.0.0.1:9", environ=ENV, sync_transport="httpx")
    mounts = proxied.get_httpx_client()._mounts.values()
    assert any(t is not None for t in mounts)  # unlike a transport given, it keeps proxies


def test_a_transport_given_is_used_as_it_is(plain_environment: Any) -> None:
    transport = httpx.HTTPTransport()
    client = make_client("https://127.0.0.1:9", environ=ENV, httpx_args={"transport": transport})
    assert client.get_httpx_client()._transport is transport
    assert client.sync_transport_name() == "httpx"


@pytest.mark.parametrize(
    "httpx_args",
    [
        {"verify": certifi.where()},
        {"verify": ssl.create_default_context()},
        {"proxy": "http://127.0.0.1:3128"},
    ],
    ids=["ca-bundle", "ssl-context", "proxy"],
)
@pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning")
def test_arguments_pyreqwest_cannot_honour_keep_httpx(
    plain_environment: Any, httpx_args: dict[str, Any]
) -> None:
    assert _sync_transport(**httpx_args) == "httpx"


@pytest.mark.parametrize(
    "args",
    [
        {"cert": ("client.pem", "client-key.pem")},
        {"http2": True},
        {"http1": False, "http2": True},
        {"transport": httpx.HTTPTransport()},
        {"app": object()},
    ],
    ids=["cert", "http2", "http2-only", "transport", "unknown"],
)
def test_each_argument_it_cannot_honour_is_refused(
    plain_environment: Any, args: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="ark_batch"):
        assert reqwest_transport({"base_url": "https://ark.test", **args}) is None
    [record] = caplog.records
    assert record.getMessage().startswith("sync transport: httpx's own, because ")


def test_what_it_honours_builds_a_transport(plain_environment: Any) -> None:
    transport = reqwest_transport(
        {
            "base_url": "https://ark.test",
            "verify": False,
            "http1": True,
            "http2": False,
            "cert": None,
            "proxy": None,
            "timeout": httpx.Timeout(None),
            "limits": httpx.Limits(max_connections=None, max_keepalive_connections=None),
            "trust_env": False,
        }
    )
    assert transport is not None
    transport.close()


@pytest.mark.parametrize("name", ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "https_proxy"])
def test_proxies_from_the_environment_keep_httpx(plain_environment: Any, name: str) -> None:
    plain_environment.setenv(name, "http://127.0.0.1:3128")
    assert _sync_transport() == "httpx"
    assert _sync_transport(trust_env=False) == "pyreqwest"  # httpx would not read them
    plain_environment.setenv("NO_PROXY", "*")  # httpx ignores every proxy then
    assert _sync_transport() == "pyreqwest"


@pytest.mark.parametrize(
    ("variables", "url", "args", "expected"),
    [
        (["SSL_CERT_FILE"], "https", {}, "pyreqwest"),  # both read the file alone
        (["SSL_CERT_DIR"], "https", {}, "pyreqwest"),
        (["SSL_CERT_FILE", "SSL_CERT_DIR"], "https", {}, "httpx"),  # httpx reads only the file
        (["SSL_CERT_FILE"], "https", {"trust_env": False}, "httpx"),  # pyreqwest reads it anyway
        (["SSL_CERT_FILE", "SSL_CERT_DIR"], "http", {}, "pyreqwest"),  # no TLS, no roots
        (["SSL_CERT_FILE", "SSL_CERT_DIR"], "https", {"verify": False}, "pyreqwest"),
    ],
)
def test_trust_roots_from_the_environment(
    plain_environment: Any,
    tmp_path: Path,
    variables: list[str],
    url: str,
    args: dict[str, Any],
    expected: str,
) -> None:
    (tmp_path / "ca.pem").write_bytes(Path(certifi.where()).read_bytes())
    places = {"SSL_CERT_FILE": str(tmp_path / "ca.pem"), "SSL_CERT_DIR": str(tmp_path)}
    for name in variables:
        plain_environment.setenv(name, places[name])
    assert _sync_transport(f"{url}://127.0.0.1:9", **args) == expected


@pytest.mark.parametrize("keepalive", [0, 1])
def test_limits_reach_pyreqwest(plain_environment: Any, keepalive: int) -> None:
    def answer(exchange: Any) -> None:
        exchange.respond(404, error_envelope(exchange.action, "NotFound", "no such job"))

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=keepalive)
    with LoopbackServer(answer) as server:
        client = make_client(server.url, environ=ENV, httpx_args={"limits": limits})
        assert client.sync_transport_name() == "pyreqwest"
        for _ in range(3):
            get_batch_inference_job.sync(client=client, body=GetBatchInferenceJobRequest(id="x"))
        client.get_httpx_client().close()
    connections = {id(exchange.conn) for exchange in server.exchanges}
    assert len(connections) == (3 if keepalive == 0 else 1)


def test_trust_roots_pyreqwest_cannot_load_leave_the_choice_to_httpx(
    plain_environment: Any, tmp_path: Path
) -> None:
    plain_environment.setenv("SSL_CERT_DIR", str(tmp_path))  # no certificate in it
    assert _sync_transport() == "httpx"


def test_the_facade_passes_its_sync_transport_choice(plain_environment: Any) -> None:
    from ark_batch import ArkBatch  # noqa: PLC0415

    creds = Credentials("AK", "SK")
    with ArkBatch("http://127.0.0.1:9", credentials=creds) as fast:
        assert _used(fast.client) == "pyreqwest"
    with ArkBatch("http://127.0.0.1:9", credentials=creds, sync_transport="httpx") as stock:
        assert _used(stock.client) == "httpx"


def test_the_cli_builds_its_client_on_httpx_own_transport(
    plain_environment: pytest.MonkeyPatch,
) -> None:
    # So that Ctrl-C stops a command at once (test_client_faults covers Ctrl-C itself).
    import typer  # noqa: PLC0415

    from ark_batch.cli.app import app  # noqa: PLC0415
    from ark_batch.cli.context import connect  # noqa: PLC0415

    plain_environment.setenv("VOLC_ACCESSKEY", "AK")
    plain_environment.setenv("VOLC_SECRETKEY", "SK")
    ctx = typer.Context(typer.main.get_command(app))
    with connect(ctx, "http://127.0.0.1:9", None, None) as ark:
        assert _used(ark.client) == "httpx"


def _used(client: object) -> str:
    assert isinstance(client, SignedClient)
    return client.sync_transport_name()
