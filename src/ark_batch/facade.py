"""``ArkBatch`` and ``AsyncArkBatch``: one class over the actions and the helpers.

Both return the generated attrs models (``BatchInferenceJob``,
``ListBatchInferenceJobsResult``, ``CreateBatchInferenceJobResult``) and raise the typed
errors of :mod:`ark_batch.errors`. They sit on a generated :class:`ark_batch_client.Client`
(``.client``), so the generated functions can be used side by side with the same
connection pool and signing. Every action is written once, as a flow in
:mod:`ark_batch._core`; the two classes differ only in how they run a flow's HTTP
exchanges and pauses.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from ark_batch import _actions
from ark_batch._core import (
    BodyReader,
    FacadeCore,
    Flow,
    OnActiveJob,
    Pages,
    Reply,
    Send,
    Sleep,
    job_id_of,
    noting_stop_failure,
)
from ark_batch.errors import ArkBatchError
from ark_batch.http_clients import release_stream
from ark_batch.pagination import aiter_jobs, iter_jobs
from ark_batch.results import ResultRecord
from ark_batch_client.models import BatchInferenceJob, ListBatchInferenceJobsResult

__all__ = ["ArkBatch", "AsyncArkBatch", "OnActiveJob", "create_request", "list_request"]

#: Build a generated ``CreateBatchInferenceJobRequest`` from plain values (reusable with
#: ``create_job(request)`` and ``validate_job(request)``).
create_request = _actions.create_request
#: Build a generated ``ListBatchInferenceJobsRequest`` from plain values.
list_request = _actions.list_request

P = ParamSpec("P")
T = TypeVar("T")

#: Records read per worker-thread hop when streaming results asynchronously.
_STREAM_BATCH = 512


def _present(method: Any, flow: Callable[..., Any], returns: str | None = None) -> None:
    """Show ``method`` with ``flow``'s signature, returning what the method returns."""
    signature = inspect.signature(flow)
    if returns is None:
        annotation = str(signature.return_annotation)
        returns = annotation[5:-1] if annotation.startswith("Flow[") else annotation
    method.__signature__ = signature.replace(return_annotation=returns)


def _blocking(
    flow: Callable[Concatenate[Any, P], Flow[T]],
) -> Callable[Concatenate[ArkBatch, P], T]:
    """A sync method that runs ``flow`` to completion."""

    @functools.wraps(flow)
    def method(self: ArkBatch, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(flow(self, *args, **kwargs))

    _present(method, flow)
    return method


def _awaitable(
    flow: Callable[Concatenate[Any, P], Flow[T]],
) -> Callable[Concatenate[AsyncArkBatch, P], Coroutine[Any, Any, T]]:
    """An async method that runs ``flow`` to completion."""

    @functools.wraps(flow)
    async def method(self: AsyncArkBatch, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(flow(self, *args, **kwargs))

    _present(method, flow)
    return method


def _paged(
    pages: Callable[Concatenate[Any, P], Pages],
) -> Callable[Concatenate[ArkBatch, P], Iterator[BatchInferenceJob]]:
    """A sync method that iterates over the pages ``pages`` describes."""

    @functools.wraps(pages)
    def method(self: ArkBatch, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[BatchInferenceJob]:
        plan = pages(self, *args, **kwargs)
        return iter_jobs(
            lambda number, size: self._run(plan.fetch(number, size)),
            first_page=plan.first,
            page_size=plan.size,
            max_pages=plan.max_pages,
        )

    _present(method, pages, "Iterator[BatchInferenceJob]")
    return method


def _async_paged(
    pages: Callable[Concatenate[Any, P], Pages],
) -> Callable[Concatenate[AsyncArkBatch, P], AsyncIterator[BatchInferenceJob]]:
    """An async method that iterates over the pages ``pages`` describes (``async for``)."""

    @functools.wraps(pages)
    def method(
        self: AsyncArkBatch, /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncIterator[BatchInferenceJob]:
        plan = pages(self, *args, **kwargs)

        async def fetch(number: int, size: int) -> ListBatchInferenceJobsResult:
            return await self._run(plan.fetch(number, size))

        return aiter_jobs(
            fetch, first_page=plan.first, page_size=plan.size, max_pages=plan.max_pages
        )

    _present(method, pages, "AsyncIterator[BatchInferenceJob]")
    return method


def _streamed(
    flow: Callable[Concatenate[Any, P], Flow[Iterator[ResultRecord]]],
) -> Callable[Concatenate[AsyncArkBatch, P], AsyncIterator[ResultRecord]]:
    """An async method streaming the records ``flow`` opens (``async for``).

    Object-store reads block, so batches of lines are read in a worker thread.
    """

    @functools.wraps(flow)
    async def method(
        self: AsyncArkBatch, /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncIterator[ResultRecord]:
        iterator = await self._run(flow(self, *args, **kwargs))
        while True:
            batch = await asyncio.to_thread(list, itertools.islice(iterator, _STREAM_BATCH))
            for record in batch:
                yield record
            if len(batch) < _STREAM_BATCH:
                return

    _present(method, flow, "AsyncIterator[ResultRecord]")
    return method


class _Run:
    """Steps one flow: hands out its next Send or Sleep and takes the outcome back."""

    __slots__ = ("error", "flow", "reply", "result")

    def __init__(self, flow: Flow[Any]) -> None:
        self.flow = flow
        self.reply: Reply | None = None
        self.error: ArkBatchError | None = None
        self.result: Any = None

    def next_step(self) -> Send | Sleep | None:
        """The next step, or None once the flow has returned (see ``result``)."""
        try:
            if self.error is not None:
                error, self.error = self.error, None
                return self.flow.throw(error)
            return self.flow.send(self.reply)
        except StopIteration as stop:
            self.result = stop.value
            return None


class ArkBatch(FacadeCore):
    """Synchronous client for Ark batch inference jobs.

    ``ArkBatch()`` reads credentials, region and endpoint from the environment like
    :func:`ark_batch.make_client`; ``ArkBatch(access_key=..., secret_key=...)`` or
    ``ArkBatch(credentials=...)`` give them explicitly, and ``ArkBatch(client=...)``
    wraps an existing generated client. ``httpx_args`` reach the httpx clients
    unchanged (``verify``, ``cert``, ``proxy``, ``limits``, ...). ``timeout`` is httpx's
    per-phase timeout; ``deadline`` bounds a whole call, retries included.
    ``signing_clock`` returns the signing time (an aware datetime); ``sleep``/``clock``
    replace ``time.sleep``/``time.monotonic`` for retries, deadlines and waits.
    ``on_response(action, status, headers, body)`` sees every whole response read.
    The sync client runs on pyreqwest's transport when the ``reqwest`` extra is installed
    and it can honour every argument; ``sync_transport="httpx"`` keeps httpx's own (an
    immediate Ctrl-C during a call; see docs/decisions/0026). Use as a context manager (or
    call :meth:`close`) to release connections.
    """

    create_job = _blocking(FacadeCore._create_job)
    validate_job = _blocking(FacadeCore._validate_job)
    get_job = _blocking(FacadeCore._get_job)
    list_jobs = _blocking(FacadeCore._list_jobs)
    wait = _blocking(FacadeCore._wait)
    stop_job = _blocking(FacadeCore._stop_job)
    #: Alias of :meth:`stop_job`, for code written against ``batches.cancel``.
    cancel_job = stop_job
    resume_job = _blocking(FacadeCore._resume_job)
    update_job = _blocking(FacadeCore._update_job)
    delete_job = _blocking(FacadeCore._delete_job)

    @contextmanager
    def stop_on_error(self, job: str | BatchInferenceJob) -> Iterator[str]:
        """Stop the job if the ``with`` block raises (Ctrl-C included); yields its Id.

        The block's exception propagates; if stopping fails too, that is added as a note.
        """
        job_id = job_id_of(job)
        try:
            yield job_id
        except BaseException as exc:
            with noting_stop_failure(exc, job_id):
                self.stop_job(job_id)
            raise

    def _run(self, flow: Flow[T]) -> T:
        run = _Run(flow)
        while (step := run.next_step()) is not None:
            if isinstance(step, Sleep):
                self._sleep(step.seconds)
                continue
            try:
                run.reply = self._exchange(step)
            except ArkBatchError as exc:
                run.error = exc
        result: T = run.result
        return result

    def _exchange(self, send: Send) -> Reply:
        http = self.client.get_httpx_client()
        request, body = self._prepare(http, send)
        try:
            response = http.send(request, stream=True, follow_redirects=False)
            try:
                raw = body.start(response)
                chunks = raw if isinstance(raw, httpx.SyncByteStream) else response.iter_bytes()
                for chunk in chunks:
                    body.add(chunk)
            finally:
                response.close()
                release_stream(response)
        except Exception as exc:
            if (error := body.failure(exc)) is exc:
                raise
            raise error from exc
        return body.reply(response)

    def close(self) -> None:
        """Close the HTTP connections (only if this object created the client)."""
        if self._owns_client:
            self.client.get_httpx_client().close()

    def __enter__(self) -> ArkBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    iter_jobs = _paged(FacadeCore._iter_jobs)
    results = _blocking(FacadeCore._results)
    errors = _blocking(FacadeCore._errors)
    records = _blocking(FacadeCore._records)


class AsyncArkBatch(FacadeCore):
    """The asyncio twin of :class:`ArkBatch`; same arguments, awaitable methods.

    A client this object creates runs on the ``httpx-aiohttp`` transport when it is
    installed (``pip install "ark-batch[aiohttp]"``), else on httpx's stock transport;
    either way it honours ``HTTP_PROXY``/``HTTPS_PROXY`` and every ``httpx_args`` entry,
    as the sync client does. A call's ``deadline`` is enforced exactly (the whole
    exchange is cancelled when it passes).

    ``iter_jobs``, ``results``, ``errors`` and ``records`` return async iterators. Use
    ``async with`` (or ``await aclose()``) to release connections.
    """

    _default_sleep = staticmethod(asyncio.sleep)

    create_job = _awaitable(FacadeCore._create_job)
    validate_job = _awaitable(FacadeCore._validate_job)
    get_job = _awaitable(FacadeCore._get_job)
    list_jobs = _awaitable(FacadeCore._list_jobs)
    wait = _awaitable(FacadeCore._wait)
    stop_job = _awaitable(FacadeCore._stop_job)
    #: Alias of :meth:`stop_job`, for code written against ``batches.cancel``.
    cancel_job = stop_job
    resume_job = _awaitable(FacadeCore._resume_job)
    update_job = _awaitable(FacadeCore._update_job)
    delete_job = _awaitable(FacadeCore._delete_job)

    @asynccontextmanager
    async def stop_on_error(self, job: str | BatchInferenceJob) -> AsyncIterator[str]:
        """See :meth:`ArkBatch.stop_on_error`."""
        job_id = job_id_of(job)
        try:
            yield job_id
        except BaseException as exc:
            with noting_stop_failure(exc, job_id):
                await self.stop_job(job_id)
            raise

    async def _run(self, flow: Flow[T]) -> T:
        run = _Run(flow)
        while (step := run.next_step()) is not None:
            if isinstance(step, Sleep):
                await self._sleep(step.seconds)
                continue
            try:
                run.reply = await self._exchange(step)
            except ArkBatchError as exc:
                run.error = exc
        result: T = run.result
        return result

    async def _exchange(self, send: Send) -> Reply:
        http = self.client.get_async_httpx_client()
        request, body = self._prepare(http, send)
        try:
            if send.deadline is None:  # no timer to arm: a measurable cost per call
                return await self._read(http, request, body)
            async with asyncio.timeout(max(send.deadline - self._clock(), 0)):
                return await self._read(http, request, body)
        except Exception as exc:
            if (error := body.failure(exc)) is exc:
                raise
            raise error from exc

    @staticmethod
    async def _read(http: httpx.AsyncClient, request: httpx.Request, body: BodyReader) -> Reply:
        response = await http.send(request, stream=True, follow_redirects=False)
        try:
            raw = body.start(response)
            chunks = raw if isinstance(raw, httpx.AsyncByteStream) else response.aiter_bytes()
            async for chunk in chunks:
                body.add(chunk)
        finally:
            await response.aclose()
            release_stream(response)
        return body.reply(response)

    async def aclose(self) -> None:
        """Close the HTTP connections (only if this object created the client)."""
        if self._owns_client:
            await self.client.get_async_httpx_client().aclose()

    async def __aenter__(self) -> AsyncArkBatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    iter_jobs = _async_paged(FacadeCore._iter_jobs)
    results = _streamed(FacadeCore._results)
    errors = _streamed(FacadeCore._errors)
    records = _streamed(FacadeCore._records)
