"""Run the schemathesis CLI over spec/openapi.yaml, every request signed.

    python -m contract.fuzz                 # against a fresh local emulator
    python -m contract.fuzz --url URL       # against any other deployment

Without ``--url`` it starts ``ark-batch-emulator`` on a free loopback port with a
temporary data dir, runs every check and every phase (examples, coverage, fuzzing,
stateful) with a fixed seed, and stops the server. Credentials: ``ARK_BATCH_FUZZ_ACCESS_KEY``
/ ``ARK_BATCH_FUZZ_SECRET_KEY`` (default: the emulator's development pair, which the
emulator is then started with).

With ``--url`` credentials come from ``VOLCENGINE_ACCESS_KEY`` / ``VOLCENGINE_SECRET_KEY``
(and ``VOLCENGINE_SESSION_TOKEN``), and the checks that cannot apply to the real service
are switched off; docs/decisions/0005-contract-testing.md explains each. Create is left
out there unless ``--include-create`` is given, because a valid Create starts a billed job.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from ark_batch._api import CREATE
from ark_batch.emulator.config import CREDENTIALS_ENV
from contract.auth import ACCESS_KEY_ENV, SECRET_KEY_ENV, SESSION_TOKEN_ENV
from contract.checks import TARGET_ENV

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec" / "openapi.yaml"
CONFIG = ROOT / "contract" / "schemathesis.toml"
PHASES = "examples,coverage,fuzzing,stateful"

#: Built-in checks switched off against a real deployment (reasons in decision 0005).
REAL_SERVICE_EXCLUDED_CHECKS = (
    "ignored_auth",  # replaced by contract.checks.auth_is_enforced, as for the emulator
    "unsupported_method",  # the gateway's answer to GET/PUT/... is undocumented
    "negative_data_rejection",  # the gateway may ignore unknown fields (decision 0002)
    "positive_data_acceptance",  # valid-looking buckets/models/Ids need not exist there
    "valid_create_refused_only_for_documented_reasons",  # same: real resources
)
EMULATOR_EXCLUDED_CHECKS = ("ignored_auth",)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the emulator did not start listening in time")


def _schemathesis_command(args: argparse.Namespace, url: str, excluded: Sequence[str]) -> list[str]:
    skip_create = bool(args.url) and not args.include_create
    # Every link starts at Create: without it the stateful phase has nothing to follow.
    phases = PHASES.removesuffix(",stateful") if skip_create else PHASES
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        str(SPEC),
        "--url",
        url,
        "--checks",
        "all",
        "--exclude-checks",
        ",".join(excluded),
        "--phases",
        phases,
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        "--max-time",
        str(args.max_time),
    ]
    if skip_create:
        command += ["--exclude-operation-id", CREATE]
    return command + list(args.schemathesis_args)


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra, "SCHEMATHESIS_HOOKS": "contract.hooks"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _run_against_url(args: argparse.Namespace) -> int:
    missing = [
        n for n in ("VOLCENGINE_ACCESS_KEY", "VOLCENGINE_SECRET_KEY") if not os.environ.get(n)
    ]
    if missing:
        print(f"contract.fuzz: set {' and '.join(missing)} for --url", file=sys.stderr)
        return 2
    env = _environment(
        {
            ACCESS_KEY_ENV: os.environ["VOLCENGINE_ACCESS_KEY"],
            SECRET_KEY_ENV: os.environ["VOLCENGINE_SECRET_KEY"],
            SESSION_TOKEN_ENV: os.environ.get("VOLCENGINE_SESSION_TOKEN", ""),
            TARGET_ENV: "real",
        }
    )
    command = _schemathesis_command(args, args.url, REAL_SERVICE_EXCLUDED_CHECKS)
    # The command is built from our constants and parsed options, never a shell string.
    return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode  # noqa: S603


def _run_against_emulator(args: argparse.Namespace) -> int:
    port = _free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="ark-batch-fuzz-"))
    server_env = {**os.environ}
    server_env.pop(CREDENTIALS_ENV, None)
    emulator = [
        sys.executable,
        "-m",
        "ark_batch.emulator.cli",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    access_key, secret_key = os.environ.get(ACCESS_KEY_ENV), os.environ.get(SECRET_KEY_ENV)
    if access_key and secret_key:
        emulator += ["--credential", f"{access_key}:{secret_key}"]
    server = subprocess.Popen(emulator, env=server_env, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        _wait_for(port, server)
        command = _schemathesis_command(args, f"http://127.0.0.1:{port}", EMULATOR_EXCLUDED_CHECKS)
        env = _environment({})
        return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode  # noqa: S603
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m contract.fuzz``."""
    parser = argparse.ArgumentParser(
        prog="python -m contract.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", help="target deployment (default: a fresh local emulator)")
    parser.add_argument("--max-examples", "-n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20240101)
    # One worker: schemathesis' workers are threads, and concurrent ast.parse calls (hypothesis
    # describing filter lambdas) crash CPython < 3.11.9 with "AST constructor recursion depth
    # mismatch" (CPython gh-106905). The time budget, not parallelism, bounds the run.
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--max-time",
        type=int,
        default=150,
        help="seconds; fuzzing and stateful phases repeat until it is spent (default 150)",
    )
    parser.add_argument(
        "--include-create", action="store_true", help="with --url, also fuzz Create (billed)"
    )
    parser.add_argument(
        "schemathesis_args", nargs="*", help="extra arguments for schemathesis run (after --)"
    )
    args = parser.parse_args(argv)
    if args.url:
        return _run_against_url(args)
    return _run_against_emulator(args)


if __name__ == "__main__":
    sys.exit(main())
