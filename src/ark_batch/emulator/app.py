"""The ASGI application: thin request handling between routing and the backend.

``create_app(config)`` returns a Starlette app; ``app.state.emulator`` is the
:class:`EmulatorState` (config, store, backend, faults, lifespan hooks). Requests are
parsed on the event loop; the backend, and so every database call, runs on
``EmulatorState.executor`` threads (decision 0016).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ark_batch.emulator.admission import BodyBudget, HeaderGate, Reservation
from ark_batch.emulator.backend import Backend
from ark_batch.emulator.config import AccountCredential, EmulatorConfig
from ark_batch.emulator.faults import FaultInjector
from ark_batch.emulator.log_limit import RateLimitedLog
from ark_batch.emulator.parsing import parse_body
from ark_batch.emulator.protocol import (
    EnvelopeError,
    envelope_headers,
    error_body,
    request_id,
    success_body,
)
from ark_batch.emulator.routing import check_method, check_operation, check_path, resolve_action
from ark_batch.emulator.shapes import VersionShapes
from ark_batch.emulator.signature import SignatureVerifier
from ark_batch.emulator.storage_faults import unavailable_error
from ark_batch.emulator.store import JobStore
from ark_batch.emulator.targets import RequestTargetMiddleware
from ark_batch.signing import parse_authorization
from ark_batch.spec import default_registry, load_registry

__all__ = ["EmulatorState", "LifespanHook", "create_app"]

logger = logging.getLogger("ark_batch.emulator")

#: Threads for backend calls: enough that a Get finds one free while several Lists run
#: (each thread has its own SQLite connection).
DATABASE_THREADS = 8
#: Threads for the actions that read many jobs (``Backend.bulk_actions``). They run at a
#: lower CPU priority, so on a busy core a Get is not queued behind them (decision 0016).
BULK_THREADS = 4
BULK_NICENESS = 10
_LOWEST_PRIORITY = 19  # the highest nice value


def _lower_thread_priority() -> None:
    # Linux gives each thread its own nice value; elsewhere the threads keep the default.
    if sys.platform.startswith("linux"):
        thread = threading.get_native_id()
        try:
            niceness = os.getpriority(os.PRIO_PROCESS, thread) + BULK_NICENESS
            os.setpriority(os.PRIO_PROCESS, thread, min(niceness, _LOWEST_PRIORITY))
        except OSError:
            logger.debug("could not lower the priority of a bulk database thread")


LifespanHook = Callable[["EmulatorState"], Awaitable[None] | None]


@dataclass
class EmulatorState:
    """Everything a running emulator holds; ``app.state.emulator``.

    ``startup_hooks`` run (in order) when the server starts, ``shutdown_hooks`` (in
    reverse order) when it stops; each takes this state and may be sync or async. Job
    execution registers its worker here. In-process ASGI tests that do not run the
    lifespan never trigger them.
    """

    config: EmulatorConfig
    store: JobStore
    backend: Backend
    faults: FaultInjector
    verifier: SignatureVerifier
    #: Runs backend calls, so database work never blocks the event loop.
    executor: ThreadPoolExecutor
    #: Runs the backend calls that read many jobs, at a lower priority.
    bulk_executor: ThreadPoolExecutor
    #: The shapes of every Version served, by Version.
    versions: dict[str, VersionShapes]
    startup_hooks: list[LifespanHook] = field(default_factory=list)
    shutdown_hooks: list[LifespanHook] = field(default_factory=list)

    def close(self) -> None:
        """Stop the backend threads and close every connection (the app is unusable after)."""
        self.executor.shutdown(wait=True)
        self.bulk_executor.shutdown(wait=True)
        self.store.close()


class _ClientDisconnectedError(Exception):
    pass


async def _read_body(
    receive: Receive, limit: int, declared: int | None, reservation: Reservation
) -> bytes:
    if declared is not None and declared > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientDisconnectedError
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        reservation.grow(len(chunk))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _declared_length(value: str | None) -> int | None:
    """Content-Length as a number, or None when absent or not a number."""
    if not value or not value.isdigit():
        return None
    # int() refuses strings of over 4300 digits; anything past 18 is too large anyway.
    return int(value) if len(value) <= 18 else sys.maxsize


def _too_large(limit: int) -> EnvelopeError:
    return EnvelopeError(
        "RequestEntityTooLarge", f"The request body is larger than the limit of {limit} bytes."
    )


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        try:
            value = raw_value.decode("utf-8")
        except UnicodeDecodeError:
            value = raw_value.decode("latin-1")
        previous = headers.get(name)
        # Repeated headers are joined as httpx (and so our signer) joins them.
        headers[name] = value if previous is None else f"{previous}, {value}"
    return headers


def _raw_path(scope: Scope) -> str:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    return raw_path.decode("latin-1").partition("?")[0]


class _Handler:
    """The single endpoint: every request is ``POST /?Action=..&Version=..``."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        config = state.config
        self.clock = config.clock
        self.region = config.region
        self.limit = config.max_body_bytes
        self.verify = config.verify_signatures
        self.default_account = config.accounts[0]
        self.accounts = {account.access_key: account for account in config.accounts}
        self.spec = load_registry(config.spec_dirs)
        self.body_budget = BodyBudget(config.max_inflight_body_bytes)
        self.failures = RateLimitedLog(logger)
        self.header_gate = HeaderGate(
            state.verifier, config.accounts, config.clock, config.clock_skew
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reservation = self.body_budget.reservation()
        try:
            await self._handle(scope, receive, send, reservation)
        finally:
            reservation.release()

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, reservation: Reservation
    ) -> None:
        rid = request_id(self.clock())
        action: str | None = None
        version: str | None = None
        extra_headers: dict[str, str] = {}
        try:
            check_method(scope["method"])
            check_path(scope["path"])
            raw_query = scope["query_string"].decode("latin-1")
            action, version = resolve_action(raw_query)
            action, version = check_operation(action, version, self.spec)
            headers = _headers(scope)
            if self.verify:
                # Rejected from the headers alone, before any body byte is read.
                self.header_gate.check(scope["method"], _raw_path(scope), raw_query, headers)
            body = await _read_body(
                receive, self.limit, _declared_length(headers.get("content-length")), reservation
            )
            account = self._authenticate(scope, raw_query, headers, body)
            self.state.faults.check(action)
            parsed = parse_body(action, body, self.spec.request_validator(version, action))
            handle = functools.partial(
                self.state.backend.handle, action, self.state.versions[version], account, parsed
            )
            executor = (
                self.state.bulk_executor
                if action in self.state.backend.bulk_actions
                else self.state.executor
            )
            result = await asyncio.get_running_loop().run_in_executor(executor, handle)
            status = 200
            payload = success_body(rid, action, version, self.region, result)
        except EnvelopeError as error:
            status = error.status
            extra_headers = error.headers
            payload = error_body(rid, action, version, self.region, error)
        except _ClientDisconnectedError:
            return
        except Exception as exc:
            # Storage trouble (full disk, read-only data dir) is a 503 with Retry-After;
            # both kinds are logged at most once per interval, not once per request.
            failure = unavailable_error(exc)
            if failure is None:
                self.failures.error("request %s failed", rid, exc_info=True)
                failure = EnvelopeError(
                    "InternalError", "The service encountered an internal error."
                )
            else:
                self.failures.warning("request %s: %s", rid, failure.message)
            status = failure.status
            extra_headers = failure.headers
            payload = error_body(rid, action, version, self.region, failure)
        response_headers = envelope_headers(payload, extra_headers)
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})

    def _authenticate(
        self, scope: Scope, raw_query: str, headers: dict[str, str], body: bytes
    ) -> AccountCredential:
        if self.verify:
            return self.state.verifier.verify(
                scope["method"], _raw_path(scope), raw_query, headers, body
            )
        # Unverified mode still honours the claimed access key, so accounts stay apart.
        try:
            claimed = parse_authorization(headers.get("authorization", "")).access_key
        except ValueError:
            return self.default_account
        return self.accounts.get(claimed, self.default_account)


async def _run_hooks(hooks: list[LifespanHook], state: EmulatorState) -> None:
    for hook in hooks:
        outcome = hook(state)
        if inspect.isawaitable(outcome):
            await outcome


def create_app(config: EmulatorConfig) -> Starlette:
    """Build the emulator app over ``config.data_dir`` (created if missing).

    ``config.execution.install(state)`` (an `ExecutionInstaller`) is called once here, so
    job execution can add lifespan hooks and keep a reference to the store.
    """
    store = JobStore.open(config.data_dir, config.clock)
    # Every Version present is served, each in its own shapes; direct backend calls use
    # the newest shipped one.
    registry = load_registry(config.spec_dirs)
    versions = {version: VersionShapes(registry.document(version)) for version in registry.versions}
    shipped = VersionShapes(default_registry().document())
    state = EmulatorState(
        config=config,
        store=store,
        backend=Backend(store, config.clock, versions.get(shipped.version, shipped)),
        faults=FaultInjector(),
        verifier=SignatureVerifier(config.accounts, config.region, config.clock, config.clock_skew),
        executor=ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="ark-batch-db"),
        bulk_executor=ThreadPoolExecutor(
            BULK_THREADS, thread_name_prefix="ark-batch-db-bulk", initializer=_lower_thread_priority
        ),
        versions=versions,
    )
    if config.execution is not None:
        config.execution.install(state)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await _run_hooks(state.startup_hooks, state)
        try:
            yield
        finally:
            await _run_hooks(list(reversed(state.shutdown_hooks)), state)

    app = Starlette(
        routes=[Route("/{path:path}", _Handler(state))],
        middleware=[Middleware(RequestTargetMiddleware)],
        lifespan=lifespan,
    )
    app.state.emulator = state
    return app
