"""Typer application behind ``ark-batch``.

Only typer is imported at module level; everything heavier is imported inside the
command that needs it, so ``ark-batch --help`` stays fast.

Exit codes: 0 success; 1 an error (printed on one line: Code, Message, RequestId);
2 bad usage; 3 the job ended Failed or Terminated; 4 ``wait`` timed out.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from ark_batch.facade import ArkBatch
    from ark_batch.storage import ObjectStore
    from ark_batch_client.models import BatchInferenceJob

app = typer.Typer(
    name="ark-batch",
    help=(
        "Create, inspect and wait for Volcengine Ark batch inference jobs.\n\n"
        "Credentials come from VOLCENGINE_ACCESS_KEY / VOLCENGINE_SECRET_KEY "
        "(optionally VOLCENGINE_SESSION_TOKEN) or VOLC_ACCESSKEY / VOLC_SECRETKEY; the "
        "region from --region or VOLCENGINE_REGION (default cn-beijing); the endpoint "
        "from --endpoint or ARK_BATCH_ENDPOINT (default https://open.volcengineapi.com). "
        "Use --endpoint http://127.0.0.1:8080 to talk to the emulator.\n\n"
        "Exit codes: 1 error, 2 usage, 3 job Failed/Terminated, 4 wait timed out."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain click help: rich help rendering imports ~180 ms of modules (markdown, pygments).
    rich_markup_mode=None,
    add_completion=False,
)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_JOB_FAILED = 3
EXIT_TIMEOUT = 4

# --- shared options ------------------------------------------------------------------------

EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        envvar="ARK_BATCH_ENDPOINT",
        help="API endpoint URL, e.g. http://127.0.0.1:8080 for the emulator.",
        show_envvar=True,
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option("--region", envvar="VOLCENGINE_REGION", help="Signing region.", show_envvar=True),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="ARK_BATCH_STORE",
        show_envvar=True,
        help=(
            "Object store URL: file:///path (a local directory, bucket = folder; the "
            "emulator's object root) or s3+http(s)://[AK:SK@]host[:port][?region=..]."
        ),
    ),
]
StoreDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--store-dir",
        help="Local object-store directory (shortcut for --store file:///DIR).",
        file_okay=False,
    ),
]
S3EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--s3-endpoint",
        envvar="ARK_BATCH_S3_ENDPOINT",
        show_envvar=True,
        help=(
            "S3-compatible endpoint, path-style addressing (MinIO, moto, ...). Keys from "
            "ARK_BATCH_S3_ACCESS_KEY/ARK_BATCH_S3_SECRET_KEY, else boto3's own chain "
            "(AWS_ACCESS_KEY_ID, ...). For TOS use --store "
            "'s3+https://AK:SK@tos-s3-cn-beijing.volces.com?addressing_style=virtual'."
        ),
    ),
]


# --- plumbing -----------------------------------------------------------------------------


def _err_console() -> Console:
    from rich.console import Console  # noqa: PLC0415

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _error_line(exc: BaseException) -> str:
    from ark_batch.errors import ApiError, UnexpectedResponseError  # noqa: PLC0415

    if isinstance(exc, ApiError):
        message = " ".join(exc.message.split())
        return (
            f"Error: {exc.code}: {message} (RequestId: {exc.request_id or '-'}, HTTP {exc.status})"
        )
    if isinstance(exc, UnexpectedResponseError):
        return f"Error: UnexpectedResponse: {' '.join(str(exc).split())}"
    text = " ".join(str(exc).split())
    return f"Error: {type(exc).__name__}: {text}"


def _handle_errors(func: F) -> F:
    """Turn library errors into one line on stderr and a non-zero exit, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ark_batch.errors import ArkBatchError, JobFailedError, WaitTimeoutError  # noqa: PLC0415

        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except JobFailedError as exc:
            typer.echo(_error_line(exc), err=True)
            raise typer.Exit(EXIT_JOB_FAILED) from None
        except WaitTimeoutError as exc:
            typer.echo(_error_line(exc), err=True)
            raise typer.Exit(EXIT_TIMEOUT) from None
        except ArkBatchError as exc:
            typer.echo(_error_line(exc), err=True)
            raise typer.Exit(EXIT_ERROR) from None
        except (ValueError, TypeError) as exc:
            typer.echo(f"Error: invalid argument: {' '.join(str(exc).split())}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _facade(ctx: typer.Context, endpoint: str | None, region: str | None) -> ArkBatch:
    """The client; tests may put a factory in ``ctx.obj['client_factory']``."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    factory = obj.get("client_factory")
    if factory is not None:
        client: ArkBatch = factory(endpoint, region)
        return client
    from ark_batch.facade import ArkBatch  # noqa: PLC0415

    return ArkBatch(endpoint, region=region)


def _store(store: str | None, store_dir: Path | None, s3_endpoint: str | None) -> ObjectStore:
    import os  # noqa: PLC0415

    chosen = [x for x in (store, store_dir, s3_endpoint) if x]
    if len(chosen) != 1:
        raise ValueError("give exactly one of --store, --store-dir or --s3-endpoint")
    if store_dir is not None:
        from ark_batch.storage import LocalObjectStore  # noqa: PLC0415

        return LocalObjectStore(store_dir)
    if s3_endpoint is not None:
        from ark_batch.storage import S3ObjectStore  # noqa: PLC0415

        return S3ObjectStore(
            s3_endpoint,
            os.environ.get("ARK_BATCH_S3_ACCESS_KEY") or None,
            os.environ.get("ARK_BATCH_S3_SECRET_KEY") or None,
            os.environ.get("ARK_BATCH_S3_REGION") or "cn-beijing",
        )
    from ark_batch.storage import open_store  # noqa: PLC0415

    assert store is not None
    return open_store(store)


def _tags(values: list[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    tags: dict[str, str] = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key:
            raise ValueError(f"--tag expects KEY=VALUE, got {value!r}")
        tags[key] = tag_value
    return tags


def _tag_filters(values: list[str] | None) -> dict[str, list[str] | None] | None:
    if not values:
        return None
    filters: dict[str, list[str] | None] = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not key:
            raise ValueError(f"--tag expects KEY or KEY=VALUE, got {value!r}")
        if sep:
            existing = filters.get(key) or []
            filters[key] = [*existing, tag_value]
        else:
            filters.setdefault(key, None)
    return filters


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _job_table(jobs: list[BatchInferenceJob]) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(box=None, header_style="bold")
    for column in ("Id", "Name", "Phase", "Done/Total", "Failed", "Model", "Created"):
        table.add_column(column, no_wrap=column in ("Id", "Phase", "Created"))
    for job in jobs:
        counts = job.request_counts
        table.add_row(
            job.id,
            job.name,
            job.status.phase,
            f"{counts.completed + counts.failed}/{counts.total}",
            str(counts.failed),
            _model_name(job),
            job.create_time.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console = Console(highlight=False, width=max(100, Console().width))
    console.print(table)
    console.print(f"{len(jobs)} job(s)")


def _model_name(job: BatchInferenceJob) -> str:
    from ark_batch_client.types import Unset  # noqa: PLC0415

    reference = job.model_reference
    if not isinstance(reference.foundation_model, Unset):
        model = reference.foundation_model
        version = "" if isinstance(model.model_version, Unset) else f":{model.model_version}"
        return f"{model.name}{version}"
    if not isinstance(reference.custom_model_id, Unset):
        return reference.custom_model_id
    return "-"


def _print_job(job: BatchInferenceJob) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from ark_batch_client.types import Unset  # noqa: PLC0415

    counts = job.request_counts
    rows: list[tuple[str, str]] = [
        ("Id", job.id),
        ("Name", job.name),
        ("Project", job.project_name),
        ("Phase", job.status.phase),
        ("Message", "" if isinstance(job.status.message, Unset) else job.status.message),
        ("Model", _model_name(job)),
        (
            "Requests",
            f"{counts.completed} completed, {counts.failed} failed, {counts.total} total",
        ),
        (
            "Input",
            f"tos://{job.input_file_tos_location.bucket_name}/"
            f"{job.input_file_tos_location.object_key}",
        ),
        (
            "Output",
            f"tos://{job.output_dir_tos_location.bucket_name}/"
            f"{job.output_dir_tos_location.object_key}",
        ),
        ("Completion window", job.completion_window),
        ("Created", job.create_time.isoformat()),
        ("Updated", job.update_time.isoformat()),
        ("Expires", job.expire_time.isoformat()),
    ]
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    Console(highlight=False).print(table)


# --- commands ------------------------------------------------------------------------------


@app.command()
@_handle_errors
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Job name (1-200 characters).")],
    input_: Annotated[
        str, typer.Option("--input", help="Input JSONL: tos://BUCKET/KEY or BUCKET/KEY.")
    ],
    output: Annotated[
        str, typer.Option(help="Output prefix: tos://BUCKET/PREFIX/ or BUCKET/PREFIX/.")
    ],
    model: Annotated[
        str | None, typer.Option(help="Foundation model as NAME:VERSION (or with --model-version).")
    ] = None,
    model_version: Annotated[str | None, typer.Option(help="Foundation model version.")] = None,
    custom_model_id: Annotated[
        str | None, typer.Option(help="Custom model Id instead of --model.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="Job description.")] = None,
    project: Annotated[str | None, typer.Option(help="Project name (default: default).")] = None,
    completion_window: Annotated[str | None, typer.Option(help="1d to 28d (default 28d).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE; repeatable.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; create nothing.")
    ] = False,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a job and print its Id.

    If a Queued or Running job already has the same project and input file, that job's
    Id is printed instead (the service allows one active job per input).
    """
    fields: dict[str, Any] = {
        "name": name,
        "model": model,
        "model_version": model_version,
        "custom_model_id": custom_model_id,
        "input": input_,
        "output": output,
        "description": description,
        "project_name": project,
        "completion_window": completion_window,
        "tags": _tags(tag),
    }
    with _facade(ctx, endpoint, region) as client:
        if dry_run:
            client.validate_job(**fields)
            if as_json:
                _print_json({"DryRun": "passed"})
            else:
                typer.echo("Dry run passed: the job would be created.")
            return
        result = client.create_job(**fields)
    if as_json:
        _print_json({"Id": result.id})
    else:
        typer.echo(result.id)


@app.command()
@_handle_errors
def get(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job Id, e.g. bi-20240918194641-r2nwq.")],
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one job."""
    with _facade(ctx, endpoint, region) as client:
        job = client.get_job(job_id)
    if as_json:
        _print_json(job.to_dict())
    else:
        _print_job(job)


@app.command("list")
@_handle_errors
def list_(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    phase: Annotated[
        list[str] | None,
        typer.Option(
            help="Queued, Running, Completed, Terminating, Terminated or Failed; repeatable."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Case-insensitive name substring.")] = None,
    job_id: Annotated[list[str] | None, typer.Option("--id", help="Job Id; repeatable.")] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="KEY (any value) or KEY=VALUE; repeatable.")
    ] = None,
    sort_by: Annotated[str | None, typer.Option(help="CreateTime or UpdateTime.")] = None,
    sort_order: Annotated[str | None, typer.Option(help="Asc or Desc.")] = None,
    page_size: Annotated[int, typer.Option(min=1, max=100, help="Jobs per request.")] = 100,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many jobs (default: all).")
    ] = None,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List jobs (every page) as a table, or a JSON array with --json."""
    import itertools  # noqa: PLC0415

    with _facade(ctx, endpoint, region) as client:
        jobs_iter: Iterator[BatchInferenceJob] = client.iter_jobs(
            project_name=project,
            phases=phase or None,
            name=name,
            ids=job_id or None,
            tags=_tag_filters(tag),
            page_size=page_size,
            sort_by=sort_by,
            sort_order=sort_order,
        )
        jobs = list(itertools.islice(jobs_iter, limit) if limit else jobs_iter)
    if as_json:
        _print_json([job.to_dict() for job in jobs])
    else:
        _job_table(jobs)


def _wait_with_progress(
    client: ArkBatch,
    job_id: str,
    *,
    poll_interval: float,
    timeout: float | None,
    progress: bool,
) -> BatchInferenceJob:
    """Wait, drawing a progress bar from RequestCounts on stderr (elapsed and ETA).

    Returns the job in whatever terminal phase it reached; see :func:`_fail_if_unsuccessful`.
    """
    started = time.monotonic()
    if not progress:
        job = client.wait(
            job_id, poll_interval=poll_interval, timeout=timeout, raise_on_failure=False
        )
    else:
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from ark_batch_client.models import JobStatus, RequestCounts  # noqa: PLC0415

        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=_err_console(),
            transient=False,
        ) as bar:
            task = bar.add_task(f"{job_id} …", total=None, failed=0)

            def on_update(status: JobStatus, counts: RequestCounts) -> None:
                bar.update(
                    task,
                    description=f"{job_id} {status.phase}",
                    total=counts.total or None,
                    completed=counts.completed + counts.failed,
                    failed=counts.failed,
                )

            job = client.wait(
                job_id,
                poll_interval=poll_interval,
                timeout=timeout,
                on_update=on_update,
                raise_on_failure=False,
            )
    counts = job.request_counts
    typer.echo(
        f"{job.id} {job.status.phase}: {counts.completed} completed, {counts.failed} failed "
        f"of {counts.total} in {time.monotonic() - started:.1f}s",
        err=True,
    )
    return job


def _fail_if_unsuccessful(job: BatchInferenceJob) -> None:
    """Exit 3 (through the error handler) once output is delivered, if the job failed."""
    from ark_batch.errors import JobFailedError  # noqa: PLC0415

    if job.status.phase in ("Failed", "Terminated"):
        raise JobFailedError(job)


@app.command()
@_handle_errors
def wait(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job Id.")],
    poll_interval: Annotated[
        float, typer.Option(min=0.01, help="Seconds between status checks.")
    ] = 5.0,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Give up after this many seconds (exit 4).")
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Live progress bar on stderr.")
    ] = True,
    cancel_on_interrupt: Annotated[
        bool, typer.Option("--cancel-on-interrupt", help="Ctrl-C asks whether to stop the job.")
    ] = False,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Wait for a job to finish, with a progress bar; exit 3 if it Failed or was Terminated."""
    from ark_batch.cli.lifecycle import stopping_on_interrupt  # noqa: PLC0415

    with (
        _facade(ctx, endpoint, region) as client,
        stopping_on_interrupt(client, job_id, cancel_on_interrupt),
    ):
        job = _wait_with_progress(
            client, job_id, poll_interval=poll_interval, timeout=timeout, progress=progress
        )
    if as_json:
        _print_json(job.to_dict())
    _fail_if_unsuccessful(job)


def _download(store: ObjectStore, job: BatchInferenceJob, directory: Path) -> list[Path]:
    """Copy the job's results and errors files into ``directory``; return what exists."""
    from ark_batch.results import error_locations, results_location  # noqa: PLC0415

    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    bucket, key = results_location(job)
    if store.exists(bucket, key):
        target = directory / f"{job.id}.results.jsonl"
        store.download_file(bucket, key, target)
        written.append(target)
    for bucket, key in error_locations(job):
        if store.exists(bucket, key):
            target = directory / f"{job.id}.errors.jsonl"
            store.download_file(bucket, key, target)
            written.append(target)
            break
    return written


@app.command()
@_handle_errors
def submit(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="Local input JSONL."),
    ],
    bucket: Annotated[str, typer.Option(help="Bucket for the input and the output.")],
    name: Annotated[str | None, typer.Option(help="Job name (default: the file name).")] = None,
    model: Annotated[str | None, typer.Option(help="Foundation model as NAME:VERSION.")] = None,
    model_version: Annotated[str | None, typer.Option(help="Foundation model version.")] = None,
    custom_model_id: Annotated[str | None, typer.Option(help="Custom model Id.")] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="Object key for the upload (default: batch-inputs/<name>-<sha256 prefix>"
            "<suffix>, so different files never share a key)."
        ),
    ] = None,
    output_prefix: Annotated[
        str, typer.Option(help="Output prefix in the bucket (ends with /).")
    ] = "batch-outputs/",
    project: Annotated[str | None, typer.Option(help="Project name.")] = None,
    completion_window: Annotated[str | None, typer.Option(help="1d to 28d.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE; repeatable.")] = None,
    wait_: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the job to finish.")
    ] = True,
    download: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="After waiting, save <id>.results.jsonl / <id>.errors.jsonl here "
            "(default: the current directory).",
        ),
    ] = None,
    poll_interval: Annotated[float, typer.Option(min=0.01, help="Seconds between checks.")] = 5.0,
    timeout: Annotated[float | None, typer.Option(min=0, help="Wait at most this long.")] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Live progress bar on stderr.")
    ] = True,
    cancel_on_interrupt: Annotated[
        bool, typer.Option("--cancel-on-interrupt", help="Ctrl-C asks whether to stop the job.")
    ] = False,
    store: StoreOpt = None,
    store_dir: StoreDirOpt = None,
    s3_endpoint: S3EndpointOpt = None,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Upload a local JSONL, create a job on it, optionally wait and download the results.

    The object store must be the one the service (or emulator) reads: --store-dir for the
    emulator's local object root, --s3-endpoint (or --store s3+https://...) for TOS/S3.
    """
    object_store = _store(store, store_dir, s3_endpoint)
    # The content's hash in the default key: two files that share a name never share an
    # object, and the same file always maps to the same one.
    input_key = key or f"batch-inputs/{file.stem}-{_sha256_prefix(file)}{file.suffix}"
    prefix = output_prefix if output_prefix.endswith("/") else f"{output_prefix}/"
    fields: dict[str, Any] = {
        "name": name or file.stem,
        "model": model,
        "model_version": model_version,
        "custom_model_id": custom_model_id,
        "input": f"{bucket}/{input_key}",
        "output": f"{bucket}/{prefix}",
        "project_name": project,
        "completion_window": completion_window,
        "tags": _tags(tag),
    }
    with _facade(ctx, endpoint, region) as client:
        # Validate first: a job already Queued/Running on this key is an error here, before
        # the upload could replace the input it is reading.
        client.validate_job(**fields)
        object_store.upload_file(bucket, input_key, file)
        typer.echo(f"Uploaded {file} to tos://{bucket}/{input_key}", err=True)
        result = client.create_job(on_active_job="raise", **fields)
        typer.echo(f"Created job {result.id}", err=True)
        if not wait_:
            if as_json:
                _print_json({"Id": result.id})
            else:
                typer.echo(result.id)
            return
        from ark_batch.cli.lifecycle import stopping_on_interrupt  # noqa: PLC0415

        with stopping_on_interrupt(client, result.id, cancel_on_interrupt):
            job = _wait_with_progress(
                client, result.id, poll_interval=poll_interval, timeout=timeout, progress=progress
            )
    # Also after Failed/Terminated: requests that finished keep their results.
    files = _download(object_store, job, download or Path.cwd())
    for path in files:
        typer.echo(f"Saved {path}", err=True)
    if as_json:
        _print_json({"Id": job.id, "Job": job.to_dict(), "Files": [str(p) for p in files]})
    else:
        typer.echo(job.id)
    _fail_if_unsuccessful(job)


def _sha256_prefix(path: Path, length: int = 12) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:length]


@app.command()
@_handle_errors
def results(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job Id.")],
    errors: Annotated[
        bool, typer.Option("--errors", help="Read the errors file instead of the results.")
    ] = False,
    all_: Annotated[bool, typer.Option("--all", help="Results, then errors.")] = False,
    download: Annotated[
        Path | None,
        typer.Option(file_okay=False, help="Save both files into this directory instead."),
    ] = None,
    store: StoreOpt = None,
    store_dir: StoreDirOpt = None,
    s3_endpoint: S3EndpointOpt = None,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
) -> None:
    """Stream a finished job's result (or error) lines as JSON Lines on stdout."""
    object_store = _store(store, store_dir, s3_endpoint)
    with _facade(ctx, endpoint, region) as client:
        job = client.get_job(job_id)
    if download is not None:
        for path in _download(object_store, job, download):
            typer.echo(f"Saved {path}", err=True)
        return
    from ark_batch.results import iter_errors, iter_records, iter_results  # noqa: PLC0415

    reader = iter_records if all_ else iter_errors if errors else iter_results
    out = sys.stdout
    for record in reader(object_store, job):
        out.write(json.dumps(record.raw, ensure_ascii=False))
        out.write("\n")
    out.flush()


# The stop, resume, update and delete commands register themselves on `app`.
from ark_batch.cli import lifecycle as _lifecycle  # noqa: E402, F401
