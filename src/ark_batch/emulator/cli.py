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
import os
import socket
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

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
from ark_batch.emulator.migrations import SchemaTooNewError

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
    """Prints the banner once bound, so ``--port 0`` reports the real port."""

    def __init__(
        self,
        config: uvicorn.Config,
        banner: tuple[Sequence[AccountCredential], bool],
        extra_lines: Sequence[str] = (),
    ):
        super().__init__(config)
        self._banner_args = banner
        self._extra_lines = extra_lines

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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ark-batch-emulator`` console script."""
    args = build_parser().parse_args(argv)
    try:
        accounts = args.credential or credentials_from_env(os.environ) or [dev_credential()]
        config = EmulatorConfig(
            data_dir=args.data_dir,
            accounts=accounts,
            region=args.region,
            verify_signatures=not args.no_verify_signatures,
            clock_skew=timedelta(minutes=args.clock_skew),
            max_body_bytes=args.max_body_bytes,
            execution=execution_config_from_args(args),
        )
    except ValueError as exc:
        print(f"ark-batch-emulator: {exc}", file=sys.stderr)
        return 2
    try:
        app = create_app(config)
    except SchemaTooNewError as exc:
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
        ),
        (accounts, config.verify_signatures),
        [describe_execution(config.execution, config.data_dir)],
    )
    try:
        server.run()
    finally:
        app.state.emulator.close()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
