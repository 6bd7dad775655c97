"""Property: whatever bytes reach the app, the answer is a non-5xx in the envelope.

Drives the ASGI app directly with arbitrary methods, paths, query strings, headers and
bodies (chunked arbitrarily), as a server would pass them after HTTP framing; both with
signature verification on (mostly authentication errors) and off (so bodies reach the
JSON and schema checks).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from emulator_support import CREATE, GET, LIST, asgi_scope, create_body, signed_headers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_http_support import send_raw
from starlette.applications import Starlette

from ark_batch.emulator import EmulatorConfig, create_app

_ACTIONS = [CREATE, GET, LIST, "Unknown"]

_queries = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda action, version, extra: f"Action={action}&Version={version}{extra}".encode(
            "utf-8", "surrogatepass"
        ),
        st.sampled_from(_ACTIONS),
        st.sampled_from(["2024-01-01", "2023-01-01", ""]),
        st.text(max_size=40),
    ),
)
_bodies = st.one_of(
    st.binary(max_size=2_000),
    st.sampled_from(
        [
            json.dumps(create_body()).encode(),
            b'{"Id": "bi-20240101000000-abcde"}',
            b"{}",
            b'{"Filter": {"Phases": ["Running"]}}',
        ]
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=20,
    ).map(lambda value: json.dumps(value).encode()),
)
_header_names = st.one_of(
    st.sampled_from(
        [
            b"authorization",
            b"x-date",
            b"host",
            b"content-length",
            b"content-type",
            b"x-security-token",
            b"x-content-sha256",
        ]
    ),
    st.binary(min_size=1, max_size=20),
)
_headers = st.lists(st.tuples(_header_names, st.binary(max_size=120)), max_size=8)
_paths = st.one_of(
    st.just("/"), st.text(max_size=40), st.just("*"), st.just("http://h/"), st.just("//x")
)
_methods = st.sampled_from(["POST", "GET", "PUT", "OPTIONS", "DELETE", "PATCH", "X"])


@pytest.fixture(params=[True, False], ids=["verified", "unverified"])
def property_app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Starlette]:
    app = create_app(EmulatorConfig(tmp_path / "emulator", verify_signatures=request.param))
    yield app
    app.state.emulator.close()


async def _exchange(app: Starlette, scope: Any, chunks: list[bytes]) -> list[Any]:
    sent: list[MutableMapping[str, Any]] = []
    pending = list(chunks) or [b""]

    async def receive() -> dict[str, Any]:
        chunk = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _assert_envelope(sent: list[Any]) -> None:
    assert sent[0]["type"] == "http.response.start"
    status = sent[0]["status"]
    assert status < 500, sent
    headers = dict(sent[0]["headers"])
    assert headers[b"content-type"].startswith(b"application/json")
    document = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    metadata = document["ResponseMetadata"]
    assert len(metadata["RequestId"]) == 34
    if status == 200:
        assert "Result" in document
    else:
        assert metadata["Error"]["Code"]
        assert "Result" not in document


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=_methods,
    path=_paths,
    query=_queries,
    headers=_headers,
    body=_bodies,
    cuts=st.lists(st.integers(min_value=0, max_value=2_000), max_size=3),
    sign=st.booleans(),
)
def test_arbitrary_requests_get_the_envelope_and_never_a_5xx(
    property_app: Starlette,
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    cuts: list[int],
    sign: bool,
) -> None:
    if sign:
        # A correct signature over a (possibly invalid) query and body reaches parsing.
        text_query = query.decode("latin-1")
        signed = signed_headers(text_query, body)
        headers = [(k.lower().encode(), v.encode()) for k, v in signed.items()] + headers
    edges = sorted({0, *(c for c in cuts if c < len(body)), len(body)})
    chunks = [body[a:b] for a, b in itertools.pairwise(edges)]
    sent = asyncio.run(
        _exchange(property_app, asgi_scope(query, headers, method=method, path=path), chunks)
    )
    _assert_envelope(sent)


_line_bytes = st.binary(max_size=60)


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.one_of(_methods.map(str.encode), _line_bytes),
    target=st.one_of(_queries.map(lambda q: b"/?" + q), _line_bytes),
    headers=_headers,
    body=_bodies,
)
def test_arbitrary_bytes_over_the_wire_get_the_envelope(
    emulator_server: str,
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    # Through the real server: what uvicorn cannot even parse is answered in the
    # envelope too (a 400), and whatever it can parse reaches the app.
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: emulator.local"]
    lines += [name + b": " + value for name, value in headers if name.lower() != b"content-length"]
    lines += [b"Content-Length: " + str(len(body)).encode(), b"Connection: close", b"", b""]
    response = send_raw(emulator_server, b"\r\n".join(lines) + body, close_sending=True)
    assert response.status < 500, response
    assert response.headers["content-type"].startswith("application/json"), response
    metadata = response.envelope()["ResponseMetadata"]
    assert len(metadata["RequestId"]) == 34
    if response.status != 200:
        assert metadata["Error"]["Code"]
