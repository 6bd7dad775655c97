"""``ArkBatch`` and ``AsyncArkBatch``: one class over the three actions and the helpers.

Both return the generated attrs models (``BatchInferenceJob``,
``ListBatchInferenceJobsResult``, ``CreateBatchInferenceJobResult``) and raise the typed
errors of :mod:`ark_batch.errors`. They sit on a generated :class:`ark_batch_client.Client`
(``.client``), so the generated functions can be used side by side with the same
connection pool and signing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, Literal, Unpack

import attrs
import httpx

from ark_batch import _actions
from ark_batch._actions import (
    CREATE,
    DELETE,
    GET,
    LIST,
    RESUME,
    STOP,
    UPDATE,
    JobFields,
    ListFilters,
)
from ark_batch._asyncio_backend import asyncio_transport
from ark_batch.auth import VolcengineAuth
from ark_batch.connect import resolve_endpoint
from ark_batch.credentials import Credentials, resolve_credentials, resolve_region
from ark_batch.errors import (
    ActiveJobExistsError,
    ArkBatchError,
    DryRunSucceeded,
    NotFoundError,
    WaitTimeoutError,
)
from ark_batch.pagination import DEFAULT_MAX_PAGES, aiter_jobs, iter_jobs
from ark_batch.results import ResultRecord, iter_errors, iter_records, iter_results
from ark_batch.retries import DEFAULT_RETRY, OnRetry, RetryPolicy, retry_async, retry_sync
from ark_batch.waiter import OnUpdate, async_wait_for_job, wait_for_job
from ark_batch_client import Client
from ark_batch_client.models import (
    BatchInferenceJob,
    CreateBatchInferenceJobRequest,
    CreateBatchInferenceJobResult,
    ListBatchInferenceJobsRequest,
    ListBatchInferenceJobsResult,
    ResumeBatchInferenceJobResult,
)

if TYPE_CHECKING:
    from ark_batch.storage import ObjectStore

__all__ = ["ArkBatch", "AsyncArkBatch", "OnActiveJob", "create_request", "list_request"]

#: Build a generated ``CreateBatchInferenceJobRequest`` from plain values (reusable with
#: ``create_job(request)`` and ``validate_job(request)``).
create_request = _actions.create_request
#: Build a generated ``ListBatchInferenceJobsRequest`` from plain values.
list_request = _actions.list_request

#: What ``create_job`` does when a Queued/Running job has the same project and input:
#: ``"return"`` that job's Id (the default), or ``"raise"`` ActiveJobExistsError.
OnActiveJob = Literal["return", "raise"]

_Timeout = float | httpx.Timeout | None


def _timeout(value: _Timeout) -> Any:
    return httpx.USE_CLIENT_DEFAULT if value is None else value


def _create_body(
    request: CreateBatchInferenceJobRequest | None,
    dry_run: bool,
    kwargs: dict[str, Any],
) -> bytes:
    if request is None:
        request = _actions.create_request(dry_run=dry_run, **kwargs)
    elif any(value is not None for value in kwargs.values()):
        raise TypeError("pass either a CreateBatchInferenceJobRequest or keyword fields")
    elif dry_run:
        request = attrs.evolve(request, dry_run=True)  # never mutate the caller's request
    return _actions.encode(request.to_dict())


def _list_request(
    request: ListBatchInferenceJobsRequest | None,
    filters: ListFilters,
    *,
    page_number: int = 1,
    page_size: int = 10,
) -> ListBatchInferenceJobsRequest:
    if request is None:
        return _actions.list_request(page_number=page_number, page_size=page_size, **filters)
    if any(value is not None for value in filters.values()):
        raise TypeError("pass either a ListBatchInferenceJobsRequest or keyword filters")
    return request


#: Connection-pool size of an AsyncArkBatch-created client (see its docstring).
DEFAULT_ASYNC_CONNECTIONS = 8


def _job_id(job: str | BatchInferenceJob) -> str:
    return job if isinstance(job, str) else job.id


class _Base:
    """Construction shared by the sync and async facades."""

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        credentials: Credentials | None = None,
        region: str | None = None,
        client: Client | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: float = 30.0,
        store: ObjectStore | None = None,
        httpx_args: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        max_connections: int | None = None,
    ) -> None:
        if client is None:
            client = self._make_client(
                endpoint, credentials, region, timeout, httpx_args, environ, max_connections
            )
            self._owns_client = True
        else:
            if endpoint is not None or credentials is not None or region is not None:
                raise TypeError("pass either client= or endpoint/credentials/region")
            self._owns_client = False
        #: The generated client underneath; usable with the generated functions.
        self.client = client
        #: Default retry policy; every method also takes ``retry=`` for one call.
        self.retry = retry
        #: Object store for :meth:`results`/:meth:`errors` (the job's output bucket).
        self.store = store
        self._urls: dict[str, httpx.URL] | None = None

    _native_async = False

    def _make_client(
        self,
        endpoint: str | None,
        credentials: Credentials | None,
        region: str | None,
        timeout: float,
        httpx_args: Mapping[str, Any] | None,
        environ: Mapping[str, str] | None,
        max_connections: int | None,
    ) -> Client:
        """A signed generated client, as :func:`make_client` builds it, with our pool."""
        args: dict[str, Any] = dict(httpx_args or {})
        if max_connections is not None and "limits" not in args:
            args["limits"] = httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            )
        auth = VolcengineAuth(
            credentials or resolve_credentials(environ=environ),
            resolve_region(region, environ=environ),
        )
        base_url = resolve_endpoint(endpoint, environ=environ)
        client = Client(
            base_url=base_url, timeout=httpx.Timeout(timeout), httpx_args={**args, "auth": auth}
        )
        if self._native_async and "transport" not in args:
            # The async httpx client on the native-asyncio network backend (built with
            # public httpx arguments; the generated sync client is left as is).
            # httpx's own default when no limits are given.
            default = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            limits = args.pop("limits", default)
            client.set_async_httpx_client(
                httpx.AsyncClient(
                    base_url=base_url,
                    timeout=httpx.Timeout(timeout),
                    auth=auth,
                    transport=asyncio_transport(limits=limits),
                    **args,
                )
            )
        return client

    def _url(self, action: str, base_url: httpx.URL) -> httpx.URL:
        if self._urls is None:
            self._urls = _actions.action_urls(base_url)
        return self._urls[action]

    def _store(self, store: ObjectStore | None) -> ObjectStore:
        chosen = store if store is not None else self.store
        if chosen is None:
            raise ValueError(
                "reading results needs an object store: pass store= (e.g. "
                "ark_batch.storage.open_store('file:///path/to/emulator-data/objects'), "
                "the emulator's object root)"
            )
        return chosen


class ArkBatch(_Base):
    """Synchronous client for Ark batch inference jobs.

    ``ArkBatch()`` reads credentials, region and endpoint from the environment like
    :func:`ark_batch.make_client`; ``ArkBatch(client=...)`` wraps an existing generated
    client. Use as a context manager (or call :meth:`close`) to release connections.
    ``sleep``/``clock`` exist for tests: retries and waits use them instead of the real
    ``time.sleep``/``time.monotonic``.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        credentials: Credentials | None = None,
        region: str | None = None,
        client: Client | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: float = 30.0,
        store: ObjectStore | None = None,
        httpx_args: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        max_connections: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            endpoint,
            credentials=credentials,
            region=region,
            client=client,
            retry=retry,
            timeout=timeout,
            store=store,
            httpx_args=httpx_args,
            environ=environ,
            max_connections=max_connections,
        )
        self._sleep = sleep
        self._clock = clock

    # -- plumbing ----------------------------------------------------------------------

    def _call(
        self,
        action: str,
        payload: bytes,
        retry: RetryPolicy | None,
        timeout: _Timeout,
        on_retry: OnRetry | None = None,
    ) -> Any:
        http = self.client.get_httpx_client()
        url = self._url(action, http.base_url)
        request_timeout = _timeout(timeout)

        def attempt() -> Any:
            request = http.build_request(
                "POST", url, content=payload, headers=_actions.JSON_HEADERS, timeout=request_timeout
            )
            try:
                response = http.send(request)
            except httpx.TransportError as exc:
                raise _actions.transport_error(exc, action) from exc
            return _actions.parse(action, response)

        return retry_sync(
            attempt,
            action=action,
            policy=retry or self.retry,
            sleep=self._sleep,
            clock=self._clock,
            on_retry=on_retry,
        )

    def close(self) -> None:
        """Close the HTTP connections (only if this object created the client)."""
        if self._owns_client:
            self.client.get_httpx_client().close()

    def __enter__(self) -> ArkBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- actions -----------------------------------------------------------------------

    def create_job(
        self,
        request: CreateBatchInferenceJobRequest | None = None,
        *,
        on_active_job: OnActiveJob = "return",
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,
        **fields: Unpack[JobFields],
    ) -> CreateBatchInferenceJobResult:
        """Create a job; return its Id (``.id``).

        Give either a generated ``request`` or the fields: ``model`` as ``name`` plus
        ``model_version`` (or ``"name:version"``) or ``custom_model_id``; ``input`` and
        ``output`` as ``"bucket/key"``/``"tos://bucket/key"``. If a Queued/Running job
        already has this project and input, its Id is returned (``on_active_job="raise"``
        raises :class:`~ark_batch.errors.ActiveJobExistsError` instead).
        """
        payload = _create_body(request, False, dict(fields))
        try:
            result: CreateBatchInferenceJobResult = self._call(CREATE, payload, retry, timeout)
        except ActiveJobExistsError as exc:
            if on_active_job == "raise" or exc.job_id is None:
                raise
            return CreateBatchInferenceJobResult(id=exc.job_id)
        return result

    def validate_job(
        self,
        request: CreateBatchInferenceJobRequest | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,
        **fields: Unpack[JobFields],
    ) -> None:
        """Dry-run a Create: return if the service would accept it, raise if not."""
        payload = _create_body(request, True, dict(fields))
        try:
            self._call(CREATE, payload, retry, timeout)
        except DryRunSucceeded:
            return

    def get_job(
        self, job_id: str, *, retry: RetryPolicy | None = None, timeout: _Timeout = None
    ) -> BatchInferenceJob:
        """The job with this Id (:class:`~ark_batch.errors.NotFoundError` if none)."""
        job: BatchInferenceJob = self._call(GET, _actions.encode({"Id": job_id}), retry, timeout)
        return job

    def list_jobs(
        self,
        request: ListBatchInferenceJobsRequest | None = None,
        *,
        page_number: int = 1,
        page_size: int = 10,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,
        **filters: Unpack[ListFilters],
    ) -> ListBatchInferenceJobsResult:
        """One page of jobs (``.items``, ``.total_count``)."""
        body = _list_request(request, filters, page_number=page_number, page_size=page_size)
        page: ListBatchInferenceJobsResult = self._call(
            LIST, _actions.encode(body.to_dict()), retry, timeout
        )
        return page

    # -- lifecycle ---------------------------------------------------------------------

    def stop_job(
        self,
        job: str | BatchInferenceJob,
        *,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,
    ) -> None:
        """Stop a Queued or Running job: it becomes Terminating, then Terminated.

        Lines already run keep their results. Stopping a Terminating or Terminated job
        again does nothing; a Completed or Failed job raises
        :class:`~ark_batch.errors.ConflictError`. ``dry_run=True`` only checks.
        """
        payload = _actions.encode(_actions.stop_request(_job_id(job), dry_run=dry_run).to_dict())
        try:
            self._call(STOP, payload, retry, timeout)
        except DryRunSucceeded:
            if not dry_run:
                raise

    #: Alias of :meth:`stop_job`, for code written against ``batches.cancel``.
    cancel_job = stop_job

    def resume_job(
        self,
        job: str | BatchInferenceJob,
        *,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,
    ) -> ResumeBatchInferenceJobResult:
        """Queue a Terminated or Failed job again (a Terminated one runs only its lines
        without a result). Retried only where a second run cannot start."""
        payload = _actions.encode(_actions.resume_request(_job_id(job)).to_dict())
        result: ResumeBatchInferenceJobResult = self._call(RESUME, payload, retry, timeout)
        return result

    def update_job(
        self,
        job: str | BatchInferenceJob,
        *,
        name: str | None = None,
        description: str | None = None,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,
    ) -> None:
        """Change the job's name and/or description (``""`` clears the description)."""
        request = _actions.update_request(
            _job_id(job), name=name, description=description, dry_run=dry_run
        )
        try:
            self._call(UPDATE, _actions.encode(request.to_dict()), retry, timeout)
        except DryRunSucceeded:
            if not dry_run:
                raise

    def delete_job(
        self,
        job: str | BatchInferenceJob,
        *,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,
    ) -> None:
        """Delete a Completed, Failed or Terminated job; its output objects stay.

        An active job raises :class:`~ark_batch.errors.ConflictError` (stop it first).
        A retry answered NotFound counts as done: an earlier attempt deleted the job.
        """
        payload = _actions.encode(_actions.delete_request(_job_id(job), dry_run=dry_run).to_dict())
        retried = _RetrySeen()
        try:
            self._call(DELETE, payload, retry, timeout, on_retry=retried)
        except DryRunSucceeded:
            if not dry_run:
                raise
        except NotFoundError:
            if not retried.seen:
                raise

    @contextmanager
    def stop_on_error(self, job: str | BatchInferenceJob) -> Iterator[str]:
        """Stop the job if the ``with`` block raises (Ctrl-C included); yields its Id.

        The block's exception propagates; if stopping fails too, that is added as a note.
        """
        job_id = _job_id(job)
        try:
            yield job_id
        except BaseException as exc:
            with _noting_stop_failure(exc, job_id):
                self.stop_job(job_id)
            raise

    # -- helpers -----------------------------------------------------------------------

    def iter_jobs(
        self,
        request: ListBatchInferenceJobsRequest | None = None,
        *,
        page_size: int = 100,
        max_pages: int = DEFAULT_MAX_PAGES,
        retry: RetryPolicy | None = None,
        **filters: Unpack[ListFilters],
    ) -> Iterator[BatchInferenceJob]:
        """Every matching job across all pages, fetched lazily page by page."""
        base = _list_request(request, filters, page_size=page_size)
        template = base.to_dict()

        def fetch(page_number: int, size: int) -> ListBatchInferenceJobsResult:
            body = {**template, "PageNumber": page_number, "PageSize": size}
            page: ListBatchInferenceJobsResult = self._call(
                LIST, _actions.encode(body), retry, None
            )
            return page

        first = base.page_number if isinstance(base.page_number, int) else 1
        size = base.page_size if isinstance(base.page_size, int) else page_size
        return iter_jobs(fetch, first_page=first, page_size=size, max_pages=max_pages)

    def wait(
        self,
        job: str | BatchInferenceJob,
        *,
        poll_interval: float = 5.0,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        raise_on_failure: bool = True,
        cancel_on_timeout: bool = False,
    ) -> BatchInferenceJob:
        """Poll until the job is Completed, Failed or Terminated and return it.

        Raises :class:`~ark_batch.errors.WaitTimeoutError` after ``timeout`` seconds (with
        ``cancel_on_timeout=True`` the job is stopped first) and
        :class:`~ark_batch.errors.JobFailedError` for Failed/Terminated unless
        ``raise_on_failure=False``. ``on_update(status, request_counts)`` sees each change.
        """
        try:
            return wait_for_job(
                self.get_job,
                _job_id(job),
                poll_interval=poll_interval,
                timeout=timeout,
                on_update=on_update,
                raise_on_failure=raise_on_failure,
                sleep=self._sleep,
                clock=self._clock,
            )
        except WaitTimeoutError as exc:
            if cancel_on_timeout:
                with _noting_stop_failure(exc, _job_id(job)):
                    self.stop_job(job)
            raise

    def _resolve(self, job: str | BatchInferenceJob) -> BatchInferenceJob:
        return self.get_job(job) if isinstance(job, str) else job

    def results(
        self, job: str | BatchInferenceJob, *, store: ObjectStore | None = None
    ) -> Iterator[ResultRecord]:
        """Stream the job's successful results (a missing file yields nothing)."""
        return iter_results(self._store(store), self._resolve(job))

    def errors(
        self, job: str | BatchInferenceJob, *, store: ObjectStore | None = None
    ) -> Iterator[ResultRecord]:
        """Stream the job's failed requests (nothing when it wrote no errors file)."""
        return iter_errors(self._store(store), self._resolve(job))

    def records(
        self, job: str | BatchInferenceJob, *, store: ObjectStore | None = None
    ) -> Iterator[ResultRecord]:
        """Results, then errors."""
        return iter_records(self._store(store), self._resolve(job))


class AsyncArkBatch(_Base):
    _native_async = True

    """The asyncio twin of :class:`ArkBatch`; same arguments, awaitable methods.

    ``max_connections`` (default 8) caps the connection pool of a client this object
    creates: httpcore's async pool costs more CPU per request as connections grow (at 32
    connections on loopback, throughput was a third of that at 8), and the Ark control
    plane's flow limits make more parallelism pointless. ``None`` keeps httpx's default.
    Such a client also reaches sockets through a native-asyncio httpcore backend
    (:mod:`ark_batch._asyncio_backend`) instead of anyio, for less CPU per request; pass
    ``httpx_args={"transport": ...}`` to use your own transport.

    ``timeout=`` mirrors the sync API on purpose (per-request HTTP timeout, or the wait
    deadline that raises WaitTimeoutError with the last job seen), hence ASYNC109 noqa.

    ``iter_jobs``, ``results``, ``errors`` and ``records`` return async iterators. Use
    ``async with`` (or ``await aclose()``) to release connections.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        credentials: Credentials | None = None,
        region: str | None = None,
        client: Client | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: float = 30.0,
        store: ObjectStore | None = None,
        httpx_args: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        max_connections: int | None = DEFAULT_ASYNC_CONNECTIONS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            endpoint,
            credentials=credentials,
            region=region,
            client=client,
            retry=retry,
            timeout=timeout,
            store=store,
            httpx_args=httpx_args,
            environ=environ,
            max_connections=max_connections,
        )
        self._sleep = sleep
        self._clock = clock

    async def _call(
        self,
        action: str,
        payload: bytes,
        retry: RetryPolicy | None,
        timeout: _Timeout,  # noqa: ASYNC109
        on_retry: OnRetry | None = None,
    ) -> Any:
        http = self.client.get_async_httpx_client()
        url = self._url(action, http.base_url)
        request_timeout = _timeout(timeout)

        async def attempt() -> Any:
            request = http.build_request(
                "POST", url, content=payload, headers=_actions.JSON_HEADERS, timeout=request_timeout
            )
            try:
                response = await http.send(request)
            except httpx.TransportError as exc:
                raise _actions.transport_error(exc, action) from exc
            return _actions.parse(action, response)

        return await retry_async(
            attempt,
            action=action,
            policy=retry or self.retry,
            sleep=self._sleep,
            clock=self._clock,
            on_retry=on_retry,
        )

    async def aclose(self) -> None:
        """Close the HTTP connections (only if this object created the client)."""
        if self._owns_client:
            await self.client.get_async_httpx_client().aclose()

    async def __aenter__(self) -> AsyncArkBatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def create_job(
        self,
        request: CreateBatchInferenceJobRequest | None = None,
        *,
        on_active_job: OnActiveJob = "return",
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,  # noqa: ASYNC109
        **fields: Unpack[JobFields],
    ) -> CreateBatchInferenceJobResult:
        """See :meth:`ArkBatch.create_job`."""
        payload = _create_body(request, False, dict(fields))
        try:
            result: CreateBatchInferenceJobResult = await self._call(
                CREATE, payload, retry, timeout
            )
        except ActiveJobExistsError as exc:
            if on_active_job == "raise" or exc.job_id is None:
                raise
            return CreateBatchInferenceJobResult(id=exc.job_id)
        return result

    async def validate_job(
        self,
        request: CreateBatchInferenceJobRequest | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,  # noqa: ASYNC109
        **fields: Unpack[JobFields],
    ) -> None:
        """See :meth:`ArkBatch.validate_job`."""
        payload = _create_body(request, True, dict(fields))
        try:
            await self._call(CREATE, payload, retry, timeout)
        except DryRunSucceeded:
            return

    async def get_job(
        self,
        job_id: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,  # noqa: ASYNC109
    ) -> BatchInferenceJob:
        """See :meth:`ArkBatch.get_job`."""
        job: BatchInferenceJob = await self._call(
            GET, _actions.encode({"Id": job_id}), retry, timeout
        )
        return job

    async def list_jobs(
        self,
        request: ListBatchInferenceJobsRequest | None = None,
        *,
        page_number: int = 1,
        page_size: int = 10,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,  # noqa: ASYNC109
        **filters: Unpack[ListFilters],
    ) -> ListBatchInferenceJobsResult:
        """See :meth:`ArkBatch.list_jobs`."""
        body = _list_request(request, filters, page_number=page_number, page_size=page_size)
        page: ListBatchInferenceJobsResult = await self._call(
            LIST, _actions.encode(body.to_dict()), retry, timeout
        )
        return page

    # -- lifecycle ---------------------------------------------------------------------

    async def stop_job(
        self,
        job: str | BatchInferenceJob,
        *,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,  # noqa: ASYNC109
    ) -> None:
        """Stop a Queued or Running job: it becomes Terminating, then Terminated.

        Lines already run keep their results. Stopping a Terminating or Terminated job
        again does nothing; a Completed or Failed job raises
        :class:`~ark_batch.errors.ConflictError`. ``dry_run=True`` only checks.
        """
        payload = _actions.encode(_actions.stop_request(_job_id(job), dry_run=dry_run).to_dict())
        try:
            await self._call(STOP, payload, retry, timeout)
        except DryRunSucceeded:
            if not dry_run:
                raise

    #: Alias of :meth:`stop_job`, for code written against ``batches.cancel``.
    cancel_job = stop_job

    async def resume_job(
        self,
        job: str | BatchInferenceJob,
        *,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,  # noqa: ASYNC109
    ) -> ResumeBatchInferenceJobResult:
        """Queue a Terminated or Failed job again (a Terminated one runs only its lines
        without a result). Retried only where a second run cannot start."""
        payload = _actions.encode(_actions.resume_request(_job_id(job)).to_dict())
        result: ResumeBatchInferenceJobResult = await self._call(RESUME, payload, retry, timeout)
        return result

    async def update_job(
        self,
        job: str | BatchInferenceJob,
        *,
        name: str | None = None,
        description: str | None = None,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,  # noqa: ASYNC109
    ) -> None:
        """Change the job's name and/or description (``""`` clears the description)."""
        request = _actions.update_request(
            _job_id(job), name=name, description=description, dry_run=dry_run
        )
        try:
            await self._call(UPDATE, _actions.encode(request.to_dict()), retry, timeout)
        except DryRunSucceeded:
            if not dry_run:
                raise

    async def delete_job(
        self,
        job: str | BatchInferenceJob,
        *,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        timeout: _Timeout = None,  # noqa: ASYNC109
    ) -> None:
        """Delete a Completed, Failed or Terminated job; its output objects stay.

        An active job raises :class:`~ark_batch.errors.ConflictError` (stop it first).
        A retry answered NotFound counts as done: an earlier attempt deleted the job.
        """
        payload = _actions.encode(_actions.delete_request(_job_id(job), dry_run=dry_run).to_dict())
        retried = _RetrySeen()
        try:
            await self._call(DELETE, payload, retry, timeout, on_retry=retried)
        except DryRunSucceeded:
            if not dry_run:
                raise
        except NotFoundError:
            if not retried.seen:
                raise

    @asynccontextmanager
    async def stop_on_error(self, job: str | BatchInferenceJob) -> AsyncIterator[str]:
        """Stop the job if the ``with`` block raises (Ctrl-C included); yields its Id.

        The block's exception propagates; if stopping fails too, that is added as a note.
        """
        job_id = _job_id(job)
        try:
            yield job_id
        except BaseException as exc:
            with _noting_stop_failure(exc, job_id):
                await self.stop_job(job_id)
            raise

    def iter_jobs(
        self,
        request: ListBatchInferenceJobsRequest | None = None,
        *,
        page_size: int = 100,
        max_pages: int = DEFAULT_MAX_PAGES,
        retry: RetryPolicy | None = None,
        **filters: Unpack[ListFilters],
    ) -> AsyncIterator[BatchInferenceJob]:
        """See :meth:`ArkBatch.iter_jobs`; use with ``async for``."""
        base = _list_request(request, filters, page_size=page_size)
        template = base.to_dict()

        async def fetch(page_number: int, size: int) -> ListBatchInferenceJobsResult:
            body = {**template, "PageNumber": page_number, "PageSize": size}
            page: ListBatchInferenceJobsResult = await self._call(
                LIST, _actions.encode(body), retry, None
            )
            return page

        first = base.page_number if isinstance(base.page_number, int) else 1
        size = base.page_size if isinstance(base.page_size, int) else page_size
        return aiter_jobs(fetch, first_page=first, page_size=size, max_pages=max_pages)

    async def wait(
        self,
        job: str | BatchInferenceJob,
        *,
        poll_interval: float = 5.0,
        timeout: float | None = None,  # noqa: ASYNC109
        on_update: OnUpdate | None = None,
        raise_on_failure: bool = True,
        cancel_on_timeout: bool = False,
    ) -> BatchInferenceJob:
        """See :meth:`ArkBatch.wait`."""
        try:
            return await async_wait_for_job(
                self.get_job,
                _job_id(job),
                poll_interval=poll_interval,
                timeout=timeout,
                on_update=on_update,
                raise_on_failure=raise_on_failure,
                sleep=self._sleep,
                clock=self._clock,
            )
        except WaitTimeoutError as exc:
            if cancel_on_timeout:
                with _noting_stop_failure(exc, _job_id(job)):
                    await self.stop_job(job)
            raise

    async def _stream(
        self,
        reader: Callable[[ObjectStore, BatchInferenceJob], Iterator[ResultRecord]],
        job: str | BatchInferenceJob,
        store: ObjectStore | None,
    ) -> AsyncIterator[ResultRecord]:
        chosen = self._store(store)
        resolved = await self.get_job(job) if isinstance(job, str) else job
        iterator = reader(chosen, resolved)
        # Object-store reads block: read batches of lines in a worker thread.
        while True:
            batch = await asyncio.to_thread(_take, iterator, 512)
            for record in batch:
                yield record
            if len(batch) < 512:
                return

    def results(
        self, job: str | BatchInferenceJob, *, store: ObjectStore | None = None
    ) -> AsyncIterator[ResultRecord]:
        """See :meth:`ArkBatch.results`; use with ``async for``."""
        return self._stream(iter_results, job, store)

    def errors(
        self, job: str | BatchInferenceJob, *, store: ObjectStore | None = None
    ) -> AsyncIterator[ResultRecord]:
        """See :meth:`ArkBatch.errors`; use with ``async for``."""
        return self._stream(iter_errors, job, store)

    def records(
        self, job: str | BatchInferenceJob, *, store: ObjectStore | None = None
    ) -> AsyncIterator[ResultRecord]:
        """See :meth:`ArkBatch.records`; use with ``async for``."""
        return self._stream(iter_records, job, store)


class _RetrySeen:
    """An ``on_retry`` callback that remembers whether any retry happened."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, attempt: int, error: BaseException, delay: float) -> None:
        self.seen = True


@contextmanager
def _noting_stop_failure(exc: BaseException, job_id: str) -> Iterator[None]:
    """Run a stop on the way out of ``exc``; a failing stop becomes a note on ``exc``."""
    try:
        yield
    except ArkBatchError as stop_error:
        exc.add_note(f"stopping job {job_id} failed: {stop_error}")


def _take(iterator: Iterator[ResultRecord], count: int) -> list[ResultRecord]:
    batch: list[ResultRecord] = []
    for record in iterator:
        batch.append(record)
        if len(batch) >= count:
            break
    return batch
