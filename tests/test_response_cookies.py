"""make_client's httpx clients keep gateway cookies, and skip the jar for responses without any.

The clients' own jar is the only one: on every transport, a cookie is sent only while
``client.cookies`` holds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import pytest
from client.client_support import Exchange, LoopbackServer

from ark_batch.connect import async_client_class, make_client
from ark_batch.credentials import Credentials
from ark_batch.response_cookies import ResponseCookies
from ark_batch_client.api.batch_inference_job import get_batch_inference_job
from ark_batch_client.models import GetBatchInferenceJobRequest

CREDENTIALS = Credentials("AKLTCOOKIES", "cookie-secret")
# An error answer: the generated functions parse it without needing a whole job.
BODY = {"ResponseMetadata": {"RequestId": "r", "Error": {"Code": "X", "Message": "m"}}}


class CountingJar(CookieJar):
    """A cookie jar that counts the responses handed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.extractions = 0

    def extract_cookies(self, response: Any, request: Any) -> None:
        self.extractions += 1
        super().extract_cookies(response, request)


def gateway(set_cookie: list[str]) -> tuple[list[httpx.Request], httpx.MockTransport]:
    """A server that sets the cookies in ``set_cookie`` (one per response, in turn)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = [("set-cookie", set_cookie.pop(0))] if set_cookie else []
        return httpx.Response(404, json=BODY, headers=headers)

    return seen, httpx.MockTransport(handler)


def get(client: Any) -> None:
    get_batch_inference_job.sync(client=client, body=GetBatchInferenceJobRequest(id="bi-1"))


async def get_async(client: Any) -> None:
    request = GetBatchInferenceJobRequest(id="bi-1")
    await get_batch_inference_job.asyncio(client=client, body=request)


def test_a_cookie_the_gateway_sets_is_sent_back() -> None:
    seen, transport = gateway(["route=b2; Path=/"])
    client = make_client(
        "http://127.0.0.1:9", credentials=CREDENTIALS, httpx_args={"transport": transport}
    )
    get(client)
    get(client)
    assert "cookie" not in seen[0].headers
    assert seen[1].headers["cookie"] == "route=b2"
    assert client.get_httpx_client().cookies["route"] == "b2"


def test_the_async_client_sends_a_gateway_cookie_back() -> None:
    seen, transport = gateway(["route=a1; Path=/"])
    client = make_client(
        "http://127.0.0.1:9", credentials=CREDENTIALS, httpx_args={"transport": transport}
    )

    async def main() -> None:
        await get_async(client)
        await get_async(client)
        await client.get_async_httpx_client().aclose()

    asyncio.run(main())
    assert seen[1].headers["cookie"] == "route=a1"
    assert isinstance(client.get_async_httpx_client(), async_client_class())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_only_responses_that_set_a_cookie_reach_the_jar(kind: str) -> None:
    jar = CountingJar()
    _, transport = gateway(["session=s; Path=/"])
    args = {"transport": transport, "cookies": jar}
    client = make_client("http://127.0.0.1:9", credentials=CREDENTIALS, httpx_args=args)
    if kind == "sync":
        for _ in range(3):
            get(client)
    else:

        async def main() -> None:
            for _ in range(3):
                await get_async(client)
            await client.get_async_httpx_client().aclose()

        asyncio.run(main())
    # Only the first response set a cookie; the user's own jar holds it.
    assert jar.extractions == 1
    assert [cookie.name for cookie in jar] == ["session"]


def test_cookies_assigned_later_are_sent_and_skip_the_jar_too() -> None:
    seen, transport = gateway([])
    client = make_client(
        "http://127.0.0.1:9", credentials=CREDENTIALS, httpx_args={"transport": transport}
    )
    jar = CountingJar()
    for cookie in httpx.Cookies({"a": "1"}).jar:
        jar.set_cookie(cookie)
    client.get_httpx_client().cookies = jar
    get(client)
    get(client)
    assert seen[1].headers["cookie"] == "a=1"
    assert jar.extractions == 0


@pytest.mark.parametrize("name", ["Set-Cookie", "SET-COOKIE", "set-cookie2"])
def test_a_cookie_header_in_any_case_reaches_the_jar(name: str) -> None:
    jar = CountingJar()
    cookies = ResponseCookies(jar)
    request = httpx.Request("GET", "http://ark.test/")
    cookies.extract_cookies(httpx.Response(200, headers={name: "a=1"}, request=request))
    cookies.extract_cookies(httpx.Response(200, headers={"Set-Cookies": "b=2"}, request=request))
    assert jar.extractions == 1


def cookie_once(exchange: Exchange) -> None:
    """A gateway that sets a cookie on its first response only."""
    first = len(exchange.server.exchanges) == 1
    exchange.respond(404, BODY, {"Set-Cookie": "route=a1; Path=/"} if first else {})


def cookies_sent(
    kind: str,
    url: str,
    server: LoopbackServer,
    between: Callable[[Any], None] = lambda http: None,
    **httpx_args: Any,
) -> list[str | None]:
    """Two Gets on the default client of ``kind``, ``between(its httpx client)`` in between."""
    client = make_client(url, credentials=CREDENTIALS, httpx_args=httpx_args)
    if kind == "sync":
        get(client)
        between(client.get_httpx_client())
        get(client)
        client.get_httpx_client().close()
    else:

        async def main() -> None:
            await get_async(client)
            between(client.get_async_httpx_client())
            await get_async(client)
            await client.get_async_httpx_client().aclose()

        asyncio.run(main())
    return [exchange.headers.get("cookie") for exchange in server.exchanges]


def clear(http: Any) -> None:
    http.cookies.clear()


# A host name, not an address: aiohttp's own jar would refuse a cookie from an address.
@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("cleared", [False, True])
def test_a_cookie_is_sent_only_while_the_client_holds_it(kind: str, cleared: bool) -> None:
    with LoopbackServer(cookie_once) as server:
        url = server.url.replace("127.0.0.1", "localhost")
        sent = cookies_sent(kind, url, server, clear if cleared else lambda http: None)
    assert sent == [None, None if cleared else "route=a1"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_jar_that_refuses_cookies_means_none_are_sent(kind: str) -> None:
    refusing = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    with LoopbackServer(cookie_once) as server:
        url = server.url.replace("127.0.0.1", "localhost")
        assert cookies_sent(kind, url, server, cookies=refusing) == [None, None]
    assert list(refusing) == []


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("cleared", [False, True])
def test_through_a_proxy_too(kind: str, cleared: bool) -> None:
    # The loopback server answers as the proxy, for any host it is asked for.
    with LoopbackServer(cookie_once) as server:
        between = clear if cleared else lambda http: None
        sent = cookies_sent(kind, "http://ark.test", server, between, proxy=server.url)
        targets = [exchange.request_line.split(" ")[1] for exchange in server.exchanges]
    assert all(target.startswith("http://ark.test/") for target in targets)
    assert sent == [None, None if cleared else "route=a1"]
