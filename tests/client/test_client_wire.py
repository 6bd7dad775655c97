"""What the client puts on the wire and how it reads what comes back, on every transport.

The facade reads an identity-encoded body raw and a compressed one through httpx's
decoders; skips the null walk when a body has no ``null``; and keeps the caller's
timeout object when the deadline is further off than every phase.
"""

from __future__ import annotations

import gzip
import json

import httpx
import pytest

from ark_batch import make_client
from ark_batch._core import _capped
from client.client_support import (
    MODES,
    STS,
    TRANSPORTS,
    Exchange,
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


@pytest.mark.parametrize("mode", MODES)
def test_requests_carry_no_connection_or_accept_header_from_httpx(mode: str) -> None:
    seen: list[dict[str, str]] = []

    def answer(exchange: Exchange) -> None:
        seen.append(exchange.headers)
        exchange.respond(200, envelope("GetBatchInferenceJob", job_dict("bi-1", "Running")))

    with LoopbackServer(answer) as server:
        run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert seen
    assert "connection" not in seen[0]
    assert {"authorization", "x-date", "x-content-sha256", "host"} <= seen[0].keys()


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
