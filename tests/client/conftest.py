"""Fixtures for the client and CLI tests: a fake clock and a live emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark_batch.emulator import EmulatorConfig, EmulatorState, create_app
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.facade import ArkBatch
from client.client_support import DEV, FakeTime, clear_transport_environment


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[tuple[Any, EmulatorState]]:
    """The emulator app over a fresh data dir, and its state."""
    app = create_app(EmulatorConfig(data_dir=tmp_path / "emulator"))
    yield app, app.state.emulator
    app.state.emulator.close()


@pytest.fixture
def emulator_url(emulator: tuple[Any, EmulatorState]) -> Iterator[str]:
    """The emulator served by uvicorn on loopback (signature checks on)."""
    with EmbeddedEmulator(app=emulator[0]) as server:
        yield server.url


@pytest.fixture
def emulator_faults(emulator: tuple[Any, EmulatorState]) -> Any:
    return emulator[1].faults


@pytest.fixture
def ark(emulator_url: str, fake_time: FakeTime) -> Iterator[ArkBatch]:
    """ArkBatch against the live emulator; retries sleep on the fake clock."""
    with ArkBatch(
        emulator_url, credentials=DEV, sleep=fake_time.sleep, clock=fake_time.clock
    ) as client:
        yield client


@pytest.fixture
def running_emulator(tmp_path: Path) -> Iterator[tuple[str, Path, EmulatorState]]:
    """An emulator that executes jobs (echo model, 1 in 4 lines failed on purpose).

    Yields ``(url, object_root, state)``; the object root is the emulator's local store.
    """
    from ark_batch.emulator.execution import ExecutionConfig  # noqa: PLC0415

    data_dir = tmp_path / "running-emulator"
    execution = ExecutionConfig(poll_interval=0.02, failure_rate=0.25, failure_seed="t")
    app = create_app(EmulatorConfig(data_dir=data_dir, execution=execution))
    with EmbeddedEmulator(app=app) as server:
        yield server.url, data_dir / "objects", app.state.emulator
    app.state.emulator.close()


@pytest.fixture
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No trust-root or proxy variables, whatever the machine sets."""
    return clear_transport_environment(monkeypatch)
