"""``ark-batch-emulator``: serve the emulator with uvicorn.

    ark-batch-emulator --host 127.0.0.1 --port 8080 --data-dir DIR \\
        [--credential AK:SK[:ACCOUNT_ID[:USER]] ...]

Credentials come from ``--credential`` (repeatable), else from
``ARK_BATCH_EMULATOR_CREDENTIALS`` (comma-separated), else the development pair
(:data:`DEV_ACCESS_KEY` / :data:`DEV_SECRET_KEY`). On start it prints its URL and the
access keys it accepts; only the development pair's secret is printed, since it is public.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType

import uvicorn

from ark_batch.emulator.app import create_app
from ark_batch.emulator.config import (
    CREDENTIALS_ENV,
    DEV_ACCESS_KEY,
    DEV_SECRET_KEY,
    AccountCredential,
    EmulatorConfig,
    credentials_from_env,
    dev_credential,
)
from ark_batch.emulator.execution.cli import (
    add_execution_arguments,
    describe_execution,
    execution_config_from_args,
)
from ark_batch.emulator.execution.progress import connect as connect_progress
from ark_batch.emulator.migrations import SchemaTooNewError
from ark_batch.emulator.storage_faults import describe_error
from ark_batch.emulator.store import JobStore
from ark_batch.emulator.wire import envelope_protocol
from ark_batch.redaction import redact_url_in
from ark_batch.storage import ObjectStore, StorageError, open_store

__all__ = ["build_parser", "main"]


def _credential(text: str) -> AccountCredential:
    try:
        return AccountCredential.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(
        prog="ark-batch-emulator",
        description="Local emulator of the Volcengine Ark batch-inference-job API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".ark-batch-emulator"),
        help="directory of the SQLite state (default ./.ark-batch-emulator)",
    )
    parser.add_argument(
        "--credential",
        action="append",
        type=_credential,
        default=[],
        metavar="AK:SK[:ACCOUNT_ID[:USER]]",
        help=f"accepted credential, repeatable; env equivalent {CREDENTIALS_ENV}",
    )
    parser.add_argument("--region", default="cn-beijing", help="region (default cn-beijing)")
    parser.add_argument(
        "--clock-skew",
        type=float,
        default=15.0,
        metavar="MINUTES",
        help="accepted X-Date distance from server time (default 15)",
    )
    parser.add_argument(
        "--max-body-bytes", type=int, default=1024 * 1024, help="request body limit (1 MiB)"
    )
    parser.add_argument(
        "--max-inflight-body-bytes",
        type=int,
        default=16 * 1024 * 1024,
        help="request-body bytes held at once across connections; more get 503 (16 MiB)",
    )
    parser.add_argument(
        "--no-verify-signatures",
        action="store_true",
        help="accept unsigned requests (the claimed access key still selects the account)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    add_execution_arguments(parser)
    return parser


def _banner(url: str, accounts: Sequence[AccountCredential], verify: bool) -> str:
    lines = [f"ark-batch emulator listening on {url}"]
    for account in accounts:
        secret = (
            f" secret key {DEV_SECRET_KEY}"
            if account.access_key == DEV_ACCESS_KEY and account.secret_key == DEV_SECRET_KEY
            else ""
        )
        lines.append(
            f"  access key {account.access_key}{secret} "
            f"(account {account.account_id}, user {account.user})"
        )
    if not verify:
        lines.append("  signature verification is OFF")
    return "\n".join(lines)


class _Server(uvicorn.Server):
    """Prints the banner once bound, so ``--port 0`` reports the real port.

    ``stop_signal`` is the signal (SIGINT, SIGTERM) that stopped it, if one did.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        banner: tuple[Sequence[AccountCredential], bool],
        extra_lines: Sequence[str] = (),
    ):
        super().__init__(config)
        self._banner_args = banner
        self._extra_lines = extra_lines
        self.stop_signal: int | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.stop_signal is None:
            self.stop_signal = sig
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets=sockets)
        if self.force_exit:
            # A second Ctrl-C skips waiting for connections, and in uvicorn also the
            # lifespan's shutdown, which would leave the job worker running and the
            # lifespan task to be cancelled (and logged as a traceback) at loop close.
            await self.lifespan.shutdown()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the captured signal once it has shut down; inside asyncio's
        # runner that cancels the lifespan midway and prints tracebacks. main's exit code
        # reports the signal instead.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.should_exit:
            return
        host, port = self.config.host, self.config.port
        for server in self.servers:
            for sock in server.sockets:
                port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        print(_banner(f"http://{shown_host}:{port}", *self._banner_args), flush=True)
        for line in self._extra_lines:
            print(line, flush=True)


def _open_storage(url: str) -> ObjectStore:
    """The store ``--storage`` names; ValueError with the credentials redacted otherwise."""
    try:
        return open_store(url)
    except (StorageError, ValueError, OSError) as exc:
        raise ValueError(f"--storage: {redact_url_in(str(exc), url)}") from None


def _check_data_dir(config: EmulatorConfig, *, execution: bool) -> None:
    """Open the data dir's databases once, so that a data dir that cannot be used (a
    file, unwritable, a corrupt database) is one line and exit 2, not a traceback or a
    server whose jobs never run. ValueError names the problem.
    """
    data_dir = Path(config.data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise ValueError("--data-dir: it is not a directory")

    def open_jobs() -> None:
        JobStore.open(data_dir, config.clock).close()

    def open_progress() -> None:
        connect_progress(data_dir / "execution" / "progress.sqlite3").close()

    checks: list[tuple[str, Callable[[], None]]] = [("jobs.sqlite3", open_jobs)]
    if execution:
        checks.append(("execution/progress.sqlite3", open_progress))
    for name, check in checks:
        try:
            check()
        except (OSError, sqlite3.DatabaseError) as exc:
            raise ValueError(
                f"--data-dir: {name} cannot be opened: {describe_error(exc)}"
            ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ark-batch-emulator`` console script (130 after Ctrl-C)."""
    try:
        return _serve(argv)
    except KeyboardInterrupt:
        # Ctrl-C before the server handles signals itself (while the store opens).
        print("ark-batch-emulator: stopped", file=sys.stderr)
        return 128 + signal.SIGINT


def _serve(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        accounts = args.credential or credentials_from_env(os.environ) or [dev_credential()]
        execution = execution_config_from_args(args)
        config = EmulatorConfig(
            data_dir=args.data_dir,
            accounts=accounts,
            region=args.region,
            verify_signatures=not args.no_verify_signatures,
            clock_skew=timedelta(minutes=args.clock_skew),
            max_body_bytes=args.max_body_bytes,
            max_inflight_body_bytes=args.max_inflight_body_bytes,
            execution=execution,
        )
        if args.storage and execution.enabled:
            # Opened here, once, so a bad URL is a usage error rather than a traceback.
            execution = dataclasses.replace(execution, object_store=_open_storage(args.storage))
            config = dataclasses.replace(config, execution=execution)
    except ValueError as exc:
        print(f"ark-batch-emulator: {exc}", file=sys.stderr)
        return 2
    try:
        _check_data_dir(config, execution=execution.enabled)
        app = create_app(config)
    except (SchemaTooNewError, ValueError) as exc:
        print(f"ark-batch-emulator: {exc}", file=sys.stderr)
        return 2
    server = _Server(
        uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            access_log=args.access_log,
            lifespan="on",
            http=envelope_protocol(config),
        ),
        (accounts, config.verify_signatures),
        [describe_execution(execution, config.data_dir)],
    )
    if args.access_log:
        # uvicorn gives the access logger --log-level (warning by default), which would
        # silence the very lines --access-log asks for.
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    try:
        server.run()
    finally:
        app.state.emulator.close()
    if server.stop_signal is not None:
        if server.stop_signal == signal.SIGINT:
            print("ark-batch-emulator: stopped", file=sys.stderr)
        return 128 + server.stop_signal  # the shell's code for "ended by this signal"
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
