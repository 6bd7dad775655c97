"""Client cost per request and async throughput: ark-batch vs the official SDK.

Run with ``python -m benchmarks client`` (or ``nox -s bench -- client``). A small HTTP/1.1
stub server runs in **another process** on loopback; it verifies every signature (with
``ark_batch.signing``) and answers canned Get/List/Create bodies, so both clients do the
full job: sign, send, read, parse into models.

1. Client CPU per sync request (``time.process_time`` of this process only): the official
   SDK's ``ARKApi.list_batch_inference_jobs`` (it has no Get) against ``ArkBatch.list_jobs``
   (List vs List, 10 jobs per page), plus ``ArkBatch.get_job``. Auto-retry is off in the
   SDK. Target: official / ours >= 1.2 for List.
2. Throughput: ``AsyncArkBatch.get_job``/``list_jobs`` with 32 requests in flight, against
   the official SDK's sequential sync throughput. Target: ours >= the SDK's. Measured with
   AsyncArkBatch's default (8 connections on its native-asyncio network backend), with 2
   and 100 connections (httpcore's pool bookkeeping grows with connections; see
   toolchain-notes section 5), and with httpx's stock anyio transport at 8 connections.

The official SDK is imported lazily inside ``run()``: it is never a package dependency.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

ACCESS_KEY = "AKLTARKBATCHEMULATOR000000"
SECRET_KEY = "ark-batch-emulator-development-secret"
REGION = "cn-beijing"
TARGET_CPU_RATIO = 1.2
CONCURRENCY = 32
DEFAULT_POOL = "AsyncArkBatch default (8 conn., asyncio)"
#: Async client set-ups compared: (connections, use httpx's own anyio transport).
POOLS: dict[str, tuple[int | None, bool]] = {
    DEFAULT_POOL: (8, False),
    "2 connections, asyncio backend": (2, False),
    "100 connections, asyncio backend": (None, False),
    "8 connections, httpx anyio transport": (8, True),
}


# --- the stub server (runs in a child process) --------------------------------------------


def _job(n: int) -> dict[str, Any]:
    return {
        "Id": f"bi-20240918194641-{n:05d}",
        "Name": f"批量推理任务 {n}",
        "Description": "这是一个批量推理任务",
        "ProjectName": "default",
        "ModelReference": {"FoundationModel": {"Name": "doubao-pro-32k", "ModelVersion": "240615"}},
        "InputFileTosLocation": {
            "BucketName": "my-bucket-name",
            "ObjectKey": "batch-inference-job/dataset/my-job.jsonl",
        },
        "OutputDirTosLocation": {
            "BucketName": "my-bucket-name",
            "ObjectKey": "batch-inference-job/output/",
        },
        "CompletionWindow": "1d",
        "Status": {
            "Phase": "Completed",
            "PhaseTime": "2024-09-18T11:50:00Z",
            "Message": "批量推理任务已完成",
        },
        "RequestCounts": {"Total": 2, "Completed": 2, "Failed": 0},
        "Tags": [
            {"Key": "sys:ark:createdBy", "Value": "IAMUser/30805480/test@bytedance.com"},
            {"Key": "test_key", "Value": "test_value"},
        ],
        "CreateTime": "2024-09-18T11:46:41Z",
        "UpdateTime": "2024-09-18T11:50:00Z",
        "ExpireTime": "2024-09-19T11:46:41Z",
    }


def _bodies() -> dict[str, bytes]:
    def envelope(action: str, result: Any) -> bytes:
        metadata = {
            "RequestId": "2024091910512025A35A851624E4541879",
            "Action": action,
            "Version": "2024-01-01",
            "Service": "ark",
            "Region": REGION,
        }
        return json.dumps({"ResponseMetadata": metadata, "Result": result}).encode()

    items = [_job(n) for n in range(10)]
    return {
        "GetBatchInferenceJob": envelope("GetBatchInferenceJob", _job(0)),
        "ListBatchInferenceJobs": envelope(
            "ListBatchInferenceJobs",
            {"TotalCount": 10, "PageNumber": 1, "PageSize": 10, "Items": items},
        ),
        "CreateBatchInferenceJob": envelope("CreateBatchInferenceJob", {"Id": _job(0)["Id"]}),
    }


class _StubProtocol(asyncio.Protocol):
    bodies: ClassVar[dict[str, bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            lines = head.split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            body = self.buffer[head_end + 4 : end]
            self.buffer = self.buffer[end:]
            self._respond(lines[0], headers, body)

    def _respond(self, request_line: str, headers: dict[str, str], body: bytes) -> None:
        from ark_batch.signing import compute_signature, parse_authorization  # noqa: PLC0415

        method, target, _ = request_line.split(" ", 2)
        path, _, query = target.partition("?")
        action = ""
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key == "Action":
                action = value
        status, payload = "200 OK", self.bodies.get(action)
        try:
            auth = parse_authorization(headers["authorization"])
            expected = compute_signature(
                method=method,
                path=path,
                query=query,
                headers=headers,
                signed_headers=auth.signed_headers,
                body_sha256=hashlib.sha256(body).hexdigest(),
                x_date=headers["x-date"],
                date=auth.date,
                region=auth.region,
                service=auth.service,
                secret_key=SECRET_KEY,
            )
            if not hmac.compare_digest(expected, auth.signature):
                raise ValueError("signature mismatch")
        except (KeyError, ValueError) as exc:
            status, payload = "401 Unauthorized", json.dumps({"error": str(exc)}).encode()
        if payload is None:
            status, payload = "404 Not Found", b"{}"
        self.transport.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )


def serve() -> None:
    """Child-process entry: print the port, then serve until stdin closes."""
    _StubProtocol.bodies = _bodies()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_StubProtocol, "127.0.0.1", 0, backlog=256)
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()

    asyncio.run(main())


class StubServer:
    """The stub in a child process (so its CPU is not counted as the client's)."""

    def __enter__(self) -> StubServer:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


# --- measurements -----------------------------------------------------------------------


def _cpu_per_call(call: Callable[[], object], ops: int) -> float:
    """Client CPU seconds per call (this process, all threads)."""
    start = time.process_time()
    for _ in range(ops):
        call()
    return (time.process_time() - start) / ops


def _wall_rate(call: Callable[[], object], ops: int) -> float:
    start = time.perf_counter()
    for _ in range(ops):
        call()
    return ops / (time.perf_counter() - start)


def _official_list(url: str) -> Callable[[], object]:
    import volcenginesdkark  # noqa: PLC0415
    import volcenginesdkcore  # noqa: PLC0415

    configuration = volcenginesdkcore.Configuration()
    configuration.ak = ACCESS_KEY
    configuration.sk = SECRET_KEY
    configuration.region = REGION
    configuration.host = url
    configuration.auto_retry = False
    api = volcenginesdkark.ARKApi(volcenginesdkcore.ApiClient(configuration))
    request = volcenginesdkark.ListBatchInferenceJobsRequest(page_number=1, page_size=10)

    def call() -> object:
        response = api.list_batch_inference_jobs(request)
        assert len(response.items) == 10
        return response

    return call


def _async_rate(url: str, action: str, ops: int, setup: tuple[int | None, bool]) -> float:
    """Requests per second with CONCURRENCY requests in flight."""
    import httpx  # noqa: PLC0415

    from ark_batch.credentials import Credentials  # noqa: PLC0415
    from ark_batch.facade import AsyncArkBatch  # noqa: PLC0415

    max_connections, anyio_transport = setup

    async def main() -> float:
        args = None
        if anyio_transport:  # httpx's stock transport (httpcore over anyio)
            limits = httpx.Limits(max_connections=max_connections)
            args = {"transport": httpx.AsyncHTTPTransport(limits=limits)}
        async with AsyncArkBatch(
            url,
            credentials=Credentials(ACCESS_KEY, SECRET_KEY),
            max_connections=max_connections,
            httpx_args=args,
        ) as ark:

            async def one() -> object:
                if action == "get":
                    return await ark.get_job("bi-20240918194641-00000")
                return await ark.list_jobs(page_size=10)

            async def worker(count: int) -> None:
                for _ in range(count):
                    await one()

            await asyncio.gather(*(worker(2) for _ in range(CONCURRENCY)))  # warm-up
            start = time.perf_counter()
            await asyncio.gather(*(worker(ops // CONCURRENCY) for _ in range(CONCURRENCY)))
            return (ops // CONCURRENCY) * CONCURRENCY / (time.perf_counter() - start)

    return asyncio.run(main())


def _startup_seconds(args: list[str], repeats: int = 7) -> float:
    """Median wall time of a fresh interpreter running ``args``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True, timeout=60)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(ops: int = 400, repeats: int = 5, startup_repeats: int = 7) -> list[str]:
    """Measure both clients against one stub server; return printable lines."""
    from ark_batch.credentials import Credentials  # noqa: PLC0415
    from ark_batch.facade import ArkBatch  # noqa: PLC0415
    from ark_batch.retries import NO_RETRY  # noqa: PLC0415

    lines: list[str] = []
    with StubServer() as stub:
        ark = ArkBatch(stub.url, credentials=Credentials(ACCESS_KEY, SECRET_KEY), retry=NO_RETRY)
        calls: dict[str, Callable[[], object]] = {
            "official list": _official_list(stub.url),
            "ours list": lambda: ark.list_jobs(page_size=10),
            "ours get": lambda: ark.get_job("bi-20240918194641-00000"),
        }
        cpu: dict[str, list[float]] = {name: [] for name in calls}
        sync_rates: dict[str, list[float]] = {"official list": [], "ours list": []}
        async_rates: dict[tuple[str, str], list[float]] = {
            (action, label): [] for action in ("list", "get") for label in POOLS
        }
        for call in calls.values():  # warm-up: imports, connections, signing keys
            for _ in range(20):
                call()
        # Everything interleaved per repeat, so load from other processes hits all alike.
        for _ in range(repeats):
            for name, call in calls.items():
                cpu[name].append(_cpu_per_call(call, ops))
            for name, samples in sync_rates.items():
                samples.append(_wall_rate(calls[name], ops))
            for (action, label), samples in async_rates.items():
                samples.append(_async_rate(stub.url, action, ops * 2, POOLS[label]))
        ark.close()
    official_rate = statistics.median(sync_rates["official list"])
    ours_sync_rate = statistics.median(sync_rates["ours list"])
    rates = {key: statistics.median(values) for key, values in async_rates.items()}
    official, ours_list, ours_get = (
        statistics.median(cpu[name]) * 1e6 for name in ("official list", "ours list", "ours get")
    )
    ratio = official / ours_list
    verdict = "met" if ratio >= TARGET_CPU_RATIO else "NOT met"
    lines.append(
        f"client CPU/request (sync)  official List {official:.0f} us | ours List "
        f"{ours_list:.0f} us | ours Get {ours_get:.0f} us | List ratio {ratio:.2f}x "
        f"(target >= {TARGET_CPU_RATIO}x: {verdict})"
    )
    lines.append(
        f"sync throughput            official List {official_rate:.0f} req/s | ours List "
        f"{ours_sync_rate:.0f} req/s"
    )
    for (action, label), rate in rates.items():
        lines.append(
            f"async, {CONCURRENCY} in flight, {label:<40} ours {action.capitalize():4} "
            f"{rate:.0f} req/s"
        )
    default_list = rates[("list", DEFAULT_POOL)]
    verdict = "met" if default_list >= official_rate else "NOT met"
    lines.append(
        f"async List (default pool) {default_list:.0f} req/s vs official sync List "
        f"{official_rate:.0f} req/s ({default_list / official_rate:.2f}x; target >= 1x: {verdict})"
    )
    lines.append(
        f"medians of {repeats} interleaved repeats x {ops} requests; stub server in a "
        "separate process verifies every signature"
    )
    bare = _startup_seconds(["-c", "pass"], startup_repeats)
    cli_help = _startup_seconds(["-m", "ark_batch.cli", "--help"], startup_repeats)
    lines.append(
        f"ark-batch --help startup {cli_help * 1000:.0f} ms (bare interpreter {bare * 1000:.0f} ms)"
    )
    return lines


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        for line in run():
            print(line)
