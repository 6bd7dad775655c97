"""Helpers for the client and CLI tests: a fake clock, a scripted fake service, jobs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_support import DEV_CREDENTIALS

from ark_batch import ArkBatch, AsyncArkBatch
from ark_batch._flow import Flow, Sleep
from ark_batch.auth import VolcengineAuth
from ark_batch.credentials import Credentials
from ark_batch.retries import DEFAULT_RETRY
from ark_batch.waiter import wait_flow
from ark_batch_client import Client
from ark_batch_client.models import BatchInferenceJob

#: The emulator's development pair, under the name the client tests use.
DEV = DEV_CREDENTIALS
BASE_URL = "https://ark.test"


class FakeTime:
    """A monotonic clock and wall clock that only move when something sleeps."""

    def __init__(self) -> None:
        self.monotonic = 1000.0
        self.wall = datetime.now(UTC).replace(microsecond=0)
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.monotonic

    def now(self) -> datetime:
        return self.wall

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.monotonic += seconds
        # At least one second of wall time, so each attempt gets a new X-Date.
        self.wall += timedelta(seconds=max(1.0, seconds))

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def job_dict(job_id: str, phase: str = "Queued", **overrides: Any) -> dict[str, Any]:
    """A BatchInferenceJob as the service returns it."""
    job: dict[str, Any] = {
        "Id": job_id,
        "Name": f"job {job_id}",
        "ProjectName": "default",
        "ModelReference": {"FoundationModel": {"Name": "doubao-pro-32k", "ModelVersion": "240615"}},
        "InputFileTosLocation": {"BucketName": "bucket", "ObjectKey": f"in/{job_id}.jsonl"},
        "OutputDirTosLocation": {"BucketName": "bucket", "ObjectKey": "out/"},
        "CompletionWindow": "1d",
        "Status": {"Phase": phase, "PhaseTime": "2024-09-18T11:50:00Z", "Message": ""},
        "RequestCounts": {"Total": 10, "Completed": 0, "Failed": 0},
        "CreateTime": "2024-09-18T11:46:41Z",
        "UpdateTime": "2024-09-18T11:50:00Z",
        "ExpireTime": "2024-09-19T11:46:41Z",
    }
    job.update(overrides)
    return job


def envelope(action: str, result: Any) -> dict[str, Any]:
    return {
        "ResponseMetadata": {
            "RequestId": "20240918194640ECB302768CB287CEDAC6",
            "Action": action,
            "Version": "2024-01-01",
            "Service": "ark",
            "Region": "cn-beijing",
        },
        "Result": result,
    }


def error_envelope(action: str, code: str, message: str, code_n: int | None = None) -> Any:
    error: dict[str, Any] = {"Code": code, "Message": message}
    if code_n is not None:
        error["CodeN"] = code_n
    return {
        "ResponseMetadata": {
            "RequestId": "2024091819464000000000000000ERR001",
            "Action": action,
            "Version": "2024-01-01",
            "Service": "ark",
            "Region": "cn-beijing",
            "Error": error,
        }
    }


Responder = Callable[[httpx.Request], httpx.Response]


class ScriptedService:
    """A MockTransport handler: scripted responses first, then ``default`` per action."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.script: list[Responder] = []
        self.jobs: list[dict[str, Any]] = []
        #: When set, List reports this TotalCount instead of the real one.
        self.reported_total: int | None = None
        #: Page numbers (1-based) answered with no items.
        self.empty_pages: set[int] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)(request)
        action = request.url.params["Action"]
        body = json.loads(request.content)
        if action == "GetBatchInferenceJob":
            for job in self.jobs:
                if job["Id"] == body["Id"]:
                    return httpx.Response(200, json=envelope(action, job))
            return httpx.Response(
                404,
                json=error_envelope(action, "InvalidBatchInferenceJob.NotFound", "no such job"),
            )
        if action == "ListBatchInferenceJobs":
            number, size = body.get("PageNumber", 1), body.get("PageSize", 10)
            items = [] if number in self.empty_pages else self.jobs[(number - 1) * size :][:size]
            total = len(self.jobs) if self.reported_total is None else self.reported_total
            result = {"TotalCount": total, "PageNumber": number, "PageSize": size, "Items": items}
            return httpx.Response(200, json=envelope(action, result))
        job_id = f"bi-20240918194641-{len(self.jobs):05d}"
        self.jobs.append(job_dict(job_id))
        return httpx.Response(200, json=envelope(action, {"Id": job_id}))

    def then(self, responder: Responder) -> ScriptedService:
        self.script.append(responder)
        return self

    def then_error(
        self,
        status: int,
        code: str,
        message: str = "injected",
        headers: dict[str, str] | None = None,
    ) -> ScriptedService:
        def respond(request: httpx.Request) -> httpx.Response:
            action = request.url.params["Action"]
            return httpx.Response(
                status, json=error_envelope(action, code, message), headers=headers
            )

        return self.then(respond)

    def then_ok(self, result: Any) -> ScriptedService:
        """Answer the next request with success and this ``Result``."""

        def respond(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=envelope(request.url.params["Action"], result))

        return self.then(respond)

    def then_raise(self, exc_type: type[httpx.TransportError]) -> ScriptedService:
        def respond(request: httpx.Request) -> httpx.Response:
            raise exc_type("injected", request=request)

        return self.then(respond)


class Recorder:
    """A MockTransport handler: every request answered with ``status`` and ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.requests: list[httpx.Request] = []

    @property
    def urls(self) -> list[str]:
        return [str(request.url) for request in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)


def client_for(recorder: Recorder, base_url: str = "https://open.volcengineapi.com") -> Client:
    """A generated client, unsigned, answered by ``recorder``."""
    return Client(base_url=base_url, httpx_args={"transport": httpx.MockTransport(recorder)})


def mock_client(
    service: ScriptedService,
    *,
    clock: Callable[[], datetime] | None = None,
    asynchronous: bool = False,
) -> Client:
    """A generated client signed with DEV, answered by ``service``."""
    auth = VolcengineAuth(DEV, "cn-beijing", clock=clock)
    client = Client(base_url=BASE_URL)
    if asynchronous:
        client.set_async_httpx_client(
            httpx.AsyncClient(base_url=BASE_URL, auth=auth, transport=httpx.MockTransport(service))
        )
    else:
        client.set_httpx_client(
            httpx.Client(base_url=BASE_URL, auth=auth, transport=httpx.MockTransport(service))
        )
    return client


def wait_for_job(
    get: Callable[[str], BatchInferenceJob],
    job_id: str,
    *,
    sleep: Callable[[float], None] = lambda seconds: None,
    clock: Callable[[], float] = lambda: 0.0,
    **options: Any,
) -> BatchInferenceJob:
    """Drive the waiter's flow over a plain ``get`` (no HTTP), sleeping with ``sleep``."""

    def poll(job_id: str, deadline: float | None) -> Flow[BatchInferenceJob]:
        return get(job_id)
        yield  # a generator that never steps: the answer is immediate

    flow = wait_flow(poll, job_id, clock=clock, policy=DEFAULT_RETRY, **options)
    try:
        step = next(flow)
        while True:
            assert isinstance(step, Sleep)
            sleep(step.seconds)
            step = flow.send(None)
    except StopIteration as stop:
        job: BatchInferenceJob = stop.value
        return job


#: Variables that decide a sync transport: trust roots and proxies.
_TRANSPORT_ENVIRONMENT = ["SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]


def clear_transport_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Unset the trust-root and proxy variables, whatever the machine sets."""
    for name in [*_TRANSPORT_ENVIRONMENT, "NO_PROXY"]:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@contextlib.contextmanager
def stock_sync_transport() -> Iterator[None]:
    """Sync httpx clients made inside are built as if pyreqwest were not installed."""
    name = "pyreqwest.client"
    saved = sys.modules.get(name)
    sys.modules[name] = None  # type: ignore[assignment]  # import now raises ImportError
    try:
        yield
    finally:
        if saved is None:
            del sys.modules[name]
        else:
            sys.modules[name] = saved


def write_self_signed_certificate(host: str, cert_path: Path, key_path: Path) -> None:
    """A one-day certificate for ``host`` and its key, as PEM files."""
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


class Exchange:
    """One request received by :class:`LoopbackServer`, and its raw connection."""

    def __init__(self, server: LoopbackServer, conn: socket.socket, head: bytes, body: bytes):
        self.server = server
        self.conn = conn
        lines = head.decode("latin-1").split("\r\n")
        self.request_line = lines[0]
        self.headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        self.body = body
        self.closed = False

    @property
    def action(self) -> str:
        action: str = httpx.URL(self.request_line.split(" ")[1]).params.get("Action", "")
        return action

    def send(self, data: bytes) -> None:
        self.conn.sendall(data)

    def hang_up(self, *, reset: bool = False) -> None:
        """Close the connection after this exchange; ``reset`` sends a TCP RST."""
        self.closed = True
        if reset:
            import struct  # noqa: PLC0415

            self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def respond(
        self,
        status: int,
        body: bytes | Any,
        headers: dict[str, str] | None = None,
        *,
        length: int | None = None,
    ) -> None:
        """A whole response; ``body`` is bytes or JSON; ``length`` overrides Content-Length."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        fields = {"Content-Type": "application/json", **(headers or {})}
        fields["Content-Length"] = str(len(data) if length is None else length)
        head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
        self.send(f"HTTP/1.1 {status} X\r\n{head}\r\n".encode() + data)


Handler = Callable[[Exchange], None]


class LoopbackServer:
    """A raw HTTP/1.1 server on loopback whose answers a test scripts byte by byte.

    ``handler(exchange)`` answers each request (or hangs up, stalls, drips...). Handlers
    that wait do so on :attr:`stopped`, which is set when the server stops, so nothing
    is left hanging. ``exchanges`` lists every request received; :attr:`peer_closed`
    is set when a client closes its end.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        tls: tuple[Path, Path] | None = None,
        client_ca: Path | None = None,
    ) -> None:
        self.handler = handler
        self.exchanges: list[Exchange] = []
        self.stopped = threading.Event()
        #: Set when a client closes a connection it had kept open.
        self.peer_closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._tls = tls
        self._client_ca = client_ca
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []
        self.port = self._listener.getsockname()[1]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        for conn in self._connections:  # wake handlers blocked reading a kept-alive connection
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=10)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._tls:
                import ssl  # noqa: PLC0415

                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(str(self._tls[0]), str(self._tls[1]))
                if self._client_ca is not None:  # mutual TLS: the client must show this
                    context.verify_mode = ssl.CERT_REQUIRED
                    context.load_verify_locations(str(self._client_ca))
                try:
                    conn = context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    conn.close()
                    continue
            self._connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while not self.stopped.is_set():
                while b"\r\n\r\n" not in buffer:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        self.peer_closed.set()
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                exchange = Exchange(self, conn, head, b"")
                length = int(exchange.headers.get("content-length", "0"))
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                exchange.body, buffer = buffer[:length], buffer[length:]
                self.exchanges.append(exchange)
                try:
                    self.handler(exchange)
                except OSError:
                    return
                if exchange.closed:
                    return


# --- running one case on each client mode (sync, stock, async) ---------------------------

SECRET = "fault-suite-secret-key"
TOKEN = "fault-suite-session-token"
STS = Credentials("AKLTFAULTSUITE", SECRET, TOKEN)
MODES = ["sync", "async"]
#: The modes plus ArkBatch on httpx's own sync transport.
TRANSPORTS = ["sync", "stock", "async"]


def run(mode: str, url: str, op: Callable[[Any], Any], **kwargs: Any) -> Any:
    """``op(ark)`` on a fresh ArkBatch (``sync``, ``stock``) or AsyncArkBatch (awaited)."""
    kwargs.setdefault("credentials", STS)
    sleeps: list[float] = kwargs.pop("sleeps", [])

    async def async_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    if mode == "stock":
        with stock_sync_transport():
            return run("sync", url, op, sleeps=sleeps, **kwargs)
    if mode == "sync":
        with ArkBatch(url, sleep=sleeps.append, **kwargs) as ark:
            return op(ark)

    async def main() -> Any:
        async with AsyncArkBatch(url, sleep=async_sleep, **kwargs) as ark:
            return await op(ark)

    return asyncio.run(main())


def hang(exchange: Exchange) -> None:
    """A server that never answers (until it stops)."""
    exchange.server.stopped.wait()


def job_answer(exchange: Exchange) -> None:
    exchange.respond(200, envelope("GetBatchInferenceJob", job_dict("bi-1", "Completed")))
