"""What the client puts on the wire and how it reads what comes back, on every transport.

The facade reads an identity-encoded body raw and a compressed one through httpx's
decoders; skips the null walk when a body has no ``null``; and keeps the caller's
timeout object when the deadline is further off than every phase.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest

from ark_batch import make_client
from ark_batch._core import _capped
from ark_batch.errors import InvalidSettingError, TransportError
from ark_batch.retries import NO_RETRY
from client.client_support import (
    MODES,
    STS,
    TRANSPORTS,
    Exchange,
    Handler,
    LoopbackServer,
    envelope,
    job_dict,
    run,
)


@pytest.mark.parametrize("mode", MODES)
def test_a_gzip_body_is_decoded_once(mode: str) -> None:
    body = envelope("GetBatchInferenceJob", job_dict("bi-1", "Running"))

    def compressed(exchange: Exchange) -> None:
        exchange.respond(
            200, gzip.compress(json.dumps(body).encode()), {"Content-Encoding": "gzip"}
        )

    with LoopbackServer(compressed) as server:
        job = run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert job.id == "bi-1"
    assert job.status.phase == "Running"


@pytest.mark.parametrize("mode", MODES)
def test_null_in_a_string_is_text_and_a_json_null_is_absent(mode: str) -> None:
    job = job_dict("bi-1", "Running")
    job["Name"] = "null"
    job["Description"] = None

    def answer(exchange: Exchange) -> None:
        exchange.respond(200, json.dumps({"Result": job}).encode())

    with LoopbackServer(answer) as server:
        read = run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert read.name == "null"
    assert "Description" not in read.to_dict()


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_long_response_header_is_read_on_every_transport(mode: str) -> None:
    # Longer than aiohttp's own 8,190-byte limit, within httpx's 16 KiB head.
    long = "x" * 12_000

    def answer(exchange: Exchange) -> None:
        body = envelope("GetBatchInferenceJob", job_dict("bi-1", "Running"))
        exchange.respond(200, body, {"X-Trace": long})

    with LoopbackServer(answer) as server:
        job = run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert job.id == "bi-1"


def _raw(status_line: str, *headers: str) -> Handler:
    """A 200 job answer sent byte by byte: ``status_line`` and ``headers`` in latin-1."""
    body = json.dumps(envelope("GetBatchInferenceJob", job_dict("bi-1", "Running"))).encode()

    def answer(exchange: Exchange) -> None:
        head = "".join(f"{line}\r\n" for line in (status_line, *headers))
        length = f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n\r\n"
        exchange.send(head.encode("latin-1") + length.encode() + body)

    return answer


@pytest.mark.parametrize("mode", TRANSPORTS)
@pytest.mark.parametrize(
    "value", ["caf\xe9", "北京".encode().decode("latin-1")], ids=["latin-1", "utf-8"]
)
def test_a_header_value_that_is_not_ascii_is_read_or_a_transport_error(
    mode: str, value: str
) -> None:
    # httpx reads header bytes as they are; pyreqwest hands httpx visible ASCII only.
    with LoopbackServer(_raw("HTTP/1.1 200 OK", f"X-Name: {value}")) as server:
        if mode == "sync":
            with pytest.raises(TransportError, match="a response header that is not ASCII"):
                run(mode, server.url, lambda ark: ark.get_job("bi-1"), retry=NO_RETRY)
        else:
            assert run(mode, server.url, lambda ark: ark.get_job("bi-1")).id == "bi-1"


def test_a_value_error_of_pyreqwest_about_no_header_stays_itself() -> None:
    # An endpoint pyreqwest cannot parse is the caller's input, not a transport fault.
    with pytest.raises(ValueError, match="IPv6") as excinfo:
        run("sync", "http://[fe80::1%25eth0]:9", lambda ark: ark.get_job("bi-1"), retry=NO_RETRY)
    assert not isinstance(excinfo.value, TransportError)


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_header_folded_over_two_lines_is_read_on_every_transport(mode: str) -> None:
    with LoopbackServer(_raw("HTTP/1.1 200 OK", "X-Folded: one", " two")) as server:
        assert run(mode, server.url, lambda ark: ark.get_job("bi-1")).id == "bi-1"


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_reason_phrase_that_is_not_utf_8_is_read_on_every_transport(mode: str) -> None:
    # httpx-aiohttp used to fail encoding it, and left the connection checked out: with
    # one connection, the next call would wait for the pool.
    with LoopbackServer(_raw("HTTP/1.1 200 \xd6K")) as server:

        def twice(ark: Any) -> Any:
            ark.get_job("bi-1")
            return ark.get_job("bi-1")

        def twice_async(ark: Any) -> Any:
            async def calls() -> Any:
                await ark.get_job("bi-1")
                return await ark.get_job("bi-1")

            return calls()

        job = run(mode, server.url, twice_async if mode == "async" else twice, max_connections=1)
    assert job.id == "bi-1"


@pytest.mark.parametrize("mode", TRANSPORTS)
@pytest.mark.parametrize(
    "headers",
    [{"X-Private": "PRIVATE-VALUE\n"}, {"X-Private": "PRIVATE\x00VALUE"}, {"X-Pr\nivate": "v"}],
)
def test_a_header_no_transport_can_send_is_refused_when_the_client_is_built(
    mode: str, headers: dict[str, str]
) -> None:
    # Each transport used to refuse it only when sending, and some quoted the value.
    with pytest.raises(InvalidSettingError, match="a control character") as excinfo:
        run(mode, "http://127.0.0.1:9", lambda ark: None, httpx_args={"headers": headers})
    assert "PRIVATE" not in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


def test_a_header_that_is_not_ascii_is_refused_when_the_client_is_built() -> None:
    with pytest.raises(InvalidSettingError, match="not ASCII"):
        run("sync", "http://127.0.0.1:9", lambda ark: None, httpx_args={"headers": {"X": "é"}})


@pytest.mark.parametrize("name", ["X Private", "X:Private", "X\tPrivate", ""])
def test_a_header_name_no_header_may_have_is_refused(name: str) -> None:
    with pytest.raises(InvalidSettingError, match="no header name may hold"):
        make_client("http://127.0.0.1:9", credentials=STS, httpx_args={"headers": {name: "v"}})


def test_headers_added_later_are_checked_too() -> None:
    client = make_client("http://127.0.0.1:9", credentials=STS)
    with pytest.raises(InvalidSettingError, match="has a control character") as excinfo:
        client.with_headers({"X-Private": "PRIVATE-VALUE\n"})
    assert "PRIVATE" not in str(excinfo.value)
    assert client.with_headers({"X-Trace": "t-1"}).get_httpx_client().headers["x-trace"] == "t-1"


def _headers_sent(mode: str, **kwargs: Any) -> dict[str, str]:
    """The headers of one Get as the server saw them."""
    seen: list[dict[str, str]] = []

    def answer(exchange: Exchange) -> None:
        seen.append(exchange.headers)
        exchange.respond(200, envelope("GetBatchInferenceJob", job_dict("bi-1", "Running")))

    with LoopbackServer(answer) as server:
        run(mode, server.url, lambda ark: ark.get_job("bi-1"), **kwargs)
    [headers] = seen
    return headers


@pytest.mark.parametrize("mode", MODES)
def test_headers_given_as_pairs_are_sent(mode: str) -> None:
    pairs = [("X-Trace", "t-1")]
    assert _headers_sent(mode, httpx_args={"headers": pairs})["x-trace"] == "t-1"


@pytest.mark.parametrize("mode", MODES)
def test_requests_carry_no_connection_or_accept_header_from_httpx(mode: str) -> None:
    headers = _headers_sent(mode)
    assert "connection" not in headers
    assert {"authorization", "x-date", "x-content-sha256", "host"} <= headers.keys()


def test_headers_the_user_sets_are_kept() -> None:
    client = make_client(
        "http://127.0.0.1:9",
        credentials=STS,
        httpx_args={"headers": {"Accept": "application/json", "Connection": "close"}},
    )
    for http in (client.get_httpx_client(), client.get_async_httpx_client()):
        assert http.headers["accept"] == "application/json"
        assert http.headers["connection"] == "close"
    bare = make_client("http://127.0.0.1:9", credentials=STS)
    for http in (bare.get_httpx_client(), bare.get_async_httpx_client()):
        assert "accept" not in http.headers
        assert "connection" not in http.headers


def test_a_far_deadline_keeps_the_callers_timeout_and_a_near_one_caps_it() -> None:
    timeout = httpx.Timeout(30.0)
    assert _capped(timeout, 60.0) is timeout
    assert _capped(timeout, None) is timeout
    near = _capped(timeout, 5.0)
    assert (near.connect, near.read, near.write, near.pool) == (5.0, 5.0, 5.0, 5.0)
    unbounded = httpx.Timeout(None)
    capped = _capped(unbounded, 60.0)
    assert (capped.connect, capped.read, capped.write, capped.pool) == (60.0, 60.0, 60.0, 60.0)
