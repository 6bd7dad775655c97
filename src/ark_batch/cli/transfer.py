"""``submit`` and ``results``: moving a job's files between this machine and the store."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ark_batch.cli.body import InputJsonOpt, SetOpt
from ark_batch.cli.context import EndpointOpt, ProfileOpt, RegionOpt, VerboseOpt, connect
from ark_batch.cli.failures import CommandError, UsageError, handle_errors
from ark_batch.cli.fields import (
    CompletionWindowOpt,
    CreateOptions,
    CustomModelOpt,
    ModelOpt,
    ModelVersionOpt,
    ProjectOpt,
    TagOpt,
    build_create,
)
from ark_batch.cli.inputs import InputFileArg, require_valid_input
from ark_batch.cli.jobs import JsonOpt, last_result
from ark_batch.cli.lifecycle import CancelOnInterruptOpt
from ark_batch.cli.output import location, print_id, print_json
from ark_batch.cli.stores import (
    S3EndpointOpt,
    StoreChoice,
    StoreDirOpt,
    StoreOpt,
    choose_store,
)
from ark_batch.cli.waiting import (
    PollOpt,
    ProgressOpt,
    TimeoutOpt,
    fail_if_unsuccessful,
    wait_with_progress,
)

if TYPE_CHECKING:
    from ark_batch_client.models import BatchInferenceJob

__all__ = ["register"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _not_found(exc: Exception, choice: StoreChoice) -> CommandError:
    return CommandError(f"{exc} Looked in {choice.description}.")


def _download(choice: StoreChoice, job: BatchInferenceJob, directory: Path) -> list[Path]:
    """Copy the job's results and errors files into ``directory``; return what was saved.

    A file the job's counts say must exist but is missing fails, naming where it looked.
    """
    from ark_batch.results import (  # noqa: PLC0415
        ResultsNotFoundError,
        check_readable,
        error_locations,
        results_location,
    )

    check_readable(job, partial=True)
    store = choice.store
    found: list[tuple[str, str, str]] = []
    bucket, key = results_location(job)
    if store.exists(bucket, key):
        found.append((bucket, key, "results"))
    elif job.request_counts.completed > 0:
        raise _not_found(ResultsNotFoundError(job, "results", bucket, key), choice)
    errors = [(b, k) for b, k in error_locations(job) if store.exists(b, k)]
    if errors:
        found.append((*errors[0], "errors"))
    elif job.request_counts.failed > 0:
        raise _not_found(ResultsNotFoundError(job, "errors", *error_locations(job)[0]), choice)
    written = []
    target = directory
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for bucket, key, what in found:
            target = directory / f"{job.id}.{what}.jsonl"
            store.download_file(bucket, key, target)
            written.append(target)
    except OSError as exc:
        raise CommandError(f"cannot save {target}: {exc.strerror or exc}") from None
    return written


@handle_errors
def submit(
    ctx: typer.Context,
    file: InputFileArg,
    bucket: Annotated[str, typer.Option(help="Bucket for the input and the output.")],
    name: Annotated[str | None, typer.Option(help="Job name (default: the file name).")] = None,
    model: ModelOpt = None,
    model_version: ModelVersionOpt = None,
    custom_model_id: CustomModelOpt = None,
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
    project: ProjectOpt = None,
    completion_window: CompletionWindowOpt = None,
    tag: TagOpt = None,
    validate: Annotated[
        bool,
        typer.Option(
            "--validate/--no-validate", help="Check the file locally before uploading it."
        ),
    ] = True,
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
    poll_interval: PollOpt = 5.0,
    timeout: TimeoutOpt = None,
    progress: ProgressOpt = True,
    cancel_on_interrupt: CancelOnInterruptOpt = False,
    input_json: InputJsonOpt = None,
    set_: SetOpt = None,
    store: StoreOpt = None,
    store_dir: StoreDirOpt = None,
    s3_endpoint: S3EndpointOpt = None,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Check and upload a local JSONL, create a job on it, wait, download the results.

    The object store must be the one the service (or emulator) reads: --store-dir for the
    emulator's object root, --s3-endpoint (or --store s3+https://...) for TOS/S3.
    """
    choice = choose_store(store, store_dir, s3_endpoint)
    # Validation hashes the file as it reads it; only --no-validate reads it for the hash.
    sha256 = require_valid_input(file).sha256 if validate else None
    # The content's hash in the default key: two files that share a name never share an
    # object, and the same file always maps to the same one.
    input_key = key or f"batch-inputs/{file.stem}-{(sha256 or _sha256(file))[:12]}{file.suffix}"
    prefix = output_prefix if output_prefix.endswith("/") else f"{output_prefix}/"
    options = CreateOptions(
        name=name or file.stem,
        input=f"{bucket}/{input_key}",
        output=f"{bucket}/{prefix}",
        model=model,
        model_version=model_version,
        custom_model_id=custom_model_id,
        project=project,
        completion_window=completion_window,
        tags=tuple(tag or ()),
    )
    request = build_create(options, input_json, set_)
    chosen = request.input_file_tos_location
    if (chosen.bucket_name, chosen.object_key) != (bucket, input_key):
        # The job would read another object than the one uploaded.
        raise UsageError(
            f"submit uploads {file.name} to {location(bucket, input_key)} and the job reads "
            f"it there; --set and --input-json cannot change InputFileTosLocation "
            f"(to {location(chosen.bucket_name, chosen.object_key)}): use --bucket and --key"
        )
    with connect(ctx, endpoint, region, profile, verbose) as ark:
        # Validate first: a job already Queued/Running on this key is an error here, before
        # the upload could replace the input it is reading.
        ark.validate_job(request)
        choice.store.upload_file(bucket, input_key, file)
        typer.echo(f"Uploaded {file} to {choice.where(bucket, input_key)}", err=True)
        job_id = ark.create_job(request, on_active_job="raise").id
        typer.echo(f"Created job {job_id}", err=True)
        if not wait_:
            print_id(as_json, job_id)
            return
        job = wait_with_progress(
            ark,
            job_id,
            poll_interval=poll_interval,
            timeout=timeout,
            progress=progress,
            cancel_on_interrupt=cancel_on_interrupt,
        )
        raw_job = last_result(ctx)
    # Also after Failed/Terminated: requests that finished keep their results.
    files = _download(choice, job, download or Path.cwd())
    for path in files:
        typer.echo(f"Saved {path}", err=True)
    if as_json:
        print_json({"Id": job.id, "Job": raw_job, "Files": [str(p) for p in files]})
    else:
        typer.echo(job.id)
    fail_if_unsuccessful(job)


@handle_errors
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
    profile: ProfileOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Stream an ended job's result (or error) lines as JSON Lines on stdout.

    A job still Queued or Running is an error (exit 1); a Failed or Terminated job's kept
    lines are printed, then it exits 3.
    """
    from ark_batch.results import (  # noqa: PLC0415
        ResultsNotFoundError,
        check_readable,
        iter_errors,
        iter_records,
        iter_results,
    )

    choice = choose_store(store, store_dir, s3_endpoint)
    with connect(ctx, endpoint, region, profile, verbose) as ark:
        job = ark.get_job(job_id)
    check_readable(job, partial=True)
    written = 0
    if download is not None:
        saved = _download(choice, job, download)
        for path in saved:
            typer.echo(f"Saved {path}", err=True)
        if not saved:  # a job with no line has no file; say so rather than print nothing
            typer.echo(f"{job.id}: no results or errors file to save", err=True)
    else:
        reader = iter_records if all_ else iter_errors if errors else iter_results
        out = sys.stdout
        try:
            for record in reader(choice.store, job, partial=True):
                out.write(json.dumps(record.raw, ensure_ascii=False))
                out.write("\n")
                written += 1
        except ResultsNotFoundError as exc:
            raise _not_found(exc, choice) from None
        out.flush()
    fail_if_unsuccessful(job)  # a Failed or Terminated job says so itself, and exits 3
    if download is None and not written:
        # An empty file of a successful job is an answer: say so rather than print nothing.
        kind = "lines" if all_ else "error lines" if errors else "result lines"
        typer.echo(f"{job.id}: 0 {kind}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``submit`` and ``results`` to ``app``."""
    app.command()(submit)
    app.command()(results)
