"""Inputs that once slipped past validation, the router or the signature check."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from emulator_support import (
    CREATE,
    GET,
    LIST,
    asgi_scope,
    call,
    create_body,
    error_code,
    signed_headers,
)
from starlette.applications import Starlette

from ark_batch.emulator.parsing import parse_body
from ark_batch.emulator.protocol import EnvelopeError


@pytest.mark.parametrize(
    "body",
    [
        create_body(CompletionWindow="1d\n"),
        create_body(InputFileTosLocation={"BucketName": "bkt\n", "ObjectKey": "in/a.jsonl"}),
        create_body(OutputDirTosLocation={"BucketName": "bkt\n", "ObjectKey": "out/"}),
    ],
)
async def test_a_trailing_newline_does_not_satisfy_a_pattern(
    emulator_http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    # JSON Schema's `$` is end of input; Python's would also match before a final "\n".
    response = await call(emulator_http, CREATE, body)
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameter"
    listed = await call(emulator_http, LIST, {})
    assert listed.json()["Result"]["TotalCount"] == 0


async def test_only_the_root_path_is_served(emulator_http: httpx.AsyncClient) -> None:
    query = f"Action={GET}&Version=2024-01-01"
    raw = json.dumps({"Id": "bi-1"}).encode()
    headers = signed_headers(query, raw)
    response = await emulator_http.post(f"/api/v3?{query}", content=raw, headers=headers)
    assert response.status_code == 404
    assert error_code(response) == "InvalidActionOrVersion"
    assert "/api/v3" in response.json()["ResponseMetadata"]["Error"]["Message"]


async def test_a_repeated_query_key_is_rejected(emulator_http: httpx.AsyncClient) -> None:
    # The canonical query keeps the last of repeated keys, so a copy added in front of a
    # signed key would still verify; the router refuses any repeat instead.
    signed_query = f"Action={GET}&Version=2024-01-01&Foo=2"
    raw = json.dumps({"Id": "bi-1"}).encode()
    headers = signed_headers(signed_query, raw)
    sent = f"/?Action={GET}&Version=2024-01-01&Foo=evil&Foo=2"
    response = await emulator_http.post(sent, content=raw, headers=headers)
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameter"
    assert "Foo" in response.json()["ResponseMetadata"]["Error"]["Message"]


async def test_an_absurd_content_length_is_413_not_500(emulator_app: Starlette) -> None:
    raw = b'{"Id": "x"}'
    query = f"Action={GET}&Version=2024-01-01"
    headers = {**signed_headers(query, raw), "content-length": "9" * 5000}
    scope = asgi_scope(query, headers)
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await emulator_app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["ResponseMetadata"]["Error"]["Code"] == (
        "RequestEntityTooLarge"
    )


def test_a_huge_invalid_array_is_answered_with_its_first_problem() -> None:
    # 300,000 wrong-typed Ids: validation stops after a bounded number of errors.
    raw = json.dumps({"Filter": {"Ids": [1] * 300_000}}).encode()
    with pytest.raises(EnvelopeError) as info:
        parse_body(LIST, raw)
    assert info.value.code == "InvalidParameter"
    assert "Filter.Ids" in info.value.message


@pytest.mark.parametrize("field", ["Name", "Description", "Tags", "ModelReference"])
async def test_raw_lone_surrogate_bytes_are_400_not_500(
    emulator_http: httpx.AsyncClient, field: str
) -> None:
    # ED A0 80 is U+D800 encoded as if it were a character: not UTF-8, so not JSON.
    raw = json.dumps(create_body(**{field: "PLACEHOLDER"})).encode()
    raw = raw.replace(b'"PLACEHOLDER"', b'"bad \xed\xa0\x80 value"')
    query = f"Action={CREATE}&Version=2024-01-01"
    response = await emulator_http.post(
        f"/?{query}", content=raw, headers=signed_headers(query, raw)
    )
    assert response.status_code == 400, response.text
    assert error_code(response) == "MalformedJSON"
    listed = await call(emulator_http, LIST, {})
    assert listed.json()["Result"]["TotalCount"] == 0


def _nested(depth: int, opener: str) -> str:
    """JSON text of arrays (``[``) or objects (``{``) nested ``depth`` levels deep."""
    if opener == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


_DEPTHS = [*range(900, 1001), 1500, 100_000]


@pytest.mark.parametrize("opener", ["[", "{"])
@pytest.mark.parametrize(
    ("action", "field"),
    [
        (CREATE, "Name"),
        (CREATE, "Tags"),
        (CREATE, "ModelReference"),
        (LIST, "Filter"),
        (GET, "Id"),
    ],
)
def test_a_typed_field_nested_at_any_depth_is_400(action: str, field: str, opener: str) -> None:
    template = create_body(**{field: "PLACEHOLDER"}) if action == CREATE else {field: "PLACEHOLDER"}
    text = json.dumps(template)
    for depth in _DEPTHS:
        raw = text.replace('"PLACEHOLDER"', _nested(depth, opener)).encode()
        with pytest.raises(EnvelopeError) as info:
            parse_body(action, raw)
        assert info.value.status == 400, (depth, info.value)


@pytest.mark.parametrize("depth", [950, 970, 990, 1000, 5000])
async def test_a_deeply_nested_field_is_400_over_the_wire(
    emulator_http: httpx.AsyncClient, depth: int
) -> None:
    text = json.dumps(create_body(Tags="PLACEHOLDER"))
    raw = text.replace('"PLACEHOLDER"', _nested(depth, "[")).encode()
    query = f"Action={CREATE}&Version=2024-01-01"
    response = await emulator_http.post(
        f"/?{query}", content=raw, headers=signed_headers(query, raw)
    )
    assert response.status_code == 400, response.text
