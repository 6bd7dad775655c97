"""``ark-batch stop``, ``resume``, ``update`` and ``delete``, and Ctrl-C handling that
stops a job being waited for (``--cancel-on-interrupt`` on ``submit`` and ``wait``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from ark_batch.cli.app import (
    EXIT_ERROR,
    EndpointOpt,
    JsonOpt,
    RegionOpt,
    _facade,
    _handle_errors,
    _print_json,
    app,
)

if TYPE_CHECKING:
    from ark_batch.facade import ArkBatch

__all__ = ["delete", "resume", "stop", "stopping_on_interrupt", "update"]

JobIdArg = Annotated[str, typer.Argument(help="Job Id, e.g. bi-20240918194641-r2nwq.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Run the service's checks only; change nothing.")
]


def _confirm(question: str) -> bool:
    """Ask on stderr; no answer (end of input) counts as no."""
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:
        return False


@contextmanager
def stopping_on_interrupt(client: ArkBatch, job_id: str, enabled: bool) -> Iterator[None]:
    """With ``enabled``, a Ctrl-C in the block asks whether to stop the job first.

    The interrupt always propagates (exit 130); the job is stopped only on a yes.
    """
    try:
        yield
    except KeyboardInterrupt:
        if enabled:
            typer.echo("", err=True)
            if _confirm(f"Stop job {job_id}?"):
                client.stop_job(job_id)
                typer.echo(f"Stopping job {job_id}.", err=True)
            else:
                typer.echo(f"Job {job_id} keeps running.", err=True)
        raise


def _done(as_json: bool, job_id: str, text: str) -> None:
    if as_json:
        _print_json({"Id": job_id})
    else:
        typer.echo(text)


@app.command()
@_handle_errors
def stop(
    ctx: typer.Context,
    job_id: JobIdArg,
    dry_run: DryRunOpt = False,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop a Queued or Running job; lines already run keep their results."""
    with _facade(ctx, endpoint, region) as client:
        client.stop_job(job_id, dry_run=dry_run)
    if dry_run:
        _done(as_json, job_id, f"Dry run passed: job {job_id} would be stopped.")
    else:
        _done(as_json, job_id, f"Stopping job {job_id}.")


@app.command()
@_handle_errors
def resume(
    ctx: typer.Context,
    job_id: JobIdArg,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue a Terminated or Failed job again; a Terminated one runs only unfinished lines."""
    with _facade(ctx, endpoint, region) as client:
        result = client.resume_job(job_id)
    _done(as_json, result.id, f"Resumed job {result.id}.")


@app.command()
@_handle_errors
def update(
    ctx: typer.Context,
    job_id: JobIdArg,
    name: Annotated[str | None, typer.Option(help="New name (1-200 characters).")] = None,
    description: Annotated[
        str | None, typer.Option(help="New description; an empty one clears it.")
    ] = None,
    dry_run: DryRunOpt = False,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a job's name and/or description."""
    with _facade(ctx, endpoint, region) as client:
        client.update_job(job_id, name=name, description=description, dry_run=dry_run)
    if dry_run:
        _done(as_json, job_id, f"Dry run passed: job {job_id} would be updated.")
    else:
        _done(as_json, job_id, f"Updated job {job_id}.")


@app.command()
@_handle_errors
def delete(
    ctx: typer.Context,
    job_id: JobIdArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: DryRunOpt = False,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a Completed, Failed or Terminated job; its output objects stay."""
    if not (yes or dry_run) and not _confirm(
        f"Delete job {job_id}? Get and List will no longer show it."
    ):
        typer.echo(f"Not deleted: job {job_id}.", err=True)
        raise typer.Exit(EXIT_ERROR)
    with _facade(ctx, endpoint, region) as client:
        client.delete_job(job_id, dry_run=dry_run)
    if dry_run:
        _done(as_json, job_id, f"Dry run passed: job {job_id} would be deleted.")
    else:
        _done(as_json, job_id, f"Deleted job {job_id}.")
