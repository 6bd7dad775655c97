"""Client CPU per request and throughput, side by side with the official SDK in one run.

Run with ``python -m benchmarks client`` (or ``nox -s bench -- client``).

* The stub server (`benchmarks.stub`: uvicorn + httptools, every signature verified) runs
  in a child process pinned to one core; this process is pinned to another, so the
  client's CPU (``time.process_time``, this process only) is its own and nothing competes.
* Every client does Create, Get and List (the official SDK has no Get; a Get is set
  against its Create, the other small-bodied call). List parses a 10-job page, which the
  SDK does cheaply, so Create is the fairer sync comparison.
* Sync: the official SDK (``ARKApi``, auto-retry off), the generated functions on
  ``make_client()`` (on pyreqwest's transport when installed, and on httpx's own),
  ``ArkBatch``, and the floor (stdlib ``http.client`` + our signer,
  ``json.loads`` only).
* Async, 32 requests in flight: ``AsyncArkBatch(max_connections=N)`` with its defaults
  (the ``httpx-aiohttp`` transport when installed), and on httpx's stock transport, at
  N = 8, 32 and 100; the generated ``asyncio`` functions on ``make_client()``.
  Throughput is set against the SDK's sync throughput (it has no async client).
* All of it interleaved per repeat, so load from other processes hits every client alike;
  the figures are medians. The machine it ran on is printed first.

The official SDK is imported lazily: it is not a package dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.stub import ACCESS_KEY, JOB_ID, LIST_PAGE, REGION, SECRET_KEY, StubServer

ACTIONS = ("Create", "Get", "List")
ASYNC_ACTIONS = ("Create", "List")
IN_FLIGHT = 32
POOL_SIZES = (8, 32, 100)
TARGET_CPU_RATIO = 1.2
TARGET_ASYNC_RATIO = 2.0
OFFICIAL = "official SDK ARKApi (sync)"
GENERATED = "generated sync on make_client()"
GENERATED_STOCK = "generated sync, httpx's own transport"
FACADE = "ArkBatch (sync)"
FACADE_STOCK = "ArkBatch (sync), httpx's own transport"
FLOOR = "http.client + our signer (floor)"
SEED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seeds"
VERSIONS = (
    "httpx",
    "httpcore",
    "h11",
    "httpx-aiohttp",
    "aiohttp",
    "uvicorn",
    "httptools",
    "volcenginesdk-core",
    "volcenginesdk-ark",
    "urllib3",
    "pyreqwest",
)

Call = Callable[[], object]
AsyncCall = Callable[[], Awaitable[object]]


def _create_seed() -> dict[str, Any]:
    seed: dict[str, Any] = json.loads((SEED / "create_request.json").read_text("utf-8"))
    return seed


# --- sync clients -------------------------------------------------------------------------


def _official(url: str) -> dict[str, Call]:
    import volcenginesdkark as ark  # noqa: PLC0415
    import volcenginesdkcore  # noqa: PLC0415

    configuration = volcenginesdkcore.Configuration()
    configuration.ak, configuration.sk = ACCESS_KEY, SECRET_KEY
    configuration.region, configuration.host = REGION, url
    configuration.auto_retry = False
    api = ark.ARKApi(volcenginesdkcore.ApiClient(configuration))
    seed = _create_seed()
    model = seed["ModelReference"]["FoundationModel"]
    create = ark.CreateBatchInferenceJobRequest(
        name=seed["Name"],
        description=seed["Description"],
        project_name=seed["ProjectName"],
        completion_window=seed["CompletionWindow"],
        model_reference=ark.ModelReferenceForCreateBatchInferenceJobInput(
            foundation_model=ark.FoundationModelForCreateBatchInferenceJobInput(
                name=model["Name"], model_version=model["ModelVersion"]
            )
        ),
        input_file_tos_location=ark.InputFileTosLocationForCreateBatchInferenceJobInput(
            bucket_name=seed["InputFileTosLocation"]["BucketName"],
            object_key=seed["InputFileTosLocation"]["ObjectKey"],
        ),
        output_dir_tos_location=ark.OutputDirTosLocationForCreateBatchInferenceJobInput(
            bucket_name=seed["OutputDirTosLocation"]["BucketName"],
            object_key=seed["OutputDirTosLocation"]["ObjectKey"],
        ),
        tags=[
            ark.TagForCreateBatchInferenceJobInput(key=t["Key"], value=t["Value"])
            for t in seed["Tags"]
        ],
    )
    page = ark.ListBatchInferenceJobsRequest(page_number=1, page_size=LIST_PAGE)

    def create_job() -> object:
        response = api.create_batch_inference_job(create)
        assert response.id == JOB_ID
        return response

    def list_jobs() -> object:
        response = api.list_batch_inference_jobs(page)
        assert len(response.items) == LIST_PAGE
        return response

    return {"Create": create_job, "List": list_jobs}


def _generated(
    url: str, sync_transport: Any = "auto"
) -> tuple[dict[str, Call], Callable[[], None]]:
    from ark_batch import make_client  # noqa: PLC0415
    from ark_batch.credentials import Credentials  # noqa: PLC0415
    from ark_batch_client.api.batch_inference_job import (  # noqa: PLC0415
        create_batch_inference_job,
        get_batch_inference_job,
        list_batch_inference_jobs,
    )
    from ark_batch_client.models import (  # noqa: PLC0415
        CreateBatchInferenceJobRequest,
        CreateBatchInferenceJobResponse,
        GetBatchInferenceJobRequest,
        GetBatchInferenceJobResponse,
        ListBatchInferenceJobsRequest,
        ListBatchInferenceJobsResponse,
    )

    client = make_client(
        url, credentials=Credentials(ACCESS_KEY, SECRET_KEY), sync_transport=sync_transport
    )
    create = CreateBatchInferenceJobRequest.from_dict(_create_seed())
    get = GetBatchInferenceJobRequest(id=JOB_ID)
    page = ListBatchInferenceJobsRequest(page_number=1, page_size=LIST_PAGE)

    def create_job() -> object:
        response = create_batch_inference_job.sync(client=client, body=create)
        assert isinstance(response, CreateBatchInferenceJobResponse)
        return response

    def get_job() -> object:
        response = get_batch_inference_job.sync(client=client, body=get)
        assert isinstance(response, GetBatchInferenceJobResponse)
        return response

    def list_jobs() -> object:
        response = list_batch_inference_jobs.sync(client=client, body=page)
        assert isinstance(response, ListBatchInferenceJobsResponse)
        return response

    calls = {"Create": create_job, "Get": get_job, "List": list_jobs}
    return calls, client.get_httpx_client().close


def _facade(url: str, sync_transport: Any = "auto") -> tuple[dict[str, Call], Callable[[], None]]:
    from ark_batch.credentials import Credentials  # noqa: PLC0415
    from ark_batch.facade import ArkBatch  # noqa: PLC0415
    from ark_batch.retries import NO_RETRY  # noqa: PLC0415
    from ark_batch_client.models import CreateBatchInferenceJobRequest  # noqa: PLC0415

    ark = ArkBatch(
        url,
        credentials=Credentials(ACCESS_KEY, SECRET_KEY),
        retry=NO_RETRY,
        sync_transport=sync_transport,
    )
    create = CreateBatchInferenceJobRequest.from_dict(_create_seed())
    calls: dict[str, Call] = {
        "Create": lambda: ark.create_job(create),
        "Get": lambda: ark.get_job(JOB_ID),
        "List": lambda: ark.list_jobs(page_size=LIST_PAGE),
    }
    return calls, ark.close


def _floor(url: str) -> tuple[dict[str, Call], Callable[[], None]]:
    """The least a Python client can do: http.client, our signer, json.loads."""
    from ark_batch.signing import SigningKeyCache, sign  # noqa: PLC0415

    host = urlsplit(url).netloc
    connection = http.client.HTTPConnection(host)
    cache = SigningKeyCache()
    bodies = {
        "Create": json.dumps(_create_seed(), ensure_ascii=False).encode(),
        "Get": json.dumps({"Id": JOB_ID}).encode(),
        "List": json.dumps({"PageNumber": 1, "PageSize": LIST_PAGE}).encode(),
    }
    names = {
        "Create": "CreateBatchInferenceJob",
        "Get": "GetBatchInferenceJob",
        "List": "ListBatchInferenceJobs",
    }

    def call(action: str) -> Call:
        query = f"Action={names[action]}&Version=2024-01-01"
        target, body = f"/?{query}", bodies[action]

        def send() -> object:
            headers = {"Host": host, "Content-Type": "application/json"}
            headers.update(
                sign(
                    method="POST",
                    path="/",
                    query=query,
                    headers=headers,
                    body=body,
                    access_key=ACCESS_KEY,
                    secret_key=SECRET_KEY,
                    region=REGION,
                    service="ark",
                    x_date=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                    key_cache=cache,
                )
            )
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            result = json.loads(response.read())["Result"]
            assert response.status == 200
            return result

        return send

    return {action: call(action) for action in ACTIONS}, connection.close


def _sync_transport(url: str) -> str:
    """Which transport the default rows measure: pyreqwest's only with the reqwest extra."""
    from ark_batch import make_client  # noqa: PLC0415
    from ark_batch.credentials import Credentials  # noqa: PLC0415

    client = make_client(url, credentials=Credentials(ACCESS_KEY, SECRET_KEY))
    try:
        return client.sync_transport_name()
    finally:
        client.get_httpx_client().close()


# --- async clients ------------------------------------------------------------------------


@dataclass
class AsyncSetup:
    """How to open one async client and its calls."""

    name: str
    pool: int | None
    open: Callable[[str, int | None], contextlib.AbstractAsyncContextManager[dict[str, AsyncCall]]]
    #: Requests per sample as a fraction of ``async_ops``: the slow stock-transport rows
    #: take fewer, so the rows the targets judge can take enough to be steady.
    share: float = 1.0


@contextlib.asynccontextmanager
async def _async_facade(
    url: str, pool: int | None, *, stock: bool = False
) -> Any:  # AsyncIterator[dict[str, AsyncCall]]
    """``AsyncArkBatch`` as a user gets it, or (``stock``) on httpx's own transport."""
    import httpx  # noqa: PLC0415

    from ark_batch.credentials import Credentials  # noqa: PLC0415
    from ark_batch.facade import AsyncArkBatch  # noqa: PLC0415
    from ark_batch.retries import NO_RETRY  # noqa: PLC0415
    from ark_batch_client.models import CreateBatchInferenceJobRequest  # noqa: PLC0415

    args: dict[str, Any] | None = None
    if stock:
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        args = {"transport": httpx.AsyncHTTPTransport(limits=limits)}
    create = CreateBatchInferenceJobRequest.from_dict(_create_seed())
    async with AsyncArkBatch(
        url,
        credentials=Credentials(ACCESS_KEY, SECRET_KEY),
        retry=NO_RETRY,
        max_connections=pool,
        httpx_args=args,
    ) as ark:
        yield {
            "Create": lambda: ark.create_job(create),
            "Get": lambda: ark.get_job(JOB_ID),
            "List": lambda: ark.list_jobs(page_size=LIST_PAGE),
        }


@contextlib.asynccontextmanager
async def _async_generated(url: str, pool: int | None) -> Any:
    from ark_batch import make_client  # noqa: PLC0415
    from ark_batch.credentials import Credentials  # noqa: PLC0415
    from ark_batch_client.api.batch_inference_job import (  # noqa: PLC0415
        create_batch_inference_job,
        list_batch_inference_jobs,
    )
    from ark_batch_client.models import (  # noqa: PLC0415
        CreateBatchInferenceJobRequest,
        ListBatchInferenceJobsRequest,
    )

    client = make_client(url, credentials=Credentials(ACCESS_KEY, SECRET_KEY))
    create = CreateBatchInferenceJobRequest.from_dict(_create_seed())
    page = ListBatchInferenceJobsRequest(page_number=1, page_size=LIST_PAGE)
    try:
        yield {
            "Create": lambda: create_batch_inference_job.asyncio(client=client, body=create),
            "List": lambda: list_batch_inference_jobs.asyncio(client=client, body=page),
        }
    finally:
        await client.get_async_httpx_client().aclose()


def _async_setups() -> list[AsyncSetup]:
    import httpx  # noqa: PLC0415

    from ark_batch.connect import async_client_class  # noqa: PLC0415

    setups = [
        AsyncSetup(f"AsyncArkBatch(max_connections={n})", n, _async_facade) for n in POOL_SIZES
    ]
    if async_client_class() is not httpx.AsyncClient:
        # The default runs on httpx-aiohttp: measure the stock transport beside it.
        setups += [
            AsyncSetup(
                f"AsyncArkBatch, stock httpx transport ({n} conn.)",
                n,
                lambda url, pool: _async_facade(url, pool, stock=True),
                share=0.25,
            )
            for n in POOL_SIZES
        ]
    setups.append(AsyncSetup("generated asyncio on make_client()", None, _async_generated))
    return setups


# --- measurement ----------------------------------------------------------------------------


@dataclass
class Samples:
    """Per-repeat figures of one client and action."""

    rate: list[float] = field(default_factory=list)  # requests per wall second
    cpu: list[float] = field(default_factory=list)  # client CPU seconds per request

    def add(self, ops: int, wall: float, cpu: float) -> None:
        self.rate.append(ops / wall)
        self.cpu.append(cpu / ops)


def _measure_sync(call: Call, ops: int, samples: Samples) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(ops):
        call()
    samples.add(ops, time.perf_counter() - wall, time.process_time() - cpu)


async def _measure_async(
    setup: AsyncSetup, url: str, ops: int, samples: dict[str, Samples]
) -> None:
    per_worker = max(1, round(ops * setup.share) // IN_FLIGHT)
    async with setup.open(url, setup.pool) as calls:
        for action in ASYNC_ACTIONS:
            call = calls[action]

            async def worker(count: int, call: AsyncCall = call) -> None:
                for _ in range(count):
                    await call()

            await asyncio.gather(*(worker(2) for _ in range(IN_FLIGHT)))  # connections up
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker(per_worker) for _ in range(IN_FLIGHT)))
            samples[action].add(
                per_worker * IN_FLIGHT, time.perf_counter() - wall, time.process_time() - cpu
            )


@contextlib.contextmanager
def _pinned() -> Iterator[tuple[int | None, int | None]]:
    """Pin this process to one core and leave another for the server, where there are two."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        yield None, None
        return
    if len(allowed) < 2:
        yield None, None
        return
    client_core, server_core = allowed[0], allowed[1]
    os.sched_setaffinity(0, {client_core})
    try:
        yield client_core, server_core
    finally:
        os.sched_setaffinity(0, allowed)


def machine(client_core: int | None, server_core: int | None) -> list[str]:
    """Where the figures come from: CPU, cores, pinning, Python and library versions."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = []
    for name in VERSIONS:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    pinning = (
        f"client on core {client_core}, server on core {server_core}"
        if client_core is not None
        else "not pinned (needs two cores and Linux)"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [
        f"machine: {model}, {os.cpu_count()} logical cores; {pinning}; load average {load}",
        f"python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.release()}",
        "versions: " + ", ".join(versions),
    ]


def _startup_seconds(args: list[str], repeats: int) -> float:
    """Median wall time of a fresh interpreter running ``args``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True, timeout=60)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- report ----------------------------------------------------------------------------------


def _row(name: str, action: str, samples: Samples, versus: str) -> str:
    rate = statistics.median(samples.rate)
    cpu = statistics.median(samples.cpu) * 1e6
    return f"{name:<48} {action:<6} {rate:>7,.0f} req/s {cpu:>6,.0f} us CPU/req  {versus}"


def _spread(seconds: list[float]) -> str:
    """The range of per-repeat figures, in microseconds."""
    return f"{min(seconds) * 1e6:.0f}-{max(seconds) * 1e6:.0f}"


def _report(
    sync: dict[str, dict[str, Samples]], async_: dict[str, dict[str, Samples]]
) -> list[str]:
    def cpu(name: str, action: str) -> float:
        return statistics.median(sync[name][action].cpu)

    def rate(table: dict[str, dict[str, Samples]], name: str, action: str) -> float:
        return statistics.median(table[name][action].rate)

    def sdk_action(action: str) -> str:
        return action if action in sync[OFFICIAL] else "Create"

    lines = [f"{'client':<48} {'action':<6} {'throughput':>13} {'client CPU':>17}  vs official SDK"]
    for name, actions in sync.items():
        for action, samples in actions.items():
            base = sdk_action(action)
            ratio = cpu(OFFICIAL, base) / cpu(name, action)
            note = "" if base == action else f" (vs SDK {base}: it has no {action})"
            lines.append(_row(name, action, samples, f"{ratio:.2f}x less CPU{note}"))
    for name, actions in async_.items():
        for action, samples in actions.items():
            ratio = rate(async_, name, action) / rate(sync, OFFICIAL, action)
            lines.append(
                _row(f"{name}, {IN_FLIGHT} in flight", action, samples, f"{ratio:.2f}x SDK req/s")
            )
    lines.append("targets:")
    for action in ACTIONS:
        base = sdk_action(action)
        ratio = cpu(OFFICIAL, base) / cpu(GENERATED, action)
        verdict = "met" if ratio >= TARGET_CPU_RATIO else "NOT met"
        lines.append(
            f"  generated {action}: {ratio:.2f}x less CPU than the SDK's {base} "
            f"(target >= {TARGET_CPU_RATIO}x): {verdict}"
        )
    for action in ASYNC_ACTIONS:
        official = rate(sync, OFFICIAL, action)
        facade = sync[FACADE][action].cpu
        facade_cpu = cpu(FACADE, action)
        stock_cpu = cpu(FACADE_STOCK, action)
        for n in POOL_SIZES:
            name = f"AsyncArkBatch(max_connections={n})"
            ratio = rate(async_, name, action) / official
            repeats = async_[name][action].cpu
            async_cpu = statistics.median(repeats)
            met = ratio >= TARGET_ASYNC_RATIO and async_cpu <= facade_cpu
            # A verdict between two medians whose repeats overlap is within the noise.
            overlap = min(repeats) <= max(facade) and min(facade) <= max(repeats)
            lines.append(
                f"  {name} {action}: {ratio:.2f}x the SDK's sync req/s (target >= "
                f"{TARGET_ASYNC_RATIO}x), {async_cpu * 1e6:.0f} us CPU/req "
                f"({_spread(repeats)}) vs ArkBatch {facade_cpu * 1e6:.0f} ({_spread(facade)}; "
                f"target <=; {stock_cpu * 1e6:.0f} on httpx's own transport): "
                f"{'met' if met else 'NOT met'}{', repeats overlap' if overlap else ''}"
            )
    return lines


def run(
    ops: int = 600, async_ops: int = 1280, repeats: int = 5, startup_repeats: int = 7
) -> list[str]:
    """Measure every client against one stub server; return printable lines."""
    with _pinned() as (client_core, server_core):
        lines = machine(client_core, server_core)
        with StubServer(server_core) as stub:
            lines.append(
                f"sync transport of make_client() and ArkBatch: {_sync_transport(stub.url)}"
            )
            official = _official(stub.url)
            generated, close_generated = _generated(stub.url)
            # The fallback, side by side.
            generated_stock, close_generated_stock = _generated(stub.url, "httpx")
            facade, close_facade = _facade(stub.url)
            facade_stock, close_facade_stock = _facade(stub.url, "httpx")
            floor, close_floor = _floor(stub.url)
            clients = {
                OFFICIAL: official,
                GENERATED: generated,
                GENERATED_STOCK: generated_stock,
                FACADE: facade,
                FACADE_STOCK: facade_stock,
                FLOOR: floor,
            }
            sync = {
                name: {action: Samples() for action in calls} for name, calls in clients.items()
            }
            setups = _async_setups()
            async_ = {s.name: {a: Samples() for a in ASYNC_ACTIONS} for s in setups}
            for calls in clients.values():  # warm-up: imports, connections, signing keys
                for call in calls.values():
                    for _ in range(20):
                        call()
            for _ in range(repeats):
                for name, calls in clients.items():
                    for action, call in calls.items():
                        _measure_sync(call, ops, sync[name][action])
                for setup in setups:
                    asyncio.run(_measure_async(setup, stub.url, async_ops, async_[setup.name]))
            closers = (
                close_generated,
                close_generated_stock,
                close_facade,
                close_facade_stock,
                close_floor,
            )
            for close in closers:
                close()
    lines += _report(sync, async_)
    lines.append(
        f"medians of {repeats} interleaved repeats: {ops} sync requests, {async_ops} async "
        f"requests ({IN_FLIGHT} in flight; a quarter of that on the stock transport) per "
        "client and action"
    )
    bare = _startup_seconds(["-c", "pass"], startup_repeats)
    cli_help = _startup_seconds(["-m", "ark_batch.cli", "--help"], startup_repeats)
    lines.append(
        f"ark-batch --help startup {cli_help * 1000:.0f} ms (bare interpreter {bare * 1000:.0f} ms)"
    )
    return lines


if __name__ == "__main__":
    for printed in run():
        print(printed)
