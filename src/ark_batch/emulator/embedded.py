"""Run the emulator inside the current process, on loopback, in a background thread."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from ark_batch.credentials import Credentials
from ark_batch.emulator.app import EmulatorState, create_app
from ark_batch.emulator.config import EmulatorConfig
from ark_batch.emulator.wire import envelope_protocol

__all__ = ["EmbeddedEmulator"]


class EmbeddedEmulator:
    """A real HTTP emulator for scripts, examples and tests; use it as a context manager.

    ``with EmbeddedEmulator() as emu:`` serves on ``emu.url`` (a free loopback port) over a
    temporary data dir unless ``config`` names one; ``emu.credentials`` are the first
    configured account's. The lifespan runs, so job execution (when configured) works.

    ``app=`` serves an app built elsewhere (several servers may share one app); its owner
    keeps it open after ``stop``. With ``ssl_certfile`` and ``ssl_keyfile`` it serves HTTPS.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        app: Starlette | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if app is not None:
            if config is not None:
                raise ValueError("pass either config or app, not both")
            config = app.state.emulator.config
        elif config is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ark-batch-emulator-")
            config = EmulatorConfig(data_dir=Path(self._tmp.name))
        self.config = config
        self._host = host
        self._port = port
        self._given_app = app
        self._ssl_certfile = ssl_certfile
        self._ssl_keyfile = ssl_keyfile
        self.app: Starlette | None = app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def state(self) -> EmulatorState:
        """The running app's state (store, faults, config)."""
        if self.app is None:
            raise RuntimeError("the emulator is not running")
        state: EmulatorState = self.app.state.emulator
        return state

    @property
    def credentials(self) -> Credentials:
        """Client credentials of the first configured account."""
        account = self.config.accounts[0]
        return Credentials(account.access_key, account.secret_key, account.session_token)

    def start(self, timeout: float = 10.0) -> EmbeddedEmulator:
        """Start serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        self.url = ""
        # Bind here and hand the socket over, so no other process can take the port
        # between choosing it and listening on it.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        port = sock.getsockname()[1]
        if self.app is None:
            self.app = create_app(self.config)
        server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                lifespan="on",
                access_log=False,
                http=envelope_protocol(self.config),
                ssl_certfile=self._ssl_certfile,
                ssl_keyfile=self._ssl_keyfile,
            )
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="ark-batch-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the emulator failed to start")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the emulator did not start within {timeout} s")
            time.sleep(0.01)
        scheme = "https" if self._ssl_certfile else "http"
        self.url = f"{scheme}://{self._host}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving, close the store and remove a temporary data dir."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
        if self.app is not None and self._given_app is None:
            self.state.close()
        self._server = self._thread = None
        self.app = self._given_app
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
