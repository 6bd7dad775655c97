"""The emulator over a raw socket: request targets and bytes that HTTP clients never send."""

from __future__ import annotations

import json

import pytest
from emulator_support import LIST, query_for, signed_headers
from raw_http_support import request_bytes, send_raw


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
