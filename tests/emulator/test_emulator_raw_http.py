"""The emulator over a raw socket: request targets and bytes that HTTP clients never send."""

from __future__ import annotations

import json
import logging

import pytest
from emulator_support import LIST, query_for, signed_headers
from raw_http_support import request_bytes, send_raw

from ark_batch.emulator.wire import MALFORMED_REQUEST_WARNING, RepeatedWarningFilter


def test_an_absolute_form_target_is_served(emulator_server: str) -> None:
    # RFC 9112 §3.2.2: a server must accept the absolute form (what a proxy-aware
    # client sends); the signature covers the path "/", as in the origin form.
    authority = emulator_server.removeprefix("http://")
    query = query_for(LIST)
    body = json.dumps({}).encode()
    headers = signed_headers(query, body, host=authority)
    response = send_raw(
        emulator_server, request_bytes(f"http://{authority}/?{query}", headers, body)
    )
    assert response.status == 200, response.body
    envelope = response.envelope()
    assert envelope["ResponseMetadata"]["Action"] == LIST
    assert envelope["Result"]["TotalCount"] == 0


@pytest.mark.parametrize("method", ["POST", "OPTIONS"])
def test_the_asterisk_target_gets_the_envelope(emulator_server: str, method: str) -> None:
    response = send_raw(emulator_server, request_bytes("*", {"Host": "x"}, b"{}", method))
    assert response.status == 404
    assert response.headers["content-type"].startswith("application/json")
    error = response.envelope()["ResponseMetadata"]["Error"]
    assert error["Code"] == "InvalidActionOrVersion"


def test_an_absolute_form_target_on_another_path_gets_the_envelope(
    emulator_server: str,
) -> None:
    target = f"http://example.invalid/api/v3?{query_for(LIST)}"
    response = send_raw(emulator_server, request_bytes(target, {"Host": "x"}, b"{}"))
    assert response.status == 404
    assert response.envelope()["ResponseMetadata"]["Error"]["Code"] == "InvalidActionOrVersion"


def test_a_flood_of_malformed_requests_logs_one_line_a_window() -> None:
    now = [0.0]
    limiter = RepeatedWarningFilter(window=10.0, clock=lambda: now[0])

    def passes(message: str) -> str | None:
        record = logging.LogRecord("uvicorn.error", logging.WARNING, "", 0, message, None, None)
        return record.getMessage() if limiter.filter(record) else None

    assert passes(MALFORMED_REQUEST_WARNING) == MALFORMED_REQUEST_WARNING
    assert [passes(MALFORMED_REQUEST_WARNING) for _ in range(500)] == [None] * 500
    assert passes("another warning") == "another warning"
    now[0] = 10.0
    assert passes(MALFORMED_REQUEST_WARNING) == (
        f"{MALFORMED_REQUEST_WARNING} (500 more in the last 10 s)"
    )
    assert passes(MALFORMED_REQUEST_WARNING) is None


def test_the_servers_log_malformed_requests_through_the_limit(emulator_server: str) -> None:
    assert any(
        isinstance(f, RepeatedWarningFilter) for f in logging.getLogger("uvicorn.error").filters
    )
    response = send_raw(emulator_server, b"GARBAGE\r\n\r\n")
    assert response.status == 400
    assert response.envelope()["ResponseMetadata"]["Error"]["Code"] == "InvalidParameter"
