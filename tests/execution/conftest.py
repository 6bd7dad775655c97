"""Fixtures for the execution tests: object stores on both backends, a moto S3 server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_support import free_port

from ark_batch.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from execution.execution_helpers import (
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
    ExecEnv,
    wait_for_http,
)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3-protocol server (moto in server mode) on a free loopback port."""
    # A separate process rather than moto's ThreadedMotoServer: the streaming-memory tests
    # trace this process's allocations, and an in-process server would hold every object.
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(endpoint)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_store(moto_endpoint: str) -> S3ObjectStore:
    """An `S3ObjectStore` talking to the moto server."""
    return S3ObjectStore(moto_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY)


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Each test using this runs against both backends."""
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    store: ObjectStore = request.getfixturevalue("s3_store")
    return store


@pytest.fixture
def env(any_store: ObjectStore, tmp_path: Path) -> Iterator[ExecEnv]:
    """Jobs + workers over the local store and over S3 (the test runs once per backend)."""
    environment = ExecEnv(tmp_path / "emulator", any_store)
    yield environment
    environment.close()


@pytest.fixture
def local_env(tmp_path: Path) -> Iterator[ExecEnv]:
    """Jobs + workers over the local store only."""
    environment = ExecEnv(tmp_path / "emulator", LocalObjectStore(tmp_path / "objects"))
    yield environment
    environment.close()
