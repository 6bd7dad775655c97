"""Fixtures for running the emulator in tests; reusable by other test folders.

Two ways to talk to an emulator, both with a signed generated client:

* ``emulator_client``: a real uvicorn server on a free loopback port, served from a
  background thread (``emulator_server`` gives its URL). Works with the generated
  ``sync``/``sync_detailed`` **and** ``asyncio`` functions, and runs the app's lifespan
  (so job-execution hooks start). Use this by default.
* ``emulator_asgi_client``: in-process through ``httpx.ASGITransport``; async functions
  only (the transport is async), no sockets, no lifespan. Fastest for async tests.

``emulator_config`` uses a ``LiveClock`` (``emulator_clock``: wall clock plus a movable
offset) so tests can move the server's time. It accepts the development pair, a second
account (``OTHER``) and an STS credential (``STS``), all in ``emulator_support``.
Override ``emulator_config`` in a conftest to change it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from emulator_support import DEV, DEV_CREDENTIALS, OTHER, STS, LiveClock
from starlette.applications import Starlette

from ark_batch.connect import make_client
from ark_batch.emulator import EmulatorConfig, EmulatorState, create_app
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch_client import Client


@pytest.fixture
def emulator_clock() -> LiveClock:
    """The config's clock: real time, movable with ``advance``."""
    return LiveClock()


@pytest.fixture
def emulator_config(tmp_path: Path, emulator_clock: LiveClock) -> EmulatorConfig:
    """Config over a fresh data dir, with the DEV, OTHER and STS credentials."""
    return EmulatorConfig(
        data_dir=tmp_path / "emulator", accounts=(DEV, OTHER, STS), clock=emulator_clock
    )


@pytest.fixture
def emulator_app(emulator_config: EmulatorConfig) -> Iterator[Starlette]:
    """The ASGI app; its store is closed after the test."""
    app = create_app(emulator_config)
    yield app
    app.state.emulator.close()


@pytest.fixture
def emulator_state(emulator_app: Starlette) -> EmulatorState:
    """``app.state.emulator``: config, store, backend, faults."""
    state: EmulatorState = emulator_app.state.emulator
    return state


@pytest.fixture
def emulator_server(emulator_app: Starlette) -> Iterator[str]:
    """Serve ``emulator_app`` with uvicorn on loopback; yields the base URL."""
    with EmbeddedEmulator(app=emulator_app) as server:
        yield server.url


@pytest.fixture
def emulator_client(emulator_server: str) -> Client:
    """Generated client signed with the DEV pair, against the live server (sync+async)."""
    return make_client(emulator_server, credentials=DEV_CREDENTIALS)


@pytest.fixture
async def emulator_http(emulator_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A plain (unsigned) httpx client bound to the app in-process, for raw requests."""
    transport = httpx.ASGITransport(app=emulator_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.local") as client:
        yield client


@pytest.fixture
async def emulator_asgi_client(emulator_app: Starlette) -> AsyncIterator[Client]:
    """Generated client signed with the DEV pair, in-process via ASGITransport (async only)."""
    client = make_client(
        "http://emulator.local",
        credentials=DEV_CREDENTIALS,
        httpx_args={"transport": httpx.ASGITransport(app=emulator_app)},
    )
    async with client:
        yield client
