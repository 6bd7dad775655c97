"""A call's response is freed when the call returns, not at the next garbage collection.

httpx's bound response stream refers back to its response. The facade and the clients
``make_client`` builds drop that stream once the body is read, so reference counting
frees every object of the exchange at once (docs/decisions/0028). Each test pauses the
cyclic collector and holds only a weak reference to the response.
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from ark_batch import make_client
from ark_batch.http_clients import lean_client_class
from ark_batch_client.api.batch_inference_job import get_batch_inference_job
from ark_batch_client.models import GetBatchInferenceJobRequest
from client.client_support import (
    DEV,
    TRANSPORTS,
    LoopbackServer,
    ScriptedService,
    envelope,
    job_answer,
    job_dict,
    run,
)

Refs = list[weakref.ref[httpx.Response]]


@contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def watching(asynchronous: bool) -> tuple[Refs, dict[str, Any]]:
    """Weak references to every response, and the ``event_hooks`` that take them."""
    refs: Refs = []

    def keep(response: httpx.Response) -> None:
        refs.append(weakref.ref(response))

    async def keep_async(response: httpx.Response) -> None:
        keep(response)

    return refs, {"response": [keep_async if asynchronous else keep]}


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_a_facade_call_leaves_nothing_for_the_garbage_collector(mode: str) -> None:
    refs, hooks = watching(mode == "async")
    with LoopbackServer(job_answer) as server, collector_paused():
        job = run(
            mode, server.url, lambda ark: ark.get_job("bi-1"), httpx_args={"event_hooks": hooks}
        )
        assert job.id == "bi-1"
        assert len(refs) == 1
        assert refs[0]() is None


def _generated_client(asynchronous: bool) -> tuple[Refs, Any]:
    service = ScriptedService()
    service.jobs.append(job_dict("bi-1", "Running"))
    refs, hooks = watching(asynchronous)
    args = {"transport": httpx.MockTransport(service), "event_hooks": hooks}
    return refs, make_client("http://127.0.0.1:9", credentials=DEV, httpx_args=args)


def test_a_generated_sync_call_leaves_nothing_for_the_garbage_collector() -> None:
    refs, client = _generated_client(asynchronous=False)
    with collector_paused():
        job = get_batch_inference_job.sync(
            client=client, body=GetBatchInferenceJobRequest(id="bi-1")
        )
        assert job is not None
        assert refs
        assert all(ref() is None for ref in refs)


def test_a_generated_async_call_leaves_nothing_for_the_garbage_collector() -> None:
    refs, client = _generated_client(asynchronous=True)

    async def main() -> Any:
        async with client.get_async_httpx_client():
            return await get_batch_inference_job.asyncio(
                client=client, body=GetBatchInferenceJobRequest(id="bi-1")
            )

    with collector_paused():
        job = asyncio.run(main())
        assert job is not None
        assert refs
        assert all(ref() is None for ref in refs)


BODY = envelope("GetBatchInferenceJob", job_dict("bi-1"))


def _answer(request: httpx.Request) -> httpx.Response:
    # A stream, as a network transport gives: json= would arrive already read.
    return httpx.Response(200, stream=httpx.ByteStream(json.dumps(BODY).encode()))


def _lean(kind: type[Any]) -> Any:
    return lean_client_class(kind)(transport=httpx.MockTransport(_answer))


def test_a_released_response_still_gives_its_body() -> None:
    with _lean(httpx.Client) as http:
        response = http.post("http://ark.test/")
        assert isinstance(response.stream, httpx.ByteStream)  # released
        assert response.json() == BODY
        assert response.read() == response.content
        assert json.loads(b"".join(response.iter_bytes())) == BODY

    async def main() -> None:
        async with _lean(httpx.AsyncClient) as http:
            response = await http.post("http://ark.test/")
            assert isinstance(response.stream, httpx.ByteStream)
            assert await response.aread() == response.content
            assert json.loads(b"".join([chunk async for chunk in response.aiter_bytes()])) == BODY

    asyncio.run(main())


def _streamed(http: httpx.Client) -> Callable[[], bytes]:
    def read() -> bytes:
        with http.stream("POST", "http://ark.test/") as response:
            return b"".join(response.iter_raw())

    return read


def test_a_streamed_response_is_left_whole_for_its_reader() -> None:
    with _lean(httpx.Client) as http:
        assert json.loads(_streamed(http)()) == BODY

    async def main() -> bytes:
        async with (
            _lean(httpx.AsyncClient) as http,
            http.stream("POST", "http://ark.test/") as response,
        ):
            return b"".join([chunk async for chunk in response.aiter_raw()])

    assert json.loads(asyncio.run(main())) == BODY
