"""Memory before authentication: header-only rejections and the in-flight body budget."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from emulator_support import DEV, GET, LIST, asgi_scope, query_for, signed_headers

from ark_batch.credentials import Credentials
from ark_batch.emulator import EmulatorConfig, create_app
from ark_batch.signing import format_x_date

Message = MutableMapping[str, Any]


class Exchange:
    """One request driven through the ASGI app, recording whether its body was read."""

    def __init__(self, body: bytes, *, hold_after: int | None = None) -> None:
        self.chunks = [body] if hold_after is None else [body[:hold_after], body[hold_after:]]
        self.reads = 0
        self.holding = asyncio.Event()
        self.go_on = asyncio.Event()
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        index = self.reads
        self.reads += 1
        if index == 1:
            self.holding.set()
            await self.go_on.wait()
        return {
            "type": "http.request",
            "body": self.chunks[index],
            "more_body": index + 1 < len(self.chunks),
        }

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        status: int = self.sent[0]["status"]
        return status

    def envelope(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.sent[1]["body"])
        return document


def _stale() -> str:
    return format_x_date(datetime.now(UTC) - timedelta(hours=2))


_QUERY = query_for(LIST)
_BODY = b"{}" + b" " * 10_000
_SIGNED = signed_headers(_QUERY, _BODY)
_BAD_HEADERS: dict[str, tuple[dict[str, str], str]] = {
    "missing": ({"Host": "emulator.local"}, "MissingAuthenticationToken"),
    "malformed": (
        {**_SIGNED, "Authorization": "HMAC-SHA256 nonsense"},
        "InvalidAuthorization",
    ),
    "wrong algorithm": ({**_SIGNED, "Authorization": "Basic dXNlcjpwYXNz"}, "InvalidAuthorization"),
    "unknown key": (
        signed_headers(_QUERY, _BODY, credentials=Credentials("AKUNKNOWN", "whatever")),
        "InvalidAccessKey",
    ),
    "stale X-Date": (signed_headers(_QUERY, _BODY, x_date=_stale()), "InvalidTimestamp"),
    "impossible X-Date": (
        signed_headers(_QUERY, _BODY, x_date="20241314T250000Z"),
        "InvalidTimestamp",
    ),
    "missing X-Date": (
        {k: v for k, v in _SIGNED.items() if k.lower() != "x-date"},
        "MissingRequestInfo",
    ),
}


@pytest.mark.parametrize("case", sorted(_BAD_HEADERS))
async def test_a_request_failing_on_its_headers_is_answered_without_reading_the_body(
    tmp_path: Path, case: str
) -> None:
    headers, code = _BAD_HEADERS[case]
    app = create_app(EmulatorConfig(tmp_path))
    try:
        exchange = Exchange(_BODY)
        await app(asgi_scope(_QUERY, headers), exchange.receive, exchange.send)
    finally:
        app.state.emulator.close()
    assert exchange.envelope()["ResponseMetadata"]["Error"]["Code"] == code
    assert exchange.reads == 0


async def test_a_valid_request_is_still_read_and_answered(tmp_path: Path) -> None:
    app = create_app(EmulatorConfig(tmp_path, accounts=(DEV,)))
    try:
        exchange = Exchange(_BODY)
        await app(asgi_scope(_QUERY, _SIGNED), exchange.receive, exchange.send)
    finally:
        app.state.emulator.close()
    assert exchange.status == 200
    assert exchange.reads == 1


async def test_body_bytes_in_flight_are_capped_across_requests(tmp_path: Path) -> None:
    config = EmulatorConfig(tmp_path, max_body_bytes=12_000, max_inflight_body_bytes=15_000)
    app = create_app(config)
    get_query = query_for(GET)
    get_body = json.dumps({"Id": "bi-20240101000000-abcde"}).encode() + b" " * 8_000
    try:
        # The first request holds 10,000 bytes, its body half read.
        first = Exchange(_BODY, hold_after=8_000)
        first_task = asyncio.create_task(
            app(asgi_scope(_QUERY, _SIGNED), first.receive, first.send)
        )
        await first.holding.wait()
        # A second body that would take the total past the cap is refused.
        second = Exchange(get_body)
        await app(
            asgi_scope(get_query, signed_headers(get_query, get_body)),
            second.receive,
            second.send,
        )
        assert second.status == 503
        assert second.envelope()["ResponseMetadata"]["Error"]["Code"] == "ServiceUnavailableTemp"
        assert dict(second.sent[0]["headers"])[b"retry-after"] == b"1"
        first.go_on.set()
        await first_task
        assert first.status == 200
        # Once the first is answered its bytes are released.
        third = Exchange(get_body)
        await app(
            asgi_scope(get_query, signed_headers(get_query, get_body)),
            third.receive,
            third.send,
        )
        assert third.status == 404
        assert app.state.emulator.config.max_inflight_body_bytes == 15_000
    finally:
        app.state.emulator.close()


def test_the_in_flight_cap_cannot_be_below_one_body(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_inflight_body_bytes"):
        EmulatorConfig(tmp_path, max_body_bytes=10, max_inflight_body_bytes=9)


async def test_a_signature_over_another_body_is_judged_after_reading_the_body(
    tmp_path: Path,
) -> None:
    # Only the body can tell a wrong signature from a right one.
    app = create_app(EmulatorConfig(tmp_path))
    try:
        exchange = Exchange(b'{"PageSize": 5}')
        await app(asgi_scope(_QUERY, _SIGNED), exchange.receive, exchange.send)
    finally:
        app.state.emulator.close()
    assert exchange.envelope()["ResponseMetadata"]["Error"]["Code"] == "SignatureDoesNotMatch"
    assert exchange.reads == 1
