"""Command-line flags for job execution, for ``ark-batch-emulator`` to include.

The emulator's ``build_parser`` calls `add_execution_arguments(parser)`; its ``main``
passes ``execution=execution_config_from_args(args)`` to ``EmulatorConfig`` and may
print `describe_execution(config, data_dir)` in its banner.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ark_batch.emulator.execution.config import ExecutionConfig
from ark_batch.redaction import redact_url

__all__ = [
    "OPENAI_API_KEY_ENV",
    "add_execution_arguments",
    "describe_execution",
    "execution_config_from_args",
]

#: Read when ``--openai-api-key`` is not given, so the key stays out of ``ps`` output.
OPENAI_API_KEY_ENV = "ARK_BATCH_EMULATOR_OPENAI_API_KEY"


def add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``job execution`` argument group to `parser`."""
    group = parser.add_argument_group("job execution")
    group.add_argument(
        "--no-execution",
        action="store_true",
        help="do not run jobs (they stay Queued): a pure API emulator",
    )
    group.add_argument(
        "--max-concurrent-jobs", type=int, default=2, metavar="N", help="jobs Running at once (2)"
    )
    group.add_argument(
        "--line-concurrency",
        type=int,
        default=16,
        metavar="N",
        help="requests in flight per job for the openai backend or with --latency (16)",
    )
    group.add_argument(
        "--model-backend",
        choices=("echo", "openai"),
        default="echo",
        help="echo: built-in, deterministic (default); openai: an OpenAI-compatible server",
    )
    group.add_argument(
        "--openai-base-url", metavar="URL", help="e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp)"
    )
    group.add_argument(
        "--openai-api-key",
        metavar="KEY",
        help=f"Bearer key for --openai-base-url (else ${OPENAI_API_KEY_ENV})",
    )
    group.add_argument(
        "--openai-model", metavar="NAME", help="model sent upstream (default: the job's model)"
    )
    group.add_argument(
        "--failure-rate",
        type=float,
        default=0.0,
        metavar="F",
        help="fraction of lines failed on purpose, chosen by custom_id hash (0)",
    )
    group.add_argument(
        "--failure-seed", default="", metavar="S", help="changes which custom_ids fail"
    )
    group.add_argument(
        "--latency", type=float, default=0.0, metavar="SECONDS", help="added to every request"
    )
    group.add_argument(
        "--time-speed",
        type=float,
        default=1.0,
        metavar="X",
        help="CompletionWindow runs X times faster (86400: 1d lasts a second)",
    )
    group.add_argument(
        "--storage",
        metavar="URL",
        help="job inputs/outputs: file:///dir or s3+http(s)://host:port "
        "(default DATA_DIR/objects, bucket = folder)",
    )
    group.add_argument(
        "--chunk-lines",
        type=int,
        default=1000,
        metavar="N",
        help="lines per durable progress step (1000)",
    )
    group.add_argument(
        "--lease-seconds",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="another process on the data dir takes a job over this long after its "
        "owner stopped renewing the lease (15)",
    )


def execution_config_from_args(args: argparse.Namespace) -> ExecutionConfig:
    """The `ExecutionConfig` the flags describe; raises ValueError when they are invalid."""
    return ExecutionConfig(
        enabled=not args.no_execution,
        max_concurrent_jobs=args.max_concurrent_jobs,
        line_concurrency=args.line_concurrency,
        backend=args.model_backend,
        openai_base_url=args.openai_base_url,
        openai_api_key=args.openai_api_key or os.environ.get(OPENAI_API_KEY_ENV),
        openai_model=args.openai_model,
        failure_rate=args.failure_rate,
        failure_seed=args.failure_seed,
        latency=args.latency,
        time_speed=args.time_speed,
        storage_url=args.storage,
        chunk_lines=args.chunk_lines,
        lease_seconds=args.lease_seconds,
    )


def describe_execution(config: ExecutionConfig, data_dir: Path) -> str:
    """One banner line saying how jobs run and where their files live."""
    if not config.enabled:
        return "  job execution is OFF (jobs stay Queued)"
    if config.backend == "openai" and config.openai_base_url:
        # A base URL may carry a proxy password or a token; the banner shows neither.
        backend = f"openai backend at {redact_url(config.openai_base_url)}"
    else:
        backend = "echo backend"
    storage = (
        redact_url(config.storage_url)
        if config.storage_url
        else f"{Path(data_dir) / 'objects'}/<bucket>/<key>"
    )
    extras = []
    if config.failure_rate:
        extras.append(f"failure rate {config.failure_rate}")
    if config.latency:
        extras.append(f"latency {config.latency}s")
    if config.time_speed != 1:
        extras.append(f"time speed x{config.time_speed:g}")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return f"  jobs run on the {backend}{suffix}; objects in {storage}"
