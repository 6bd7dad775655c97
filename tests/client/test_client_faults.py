"""The client against misbehaving loopback servers: typed errors, retries, deadlines, no leaks.

Every server here is a :class:`LoopbackServer` answering byte by byte. Each case runs
through ``ArkBatch`` (on pyreqwest's transport) and ``AsyncArkBatch`` alike; the cases
in :data:`TRANSPORTS` also run ``ArkBatch`` on httpx's own sync transport (``"stock"``),
the fallback when pyreqwest is missing or cannot honour an argument.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_support import free_port

from ark_batch import ArkBatch, make_client
from ark_batch.connect import SignedClient
from ark_batch.errors import (
    ApiError,
    ArkBatchError,
    AuthenticationError,
    ConnectError,
    DeadlineExceededError,
    RedirectError,
    RequestTimeoutError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    WaitTimeoutError,
)
from ark_batch.retries import RetryPolicy
from ark_batch.signing import parse_authorization
from ark_batch_client.api.batch_inference_job import get_batch_inference_job
from ark_batch_client.models import GetBatchInferenceJobRequest
from client.client_support import (
    MODES,
    SECRET,
    STS,
    TOKEN,
    TRANSPORTS,
    Exchange,
    LoopbackServer,
    envelope,
    error_envelope,
    hang,
    job_answer,
    job_dict,
    run,
    stock_sync_transport,
    write_self_signed_certificate,
)

CREATE_FIELDS: dict[str, Any] = {
    "name": "n",
    "model": "m:1",
    "input": "bucket/in.jsonl",
    "output": "bucket/out/",
}


def assert_no_secret(error: BaseException) -> None:
    for text in (str(error), repr(error)):
        assert SECRET not in text
        assert TOKEN not in text


# --- error pages, hang-ups, truncation ---------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_an_html_error_page_is_retried_then_raised_typed(mode: str) -> None:
    def html(exchange: Exchange) -> None:
        exchange.respond(502, b"<html><body>Bad Gateway</body></html>", {"X-Tt-Logid": "log-1"})

    with LoopbackServer(html) as server, pytest.raises(UnexpectedResponseError) as caught:
        run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert caught.value.status == 502
    assert caught.value.request_id == "log-1"
    assert len(server.exchanges) == 4  # the default policy's attempts
    assert_no_secret(caught.value)


@pytest.mark.parametrize("mode", TRANSPORTS)
@pytest.mark.parametrize("reset", [False, True])
def test_a_hang_up_after_the_request_retries_reads_but_never_create(mode: str, reset: bool) -> None:
    def hang_up(exchange: Exchange) -> None:
        exchange.hang_up(reset=reset)

    with LoopbackServer(hang_up) as server:
        with pytest.raises(TransportError) as read:
            run(mode, server.url, lambda ark: ark.get_job("bi-1"))
        reads = len(server.exchanges)
        with pytest.raises(TransportError) as create:
            run(mode, server.url, lambda ark: ark.create_job(**CREATE_FIELDS))
    assert reads == 4
    assert len(server.exchanges) == reads + 1  # Create went out once
    assert not isinstance(create.value, ConnectError)
    assert create.value.sent
    assert "may have been created" in str(create.value)
    assert_no_secret(read.value)


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_refused_connection_is_retried_even_for_create_and_names_the_endpoint(
    mode: str,
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    sleeps: list[float] = []
    with pytest.raises(ConnectError) as caught:
        run(mode, url, lambda ark: ark.create_job(**CREATE_FIELDS), sleeps=sleeps)
    assert not caught.value.sent
    assert len(sleeps) == 3  # four attempts: nothing was sent, so no second job
    assert url in str(caught.value)
    assert "may have been created" not in str(caught.value)


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_truncated_body_is_a_transport_error_and_retried(mode: str) -> None:
    answers = iter([True, False])

    def truncate_once(exchange: Exchange) -> None:
        if next(answers):
            data = json.dumps(envelope("GetBatchInferenceJob", job_dict("bi-1"))).encode()
            exchange.respond(200, data[:40], length=len(data))
            exchange.hang_up()
        else:
            job_answer(exchange)

    with LoopbackServer(truncate_once) as server:
        job = run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert job.status.phase == "Completed"
    assert len(server.exchanges) == 2


def _not_http(exchange: Exchange) -> None:
    exchange.send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    exchange.hang_up()


def _huge_header(exchange: Exchange) -> None:
    # Past every transport's limit on a response head: h11's 64 kB, hyper's 400 kB.
    exchange.send(b"HTTP/1.1 200 OK\r\nX-Junk: " + b"a" * 1_000_000 + b"\r\n\r\n")
    exchange.hang_up()


@pytest.mark.parametrize("mode", TRANSPORTS)
@pytest.mark.parametrize("handler", [_not_http, _huge_header], ids=lambda h: h.__name__)
def test_an_answer_that_is_not_http_is_a_transport_error(
    mode: str, handler: Callable[[Exchange], None]
) -> None:
    with LoopbackServer(handler) as server, pytest.raises(TransportError) as caught:
        run(mode, server.url, lambda ark: ark.create_job(**CREATE_FIELDS))
    assert caught.value.sent  # it may have reached a server: Create is not retried
    assert len(server.exchanges) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_5xx_on_create_says_the_job_may_exist(mode: str) -> None:
    def fail(exchange: Exchange) -> None:
        exchange.respond(500, error_envelope(exchange.action, "InternalError", "boom"))

    with LoopbackServer(fail) as server, pytest.raises(ServerError) as caught:
        run(mode, server.url, lambda ark: ark.create_job(**CREATE_FIELDS))
    assert len(server.exchanges) == 1
    assert "may have been created" in str(caught.value)
    assert "list_jobs(name=" in caught.value.message


# --- hung and dripping servers: deadlines -------------------------------------------------


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_hung_server_cannot_stretch_a_call_past_its_deadline(mode: str) -> None:
    with LoopbackServer(hang) as server:
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            run(mode, server.url, lambda ark: ark.get_job("bi-1", deadline=0.5))
        # By the deadline, not by a sum of per-phase timeouts (4 x 0.5 s on reqwest
        # when each phase was handed over as a part of one total).
        assert time.monotonic() - started < 1.5


def _answer_after(seconds: float) -> Callable[[Exchange], None]:
    def late(exchange: Exchange) -> None:
        exchange.server.stopped.wait(seconds)  # the server is slow, not the test
        job_answer(exchange)

    return late


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_per_call_timeout_longer_than_the_clients_is_honoured(mode: str) -> None:
    with LoopbackServer(_answer_after(0.8)) as server:
        job = run(mode, server.url, lambda ark: ark.get_job("bi-1", timeout=5), timeout=0.3)
    assert job.id == "bi-1"


@pytest.mark.parametrize("mode", ["sync", "stock"])
def test_an_unbounded_read_phase_waits_for_a_slow_answer(mode: str) -> None:
    # The generated functions pass the client's timeout as it is: read=None means no
    # read timeout, as on httpx's own transport.
    timeout = httpx.Timeout(0.3, read=None)
    with contextlib.ExitStack() as stack:
        if mode == "stock":
            stack.enter_context(stock_sync_transport())
        server = stack.enter_context(LoopbackServer(_answer_after(1.2)))
        client = make_client(server.url, credentials=STS, timeout=timeout)
        stack.callback(client.get_httpx_client().close)
        answer = get_batch_inference_job.sync(
            client=client, body=GetBatchInferenceJobRequest(id="bi-1")
        )
    assert answer is not None


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_dripping_server_cannot_stretch_a_call_past_its_deadline(mode: str) -> None:
    sent: list[int] = []

    def drip(exchange: Exchange) -> None:
        exchange.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        exchange.send(b"Content-Length: 100000\r\n\r\n")
        for _ in range(100_000):
            if exchange.server.stopped.wait(0.02):
                return
            exchange.send(b" ")
            sent.append(1)

    with LoopbackServer(drip) as server:
        with pytest.raises(DeadlineExceededError):
            run(mode, server.url, lambda ark: ark.get_job("bi-1", deadline=0.5, timeout=5))
        assert len(sent) < 100_000  # it was still dripping when the call gave up


@pytest.mark.parametrize("mode", MODES)
def test_wait_timeout_is_a_deadline_even_when_polls_hang(mode: str) -> None:
    with LoopbackServer(hang) as server, pytest.raises(WaitTimeoutError) as caught:
        run(mode, server.url, lambda ark: ark.wait("bi-1", timeout=0.5, poll_interval=0.1))
    assert caught.value.job is None
    assert caught.value.job_id == "bi-1"
    assert isinstance(caught.value.last_error, DeadlineExceededError)


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_read_timeout_is_a_timeout_and_create_is_not_retried(mode: str) -> None:
    # pyreqwest reports a response that never came as a connect timeout: it is not one.
    with LoopbackServer(hang) as server, pytest.raises(RequestTimeoutError) as caught:
        run(mode, server.url, lambda ark: ark.create_job(**CREATE_FIELDS, timeout=0.2))
    assert caught.value.sent
    assert len(server.exchanges) == 1
    assert "may have been created" in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
def test_a_server_that_trickles_its_headers_is_cut_off_at_the_deadline(mode: str) -> None:
    # httpx's own sync transport cannot do this (decision 0007); reqwest times the
    # wait for a response head as a whole.
    def trickle(exchange: Exchange) -> None:
        exchange.send(b"HTTP/1.1 200 OK\r\n")
        for _ in range(500):
            if exchange.server.stopped.wait(0.02):
                return
            exchange.send(b"X-Slow: 1\r\n")
        exchange.send(b"Content-Length: 0\r\n\r\n")  # no body: no chunk to check the deadline at

    with LoopbackServer(trickle) as server, pytest.raises(DeadlineExceededError):
        run(mode, server.url, lambda ark: ark.get_job("bi-1", deadline=0.5))


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_gzip_body_is_decoded_exactly_once(mode: str) -> None:
    def gzipped(exchange: Exchange) -> None:
        data = json.dumps(envelope(exchange.action, job_dict("bi-1"))).encode()
        exchange.respond(200, gzip.compress(data), {"Content-Encoding": "gzip"})

    with LoopbackServer(gzipped) as server:
        job = run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert job.id == "bi-1"
    assert "gzip" in server.exchanges[0].headers["accept-encoding"]


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_body_a_response_hook_already_read_is_still_the_reply(mode: str) -> None:
    read: list[bytes] = []

    def read_sync(response: httpx.Response) -> None:
        read.append(response.read())

    async def read_async(response: httpx.Response) -> None:
        read.append(await response.aread())

    hooks = {"response": [read_async if mode == "async" else read_sync]}
    with LoopbackServer(job_answer) as server:
        job = run(
            mode, server.url, lambda ark: ark.get_job("bi-1"), httpx_args={"event_hooks": hooks}
        )
    assert job.id == "bi-1"
    assert len(read) == 1
    assert json.loads(read[0])["Result"]["Id"] == "bi-1"


class BreaksMidBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body whose connection is reset after its first chunk."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"ResponseMetadata": {'
        raise httpx.ReadError("connection reset")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"ResponseMetadata": {'
        raise httpx.ReadError("connection reset")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failure_mid_body_names_its_request_on_the_cause(mode: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=BreaksMidBody()))
    with pytest.raises(TransportError) as caught:
        run(
            mode,
            "http://127.0.0.1:9",
            lambda ark: ark.get_job("bi-1"),
            retry=RetryPolicy(max_attempts=1),
            httpx_args={"transport": transport},
        )
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.ReadError)
    assert cause.request.url.params["Action"] == "GetBatchInferenceJob"


@pytest.mark.parametrize("mode", ["sync", "stock"])
def test_closing_the_client_closes_its_connections(mode: str) -> None:
    with LoopbackServer(job_answer) as server:

        def get_then_close(ark: ArkBatch) -> None:
            ark.get_job("bi-1")
            assert not server.peer_closed.is_set()  # kept alive until closed

        run(mode, server.url, get_then_close)
        assert server.peer_closed.wait(10)


def test_the_sync_client_runs_on_pyreqwest_unless_it_is_missing(plain_environment: Any) -> None:
    with ArkBatch("http://127.0.0.1:9", credentials=STS) as ark:
        assert isinstance(ark.client, SignedClient)
        assert ark.client.sync_transport_name() == "pyreqwest"
    with stock_sync_transport(), ArkBatch("http://127.0.0.1:9", credentials=STS) as ark:
        assert isinstance(ark.client, SignedClient)
        assert ark.client.sync_transport_name() == "httpx"


@pytest.mark.parametrize("mode", ["sync", "stock"])
def test_the_generated_functions_raise_what_httpx_raises(mode: str) -> None:
    """On pyreqwest as on httpx's transport: only a connection never made is a ConnectError."""

    def call(url: str, **httpx_args: Any) -> None:
        client = make_client(url, credentials=STS, httpx_args=httpx_args)
        get_batch_inference_job.sync(client=client, body=GetBatchInferenceJobRequest(id="bi-1"))

    def hang_up(exchange: Exchange) -> None:
        exchange.hang_up()

    with contextlib.ExitStack() as stack:
        if mode == "stock":
            stack.enter_context(stock_sync_transport())
        with pytest.raises(httpx.ConnectError):
            call(f"http://127.0.0.1:{free_port()}")
        with LoopbackServer(hang_up) as server, pytest.raises(httpx.TransportError) as cut:
            call(server.url)
        assert not isinstance(cut.value, httpx.ConnectError)
        with LoopbackServer(hang) as server, pytest.raises(httpx.ReadTimeout):
            call(server.url, timeout=httpx.Timeout(0.2))


_INTERRUPTED_CALL = """
import sys
from ark_batch import ArkBatch, Credentials
from client.client_support import stock_sync_transport
if sys.argv[2] == "stock":
    stock_sync_transport().__enter__()
ark = ArkBatch(sys.argv[1], credentials=Credentials("AKLTCTRLC", "secret"), timeout=3)
try:
    ark.get_job("bi-1", retry=None, deadline=30)
except KeyboardInterrupt:
    sys.exit(3)
"""


@pytest.mark.parametrize("mode", ["sync", "stock"])
def test_ctrl_c_during_a_call_is_a_keyboard_interrupt(mode: str) -> None:
    """Never a typed error. On pyreqwest it lands once the request ends, at the latest
    at its read timeout; on httpx's transport at once (decision 0026)."""
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import threading  # noqa: PLC0415

    arrived = threading.Event()

    def hang_once_arrived(exchange: Exchange) -> None:
        arrived.set()
        hang(exchange)

    tests = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tests, *sys.path])}
    with LoopbackServer(hang_once_arrived) as server:
        child = subprocess.Popen(
            [sys.executable, "-c", _INTERRUPTED_CALL, server.url, mode],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert arrived.wait(60)
            child.send_signal(signal.SIGINT)
            _, stderr = child.communicate(timeout=60)
        finally:
            child.kill()
    assert child.returncode == 3, stderr


# --- oversized, hostile JSON, corrupt gzip, odd Retry-After ------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_an_oversized_body_is_refused(mode: str) -> None:
    def huge(exchange: Exchange) -> None:
        exchange.respond(200, b"[" + b"0," * 50_000 + b"0]")

    with LoopbackServer(huge) as server, pytest.raises(ResponseTooLargeError):
        run(mode, server.url, lambda ark: ark.get_job("bi-1"), max_response_bytes=10_000)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [200, 500])
def test_json_nested_100k_deep_is_a_typed_error(mode: str, status: int) -> None:
    def deep(exchange: Exchange) -> None:
        exchange.respond(status, b'{"Result":' + b"[" * 100_000 + b"]" * 100_000 + b"}")

    with LoopbackServer(deep) as server, pytest.raises(UnexpectedResponseError) as caught:
        run(mode, server.url, lambda ark: ark.get_job("bi-1", retry=RetryPolicy(max_attempts=1)))
    assert caught.value.status == status


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_corrupt_gzip_body_is_a_typed_error(mode: str) -> None:
    def corrupt(exchange: Exchange) -> None:
        data = gzip.compress(b'{"Result": {}}')[:-8] + b"garbage!"
        exchange.respond(200, b"\x1f\x8b" + data[2:10] + b"\x00" * 20, {"Content-Encoding": "gzip"})

    with LoopbackServer(corrupt) as server, pytest.raises(UnexpectedResponseError) as caught:
        run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert "decoded" in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_as_a_date_with_a_minus_zero_zone_is_retried(mode: str) -> None:
    answers = iter([True, False])

    def unavailable_once(exchange: Exchange) -> None:
        if next(answers):
            soon = format_datetime(datetime.now(UTC), usegmt=False).replace("+0000", "-0000")
            body = error_envelope(exchange.action, "ServiceUnavailable", "busy")
            exchange.respond(503, body, {"Retry-After": soon})
        else:
            job_answer(exchange)

    with LoopbackServer(unavailable_once) as server:
        job = run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert job.id == "bi-1"
    assert len(server.exchanges) == 2


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_above_the_cap_fails_fast(mode: str) -> None:
    def throttled(exchange: Exchange) -> None:
        body = error_envelope(exchange.action, "FlowLimitExceeded", "slow down")
        exchange.respond(429, body, {"Retry-After": "3600"})

    with LoopbackServer(throttled) as server, pytest.raises(ArkBatchError):
        run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert len(server.exchanges) == 1


# --- redirects: never followed, nothing sent to the other place ---------------------------


@pytest.mark.parametrize("mode", TRANSPORTS)
@pytest.mark.parametrize("status", [301, 307, 308])
def test_redirects_are_never_followed_even_when_httpx_would(mode: str, status: int) -> None:
    with LoopbackServer(job_answer) as elsewhere:

        def redirect(exchange: Exchange) -> None:
            exchange.respond(status, b"", {"Location": f"{elsewhere.url}/steal"})

        with LoopbackServer(redirect) as server, pytest.raises(RedirectError) as caught:
            run(
                mode,
                server.url,
                lambda ark: ark.get_job("bi-1"),
                httpx_args={"follow_redirects": True},
            )
    assert elsewhere.exchanges == []
    assert caught.value.location == f"{elsewhere.url}/steal"
    assert caught.value.location in str(caught.value)
    assert len(server.exchanges) == 1  # not retried


@pytest.mark.parametrize("mode", TRANSPORTS)
@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (304, b"", UnexpectedResponseError),
        (301, b"", UnexpectedResponseError),
        (300, error_envelope("GetBatchInferenceJob", "InternalError", "m"), ApiError),
    ],
)
def test_a_3xx_without_a_location_is_a_typed_error(
    mode: str, status: int, body: Any, error: type[Exception]
) -> None:
    def answer(exchange: Exchange) -> None:
        exchange.respond(status, body)

    with LoopbackServer(answer) as server, pytest.raises(error) as caught:
        run(mode, server.url, lambda ark: ark.get_job("bi-1"), retry=RetryPolicy(max_attempts=1))
    assert not isinstance(caught.value, RedirectError)
    assert caught.value.status == status  # type: ignore[attr-defined]


def test_the_generated_functions_do_not_follow_redirects_either() -> None:
    with LoopbackServer(job_answer) as elsewhere:

        def redirect(exchange: Exchange) -> None:
            exchange.respond(302, b"", {"Location": f"{elsewhere.url}/"})

        with LoopbackServer(redirect) as server:
            client = make_client(server.url, credentials=STS, httpx_args={"follow_redirects": True})
            with pytest.raises(RedirectError):
                get_batch_inference_job.sync(
                    client=client, body=GetBatchInferenceJobRequest(id="bi-1")
                )

            async def main() -> None:
                await get_batch_inference_job.asyncio(
                    client=client, body=GetBatchInferenceJobRequest(id="bi-1")
                )

            with pytest.raises(RedirectError):
                asyncio.run(main())
    assert elsewhere.exchanges == []


# --- TLS and proxies ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_tls_verification_is_on_by_default_and_verify_false_turns_it_off(
    mode: str, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    write_self_signed_certificate("localhost", cert, key)
    with LoopbackServer(job_answer, tls=(cert, key)) as server:
        with pytest.raises(ConnectError) as caught:
            run(mode, server.url, lambda ark: ark.get_job("bi-1"))
        job = run(mode, server.url, lambda ark: ark.get_job("bi-1"), httpx_args={"verify": False})
    assert server.url in str(caught.value)  # the message names where it tried
    assert job.id == "bi-1"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.filterwarnings("ignore:`cert=...` is deprecated:DeprecationWarning")
def test_a_client_certificate_from_httpx_args_is_presented(mode: str, tmp_path: Path) -> None:
    server_cert, server_key = tmp_path / "server.pem", tmp_path / "server-key.pem"
    client_cert, client_key = tmp_path / "client.pem", tmp_path / "client-key.pem"
    write_self_signed_certificate("localhost", server_cert, server_key)
    write_self_signed_certificate("client", client_cert, client_key)
    tls = (server_cert, server_key)
    with LoopbackServer(job_answer, tls=tls, client_ca=client_cert) as server:
        with pytest.raises(TransportError):
            run(mode, server.url, lambda ark: ark.get_job("bi-1"), httpx_args={"verify": False})
        args = {"verify": False, "cert": (str(client_cert), str(client_key))}
        job = run(mode, server.url, lambda ark: ark.get_job("bi-1"), httpx_args=args)
    assert job.id == "bi-1"


@pytest.mark.parametrize("mode", MODES)
def test_both_clients_honour_http_proxy_from_the_environment(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LoopbackServer(job_answer) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        job = run(mode, "http://ark.invalid", lambda ark: ark.get_job("bi-1"))
    assert job.id == "bi-1"
    [exchange] = proxy.exchanges
    assert exchange.request_line.startswith("POST http://ark.invalid/?Action=GetBatchInferenceJob")
    assert exchange.headers["host"] == "ark.invalid"


# --- clock skew -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_clock_skew_is_corrected_from_the_server_date_and_retried_once(mode: str) -> None:
    server_time = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)

    def skewed(exchange: Exchange) -> None:
        signed = datetime.strptime(exchange.headers["x-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        date = {"Date": format_datetime(server_time, usegmt=True)}
        if abs((signed - server_time).total_seconds()) > 300:
            body = error_envelope(exchange.action, "InvalidTimestamp", "X-Date is too far off")
            exchange.respond(401, body, date)
        else:
            exchange.respond(200, envelope(exchange.action, job_dict("bi-1")), date)

    with LoopbackServer(skewed) as server:
        job = run(mode, server.url, lambda ark: ark.get_job("bi-1"))
    assert job.id == "bi-1"
    assert len(server.exchanges) == 2
    second = parse_authorization(server.exchanges[1].headers["authorization"])
    assert second.date == server_time.strftime("%Y%m%d")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("date", ["Fri, 31 Dec 9999 23:59:58 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"])
def test_an_implausible_server_date_is_not_taken_as_the_clock(mode: str, date: str) -> None:
    answers = iter([401, 200, 200])

    def absurd(exchange: Exchange) -> None:
        status = next(answers)
        if status == 401:
            body = error_envelope(exchange.action, "InvalidTimestamp", "X-Date is too far off")
        else:
            body = envelope(exchange.action, job_dict("bi-1"))
        exchange.respond(status, body, {"Date": date})

    def twice(ark: Any) -> Any:
        if isinstance(ark, ArkBatch):
            with pytest.raises(AuthenticationError):
                ark.get_job("bi-1")
            return ark.get_job("bi-1")

        async def calls() -> Any:
            with pytest.raises(AuthenticationError):
                await ark.get_job("bi-1")
            return await ark.get_job("bi-1")

        return calls()

    with LoopbackServer(absurd) as server:
        job = run(mode, server.url, twice)
    assert job.id == "bi-1"  # the client still signs with its own clock
    assert len(server.exchanges) == 2  # the 401 was not retried with a corrected clock
    signed = server.exchanges[1].headers["x-date"]
    assert abs(datetime.strptime(signed, "%Y%m%dT%H%M%SZ").year - datetime.now(UTC).year) <= 1


@pytest.mark.parametrize("mode", MODES)
def test_a_signing_clock_can_be_passed_in(mode: str) -> None:
    fixed = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with LoopbackServer(job_answer) as server:
        run(mode, server.url, lambda ark: ark.get_job("bi-1"), signing_clock=lambda: fixed)
    assert server.exchanges[0].headers["x-date"] == "20300102T030405Z"


# --- logging --------------------------------------------------------------------------------


def test_retries_are_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([True, False])

    def fail_once(exchange: Exchange) -> None:
        if next(answers):
            exchange.respond(500, error_envelope(exchange.action, "InternalError", "boom"))
        else:
            job_answer(exchange)

    with caplog.at_level(logging.INFO, logger="ark_batch"), LoopbackServer(fail_once) as server:
        run("sync", server.url, lambda ark: ark.get_job("bi-1"))
    [record] = [r for r in caplog.records if r.name == "ark_batch"]
    assert "GetBatchInferenceJob attempt 1 of 4 failed" in record.getMessage()
    assert SECRET not in caplog.text
    assert TOKEN not in caplog.text


# --- the command line: one line on stderr, no traceback, no secret ------------------------


def _html_forbidden(exchange: Exchange) -> None:
    exchange.respond(403, b"<html><body>Forbidden by proxy</body></html>")


def _deep_json(exchange: Exchange) -> None:
    exchange.respond(200, b'{"Result":' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def _corrupt_gzip(exchange: Exchange) -> None:
    exchange.respond(200, b"\x1f\x8b\x08\x00" + b"\x00" * 30, {"Content-Encoding": "gzip"})


def _redirect(exchange: Exchange) -> None:
    exchange.respond(301, b"", {"Location": "http://elsewhere.invalid/"})


@pytest.mark.parametrize(
    "handler", [_html_forbidden, _deep_json, _corrupt_gzip, _redirect], ids=lambda h: h.__name__
)
def test_the_cli_reports_a_hostile_answer_in_one_line(handler: Callable[[Exchange], None]) -> None:
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    env = {
        **os.environ,
        "VOLCENGINE_ACCESS_KEY": STS.access_key,
        "VOLCENGINE_SECRET_KEY": SECRET,
        "VOLCENGINE_SESSION_TOKEN": TOKEN,
    }
    with LoopbackServer(handler) as server:
        result = subprocess.run(
            [sys.executable, "-m", "ark_batch.cli", "get", "bi-1", "--endpoint", server.url],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert TOKEN not in result.stderr + result.stdout


def test_the_cli_http_timeout_bounds_a_call_to_a_hung_server() -> None:
    from client.cli_support import run  # noqa: PLC0415

    with LoopbackServer(hang) as server:
        result = run("--http-timeout", "0.5", "get", "bi-1", "--endpoint", server.url)
        asked = len(server.exchanges)
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: DeadlineExceededError: "), line
    assert asked >= 1


def test_the_cli_http_timeout_must_be_positive() -> None:
    from client.cli_support import run  # noqa: PLC0415

    result = run("--http-timeout", "0", "list")
    assert result.exit_code == 2
    assert "--http-timeout" in result.stderr
