"""The one core of ``ArkBatch`` and ``AsyncArkBatch``: every call as a sans-I/O flow.

A flow is a generator that yields what it needs done, :class:`Send` (one HTTP
exchange) or :class:`Sleep`, and is resumed with the :class:`Reply` or with the typed
error the exchange raised. Request bodies, retries, deadlines, clock-skew correction,
waiting and parsing live here once. The sync and async facades only drive flows: they
perform each Send and Sleep in their own way (their request loop), like openai-python's
``SyncAPIClient``/``AsyncAPIClient`` over one ``BaseClient``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

import attrs
import httpx

from ark_batch import _actions
from ark_batch._actions import JobFields, ListFilters
from ark_batch._api import (
    CREATE,
    DEFAULT_PAGE_NUMBER,
    DELETE,
    GET,
    LIST,
    MAX_PAGE_SIZE,
    RESUME,
    STOP,
    UPDATE,
    action_url,
)
from ark_batch._flow import Flow, Reply, Send, Sleep
from ark_batch.auth import Clock as SigningClock
from ark_batch.connect import SyncTransportChoice, make_client, signing_auth
from ark_batch.credentials import Credentials, resolve_credentials
from ark_batch.errors import (
    ActiveJobExistsError,
    ApiError,
    ArkBatchError,
    AuthenticationError,
    DeadlineExceededError,
    DryRunSucceeded,
    InvalidSettingError,
    NotFoundError,
    RedirectError,
    ResponseTooLargeError,
    TransportError,
    UnexpectedResponseError,
    WaitTimeoutError,
    http_date,
)
from ark_batch.pagination import DEFAULT_MAX_PAGES
from ark_batch.results import ResultRecord, iter_errors, iter_records, iter_results
from ark_batch.retries import DEFAULT_RETRY, RetryPolicy, next_delay
from ark_batch.waiter import OnUpdate, wait_flow
from ark_batch_client import Client
from ark_batch_client.models import (
    BatchInferenceJob,
    CreateBatchInferenceJobRequest,
    CreateBatchInferenceJobResult,
    GetBatchInferenceJobRequest,
    ListBatchInferenceJobsRequest,
    ListBatchInferenceJobsResult,
    ResumeBatchInferenceJobResult,
)
from ark_batch_client.types import Unset

if TYPE_CHECKING:
    from ark_batch.storage import ObjectStore

__all__ = [
    "CallOptions",
    "FacadeCore",
    "Flow",
    "OnActiveJob",
    "Reply",
    "ResponseObserver",
    "Send",
    "Sleep",
]

logger = logging.getLogger("ark_batch")

#: What ``create_job`` does when a Queued/Running job has the same project and input:
#: ``"return"`` that job's Id (the default), or ``"raise"`` ActiveJobExistsError.
OnActiveJob = Literal["return", "raise"]

#: ``on_response(action, status, headers, body)``: called with every whole response the
#: facade read (each attempt, before it is parsed), e.g. to log or keep raw bodies.
ResponseObserver = Callable[[str, int, httpx.Headers, bytes], None]

_MAY_EXIST = (
    " The job may have been created anyway: look for it with list_jobs(name=...) "
    "(ark-batch list --name NAME) before creating it again."
)


class CallOptions(TypedDict, total=False):
    """Per-call options every action takes.

    ``retry``: the :class:`RetryPolicy` for this call. ``timeout``: httpx's per-phase
    timeout (connect, read, write, pool), seconds or ``httpx.Timeout``. ``deadline``:
    seconds for the whole call, retries included, however slowly the server sends its
    body (default: the client's ``deadline``, else the policy's ``total_timeout``). On
    httpx's own sync transport a server trickling its headers can hold a call past it:
    each header line resets the read timeout.
    """

    retry: RetryPolicy | None
    timeout: float | httpx.Timeout | None
    deadline: float | None


class BodyReader:
    """Collects a response body under the size cap and the deadline."""

    __slots__ = ("action", "chunks", "clock", "deadline", "limit", "request", "size", "status")

    def __init__(
        self, send: Send, clock: Callable[[], float], limit: int | None, request: httpx.Request
    ) -> None:
        self.action = send.action
        self.request = request
        self.deadline = send.deadline
        self.clock = clock
        self.limit = limit
        self.status = 0
        self.size = 0
        self.chunks: list[bytes] = []

    def start(
        self, response: httpx.Response
    ) -> httpx.SyncByteStream | httpx.AsyncByteStream | None:
        """Check the stated length; return the stream to read the body from raw, if any.

        A body without ``Content-Encoding`` needs no decoder, so it is read straight from
        the transport's stream: httpx's decoding chain and its raw-iteration generator
        are a measurable share of a small call's CPU. A body already read or closed (by
        a transport or hook) is left to httpx's own reading (None).
        """
        self.status = response.status_code
        # One pass over the raw names: a lookup by str would make httpx check the
        # encoding of every header first.
        length = b""
        encoded = False
        for name, value in response.headers.raw:
            lowered = name.lower()
            if lowered == b"content-length":
                length = value
            elif lowered == b"content-encoding":
                encoded = True
        if self.limit is not None and length.isdigit() and int(length) > self.limit:
            raise self._too_large()
        if encoded or response.is_stream_consumed or response.is_closed:
            return None
        return response.stream

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            raise self._too_large()
        self.chunks.append(chunk)
        if self.deadline is not None and self.clock() >= self.deadline:
            raise _deadline_error(self.action)

    def reply(self, response: httpx.Response) -> Reply:
        return Reply(response.status_code, response.headers, b"".join(self.chunks))

    def failure(self, exc: Exception) -> Exception:
        """Our typed error for what the exchange raised (anything else stays as it is)."""
        if isinstance(exc, ArkBatchError) or not is_transport_failure(exc):
            return exc
        if isinstance(exc, httpx.DecodingError):
            return UnexpectedResponseError(
                f"the body could not be decoded ({exc})", status=self.status, action=self.action
            )
        if isinstance(exc, httpx.RequestError):
            # The body is read straight from the transport's stream, outside httpx's own
            # reading, which would have named the request on the error (the __cause__).
            try:
                exc.request  # noqa: B018  # raises when unset
            except RuntimeError:
                exc.request = self.request
        if self.deadline is not None and self.clock() >= self.deadline:
            return _deadline_error(self.action)
        return _actions.transport_error(exc, self.action, _origin(self.request.url))

    def _too_large(self) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"the body is larger than max_response_bytes={self.limit}",
            status=self.status,
            action=self.action,
        )


def _deadline_error(action: str) -> DeadlineExceededError:
    return DeadlineExceededError(f"the call's deadline passed ({action})", action=action)


def _origin(url: httpx.URL) -> str:
    """``scheme://host[:port]``: no user:password@, path or query."""
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


def is_transport_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a network or protocol failure from httpx or its transport."""
    return isinstance(exc, httpx.HTTPError | TimeoutError | OSError) or _actions.is_aiohttp_error(
        exc
    )


def _note_may_exist(error: ArkBatchError) -> None:
    """Say on a failed Create that reached the service that the job may exist."""
    if isinstance(error, RedirectError | ResponseTooLargeError):
        return
    if isinstance(error, ApiError):
        if error.status >= 500:
            error.message += _MAY_EXIST
            error.args = (error.one_line(),)
    elif isinstance(error, UnexpectedResponseError) or (
        isinstance(error, TransportError) and error.sent
    ):
        error.args = (f"{error.args[0]}{_MAY_EXIST}",)


def _capped(timeout: httpx.Timeout, remaining: float | None) -> httpx.Timeout:
    if remaining is None or _within(timeout, remaining):
        return timeout
    remaining = max(remaining, 0.001)

    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


def _within(timeout: httpx.Timeout, remaining: float) -> bool:
    """Whether every phase of ``timeout`` is set and already no longer than ``remaining``."""
    phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    return all(value is not None and value <= remaining for value in phases)


#: The largest clock offset (seconds) taken from a server's ``Date``. A clock set to
#: local time as if it were UTC is off by up to 14 hours, the commonest large skew; a
#: ``Date`` further off is a broken or hostile gateway, and trusting it would sign every
#: later call with an absurd time (or overflow the signing clock). The call then fails
#: with the service's own InvalidTimestamp error.
MAX_CLOCK_SKEW = 24 * 3600.0


def _server_offset(reply: Reply, now: float) -> float | None:
    """Seconds the server's ``Date`` is ahead of ``now`` (a POSIX time), if it has one."""
    value = reply.headers.get("date")
    if not value:
        return None
    server = http_date(value)
    return None if server is None else server.timestamp() - now


class FacadeCore:
    """Construction, options and every action's flow, shared by both facades."""

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        credentials: Credentials | None = None,
        region: str | None = None,
        client: Client | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: float | httpx.Timeout = 30.0,
        deadline: float | None = None,
        max_response_bytes: int | None = None,
        store: ObjectStore | None = None,
        httpx_args: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        max_connections: int | None = None,
        signing_clock: SigningClock | None = None,
        sleep: Callable[[float], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_response: ResponseObserver | None = None,
        sync_transport: SyncTransportChoice = "auto",
    ) -> None:
        if access_key is not None or secret_key is not None:
            if credentials is not None:
                raise TypeError("pass either credentials= or access_key/secret_key")
            credentials = resolve_credentials(access_key, secret_key, session_token, environ={})
        if client is None:
            client = make_client(
                endpoint,
                credentials=credentials,
                region=region,
                timeout=timeout,
                environ=environ,
                httpx_args=httpx_args,
                max_connections=max_connections,
                clock=signing_clock,
                sync_transport=sync_transport,
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
        #: Default total deadline of a call in seconds (None: the policy's total_timeout).
        self.deadline = deadline
        #: Refuse response bodies larger than this many bytes (None: no cap).
        self.max_response_bytes = max_response_bytes
        #: Object store for :meth:`results`/:meth:`errors` (the job's output bucket).
        self.store = store
        given = getattr(client, "_timeout", None)
        self._timeout = given if isinstance(given, httpx.Timeout) else httpx.Timeout(timeout)
        self._auth = signing_auth(client)
        self._urls: dict[str, httpx.URL] = {}
        self._sleep = self._default_sleep if sleep is None else sleep
        self._clock = clock
        self._on_response = on_response

    _default_sleep: Callable[[float], Any] = staticmethod(time.sleep)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint='{_origin(httpx.URL(self.client._base_url))}')"

    def _url(self, action: str, base_url: httpx.URL) -> httpx.URL:
        url = self._urls.get(action)
        if url is None:
            url = self._urls[action] = action_url(base_url, action)
        return url

    def _store(self, store: ObjectStore | None) -> ObjectStore:
        chosen = store if store is not None else self.store
        if chosen is None:
            raise ValueError(
                "reading results needs an object store: pass store= (e.g. "
                "ark_batch.storage.open_store('file:///path/to/emulator-data/objects'))"
            )
        return chosen

    def _prepare(
        self, http: httpx.Client | httpx.AsyncClient, send: Send
    ) -> tuple[httpx.Request, BodyReader]:
        request = http.build_request(
            "POST",
            self._url(send.action, http.base_url),
            content=send.body,
            headers=_actions.JSON_HEADERS,
            timeout=send.timeout,
        )
        return request, BodyReader(send, self._clock, self.max_response_bytes, request)

    # -- the call loop -------------------------------------------------------------------

    def _call(
        self,
        action: str,
        body: bytes,
        options: CallOptions,
        *,
        done_if_gone: bool = False,
        parse: Callable[[str, int, httpx.Headers, bytes], Any] = _actions.parse,
    ) -> Flow[Any]:
        """Send ``body`` until it succeeds, retrying as the policy allows.

        ``done_if_gone``: a retry answered NotFound returns None (an earlier attempt,
        whose answer was lost, removed the job). ``parse`` reads each response.
        """
        policy = options.get("retry") or self.retry
        clock = self._clock
        started = clock()
        seconds = options.get("deadline")
        if seconds is None:
            seconds = self.deadline if self.deadline is not None else policy.total_timeout
        deadline = None if seconds is None else started + seconds
        given = options.get("timeout")
        timeout = self._timeout if given is None else httpx.Timeout(given)
        attempt = 1
        corrected = False
        while True:
            remaining = None if deadline is None else deadline - clock()
            reply: Reply | None = None
            try:
                if remaining is not None and remaining <= 0:
                    raise _deadline_error(action)
                reply = yield Send(action, body, _capped(timeout, remaining), deadline)
                assert reply is not None  # drivers resume a Send with its Reply
                if self._on_response is not None:
                    self._on_response(action, reply.status, reply.headers, reply.content)
                return parse(action, reply.status, reply.headers, reply.content)
            except (ApiError, TransportError, UnexpectedResponseError) as error:
                if done_if_gone and attempt > 1 and isinstance(error, NotFoundError):
                    return None
                if not corrected and reply is not None and self._correct_skew(error, reply):
                    corrected = True
                    continue
                delay = next_delay(policy, action, error, attempt, started, clock(), deadline)
                if delay is None:
                    if action == CREATE:
                        _note_may_exist(error)
                    raise
                logger.info(
                    "%s attempt %d of %d failed (%s); retrying in %.2fs",
                    action,
                    attempt,
                    policy.max_attempts,
                    error,
                    delay,
                )
                yield Sleep(delay)
                attempt += 1

    def _correct_skew(self, error: BaseException, reply: Reply) -> bool:
        """On InvalidTimestamp, take the offset from the server's Date (as botocore does)."""
        if not (isinstance(error, AuthenticationError) and error.code == "InvalidTimestamp"):
            return False
        auth = self._auth
        if auth is None:
            return False
        offset = _server_offset(reply, auth.now().timestamp())
        if offset is None or abs(auth.clock_offset + offset) > MAX_CLOCK_SKEW:
            return False
        auth.clock_offset += offset
        logger.warning(
            "the service rejected the request time; the local clock is %.0fs off the "
            "server's Date, signing with the corrected time",
            -offset,
        )
        return True

    # -- actions (the public methods of both facades) ----------------------------------

    def _create_job(
        self,
        request: CreateBatchInferenceJobRequest | None = None,
        *,
        on_active_job: OnActiveJob = "return",
        extra_body: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
        **fields: Unpack[JobFields],
    ) -> Flow[CreateBatchInferenceJobResult]:
        """Create a job; return its Id (``.id``).

        Give either a generated ``request`` or the fields: ``model`` as ``name`` plus
        ``model_version`` (or ``"name:version"``) or ``custom_model_id``; ``input`` and
        ``output`` as ``"bucket/key"``/``"tos://bucket/key"``. ``extra_body`` adds fields
        the facade does not know by name. If a Queued/Running job already has this
        project and input, its Id is returned (``on_active_job="raise"`` raises
        :class:`~ark_batch.errors.ActiveJobExistsError` instead).
        """
        body = _create_body(request, False, dict(fields), extra_body)
        options = CallOptions(retry=retry, timeout=timeout, deadline=deadline)
        try:
            result: CreateBatchInferenceJobResult = yield from self._call(CREATE, body, options)
        except ActiveJobExistsError as exc:
            if on_active_job == "raise" or exc.job_id is None:
                raise
            return CreateBatchInferenceJobResult(id=exc.job_id)
        return result

    def _validate_job(
        self,
        request: CreateBatchInferenceJobRequest | None = None,
        *,
        extra_body: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
        **fields: Unpack[JobFields],
    ) -> Flow[None]:
        """Dry-run a Create: return if the service would accept it, raise if not.

        Only the service's answer to a passing dry run, ``DryRunOperation``, returns.
        Any 2xx raises :class:`~ark_batch.errors.UnexpectedResponseError`; one that
        carries a Create result names the job the service created all the same.
        """
        body = _create_body(request, True, dict(fields), extra_body)
        options = CallOptions(retry=retry, timeout=timeout, deadline=deadline)
        try:
            yield from self._call(CREATE, body, options, parse=_actions.parse_dry_run)
        except DryRunSucceeded:
            return

    def _get_job(self, job_id: str, **options: Unpack[CallOptions]) -> Flow[BatchInferenceJob]:
        """The job with this Id (:class:`~ark_batch.errors.NotFoundError` if none)."""
        body = _actions.encode(GetBatchInferenceJobRequest(id=job_id).to_dict())
        job: BatchInferenceJob = yield from self._call(GET, body, options)
        return job

    def _list_jobs(
        self,
        request: ListBatchInferenceJobsRequest | None = None,
        *,
        page_number: int | None = None,
        page_size: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
        **filters: Unpack[ListFilters],
    ) -> Flow[ListBatchInferenceJobsResult]:
        """One page of jobs (``.items``, ``.total_count``).

        Give either a generated ``request`` or keyword filters; page number and size
        default to the spec's. ``extra_body`` adds fields the facade does not know.
        """
        body = _list_request(request, filters, page_number=page_number, page_size=page_size)
        options = CallOptions(retry=retry, timeout=timeout, deadline=deadline)
        page: ListBatchInferenceJobsResult = yield from self._call(
            LIST, _actions.encode(body.to_dict(), extra_body), options
        )
        return page

    # -- lifecycle ----------------------------------------------------------------------

    def _stop_job(
        self,
        job: str | BatchInferenceJob,
        *,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> Flow[None]:
        """Stop a Queued or Running job: it becomes Terminating, then Terminated.

        Lines already run keep their results. Stopping a Terminating or Terminated job
        again does nothing; a Completed or Failed job raises
        :class:`~ark_batch.errors.ConflictError`. ``dry_run=True`` only checks.
        """
        body = _actions.encode(_actions.stop_request(job_id_of(job), dry_run=dry_run).to_dict())
        options = CallOptions(retry=retry, timeout=timeout, deadline=deadline)
        yield from _dry_run_passes(self._call(STOP, body, options), dry_run)

    def _resume_job(
        self,
        job: str | BatchInferenceJob,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> Flow[ResumeBatchInferenceJobResult]:
        """Queue a Terminated or Failed job again (a Terminated one runs only its lines
        without a result). Retried only where a second run cannot start."""
        body = _actions.encode(_actions.resume_request(job_id_of(job)).to_dict())
        options = CallOptions(retry=retry, timeout=timeout, deadline=deadline)
        result: ResumeBatchInferenceJobResult = yield from self._call(RESUME, body, options)
        return result

    def _update_job(
        self,
        job: str | BatchInferenceJob,
        *,
        name: str | None = None,
        description: str | None = None,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> Flow[None]:
        """Change the job's name and/or description (``""`` clears the description)."""
        request = _actions.update_request(
            job_id_of(job), name=name, description=description, dry_run=dry_run
        )
        options = CallOptions(retry=retry, timeout=timeout, deadline=deadline)
        call = self._call(UPDATE, _actions.encode(request.to_dict()), options)
        yield from _dry_run_passes(call, dry_run)

    def _delete_job(
        self,
        job: str | BatchInferenceJob,
        *,
        dry_run: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> Flow[None]:
        """Delete a Completed, Failed or Terminated job; its output objects stay.

        An active job raises :class:`~ark_batch.errors.ConflictError` (stop it first).
        A retry answered NotFound counts as done: an earlier attempt deleted the job.
        """
        body = _actions.encode(_actions.delete_request(job_id_of(job), dry_run=dry_run).to_dict())
        options = CallOptions(retry=retry, timeout=timeout, deadline=deadline)
        call = self._call(DELETE, body, options, done_if_gone=True)
        yield from _dry_run_passes(call, dry_run)

    def _wait(
        self,
        job: str | BatchInferenceJob,
        *,
        poll_interval: float = 5.0,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        raise_on_failure: bool = True,
        cancel_on_timeout: bool = False,
        update_every: float | None = None,
    ) -> Flow[BatchInferenceJob]:
        """Poll until the job is Completed, Failed or Terminated and return it.

        ``timeout`` is a deadline: each poll's own deadline is capped by the time left,
        transient errors (throttling, 5xx, network) are retried until it passes, and
        then :class:`~ark_batch.errors.WaitTimeoutError` is raised with the last job
        seen (with ``cancel_on_timeout=True`` the job is stopped first).
        Failed/Terminated raise :class:`~ark_batch.errors.JobFailedError` unless
        ``raise_on_failure=False``. ``on_update(job)`` sees each change; with
        ``update_every`` (seconds) it sees a phase change at once and otherwise the job
        once per ``update_every``, changed or not (steady progress for logs).
        """

        def get(job_id: str, deadline: float | None) -> Flow[BatchInferenceJob]:
            # The poll at the deadline still gets a moment to answer.
            left = None if deadline is None else max(deadline - self._clock(), LAST_POLL_SECONDS)
            return self._get_job(job_id, deadline=left)

        job_id = job_id_of(job)
        try:
            result: BatchInferenceJob = yield from wait_flow(
                get,
                job_id,
                poll_interval=poll_interval,
                timeout=timeout,
                on_update=on_update,
                raise_on_failure=raise_on_failure,
                update_every=update_every,
                clock=self._clock,
                policy=self.retry,
            )
        except WaitTimeoutError as exc:
            if cancel_on_timeout:
                with noting_stop_failure(exc, job_id):
                    yield from self._stop_job(job_id)
            raise
        return result

    def _iter_jobs(
        self,
        request: ListBatchInferenceJobsRequest | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
        extra_body: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        **filters: Unpack[ListFilters],
    ) -> Pages:
        """Every matching job across all pages, fetched lazily page by page."""
        base = _list_request(request, filters, page_size=page_size)

        def fetch(page_number: int, size: int) -> Flow[ListBatchInferenceJobsResult]:
            body = attrs.evolve(base, page_number=page_number, page_size=size).to_dict()
            page: ListBatchInferenceJobsResult = yield from self._call(
                LIST, _actions.encode(body, extra_body), CallOptions(retry=retry)
            )
            return page

        def given(value: object, name: str, default: int) -> int:
            # The generated model keeps whatever JSON it was given: a page number of "3"
            # must not quietly become page 1 (every job listed).
            if isinstance(value, Unset):
                return default
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidSettingError(f"{name} must be an integer, not {value!r}")
            return value

        first = given(base.page_number, "PageNumber", DEFAULT_PAGE_NUMBER)
        size = given(base.page_size, "PageSize", page_size)
        return Pages(fetch, first, size, max_pages)

    def _reading(
        self, reader: Reader, job: str | BatchInferenceJob, store: ObjectStore | None
    ) -> Flow[Iterator[ResultRecord]]:
        chosen = self._store(store)
        if isinstance(job, str):
            job = yield from self._get_job(job)
        return reader(chosen, job)

    def _results(
        self, job: str | BatchInferenceJob, *, store: ObjectStore | None = None
    ) -> Flow[Iterator[ResultRecord]]:
        """Stream the job's successful results (a missing file yields nothing)."""
        return self._reading(iter_results, job, store)

    def _errors(
        self, job: str | BatchInferenceJob, *, store: ObjectStore | None = None
    ) -> Flow[Iterator[ResultRecord]]:
        """Stream the job's failed requests (nothing when it wrote no errors file)."""
        return self._reading(iter_errors, job, store)

    def _records(
        self, job: str | BatchInferenceJob, *, store: ObjectStore | None = None
    ) -> Flow[Iterator[ResultRecord]]:
        """Results, then errors."""
        return self._reading(iter_records, job, store)


@dataclass(frozen=True, slots=True)
class Pages:
    """How ``iter_jobs`` fetches: a page flow, the first page number, size and limit."""

    fetch: Callable[[int, int], Flow[ListBatchInferenceJobsResult]]
    first: int
    size: int
    max_pages: int


Reader = Callable[["ObjectStore", BatchInferenceJob], Iterator[ResultRecord]]


#: The least time a wait's poll is given, so that a wait whose time is up (or a
#: ``timeout=0``) still polls once; a wait overruns its timeout by at most this much.
LAST_POLL_SECONDS = 1.0


def _create_body(
    request: CreateBatchInferenceJobRequest | None,
    dry_run: bool,
    kwargs: dict[str, Any],
    extra_body: Mapping[str, Any] | None,
) -> bytes:
    if request is None:
        request = _actions.create_request(dry_run=dry_run, **kwargs)
    elif any(value is not None for value in kwargs.values()):
        raise TypeError("pass either a CreateBatchInferenceJobRequest or keyword fields")
    elif dry_run:
        request = attrs.evolve(request, dry_run=True)  # never mutate the caller's request
    return _actions.encode(request.to_dict(), extra_body)


def _list_request(
    request: ListBatchInferenceJobsRequest | None,
    filters: ListFilters,
    *,
    page_number: int | None = None,
    page_size: int | None = None,
) -> ListBatchInferenceJobsRequest:
    if request is None:
        return _actions.list_request(page_number=page_number, page_size=page_size, **filters)
    if any(value is not None for value in filters.values()):
        raise TypeError("pass either a ListBatchInferenceJobsRequest or keyword filters")
    return request


def job_id_of(job: str | BatchInferenceJob) -> str:
    """The Id of a job given as an Id or a model."""
    return job if isinstance(job, str) else job.id


def _dry_run_passes(call: Flow[Any], dry_run: bool) -> Flow[None]:
    """Run a lifecycle call; with ``dry_run`` the service's DryRunOperation is a pass."""
    try:
        yield from call
    except DryRunSucceeded:
        if not dry_run:
            raise


@contextmanager
def noting_stop_failure(exc: BaseException, job_id: str) -> Iterator[None]:
    """Run a stop on the way out of ``exc``; a failing stop becomes a note on ``exc``."""
    try:
        yield
    except ArkBatchError as stop_error:
        exc.add_note(f"stopping job {job_id} failed: {stop_error}")
