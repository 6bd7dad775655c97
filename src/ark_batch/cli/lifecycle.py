"""``ark-batch stop``, ``resume``, ``update`` and ``delete``, and the Ctrl-C prompt that
stops a job being waited for (``--cancel-on-interrupt`` on ``submit`` and ``wait``)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ark_batch.cli.context import EndpointOpt, ProfileOpt, RegionOpt, VerboseOpt, connect
from ark_batch.cli.failures import EXIT_ERROR, UsageError, handle_errors
from ark_batch.cli.jobs import JsonOpt
from ark_batch.cli.output import print_id

if TYPE_CHECKING:
    from ark_batch.facade import ArkBatch

__all__ = ["CancelOnInterruptOpt", "offer_to_stop", "register"]

JobIdArg = Annotated[str, typer.Argument(help="Job Id, e.g. bi-20240918194641-r2nwq.")]
CancelOnInterruptOpt = Annotated[
    bool, typer.Option("--cancel-on-interrupt", help="Ctrl-C asks whether to stop the job.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Run the service's checks only; change nothing.")
]


def _confirm(question: str) -> bool:
    """Ask on stderr; only y or yes is a yes, and no answer (end of input) is a no.

    Not ``typer.confirm(err=True)``: click writes the space after the question to stdout,
    which must hold only the command's output (``--json``).
    """
    typer.echo(f"{question} [y/N]: ", nl=False, err=True)
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        typer.echo("", err=True)  # end of input: end the prompt's line
    return answer.strip().lower() in ("y", "yes")


def offer_to_stop(ark: ArkBatch, job_id: str) -> bool:
    """After a Ctrl-C: ask whether to stop the job, and stop it on a yes.

    Returns whether the job was asked to stop.
    """
    typer.echo("", err=True)
    if _confirm(f"Stop job {job_id}?"):
        ark.stop_job(job_id)
        typer.echo(f"Stopping job {job_id}.", err=True)
        return True
    typer.echo(f"Job {job_id} keeps running.", err=True)
    return False


@handle_errors
def stop(
    ctx: typer.Context,
    job_id: JobIdArg,
    dry_run: DryRunOpt = False,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Stop a Queued or Running job; lines already run keep their results."""
    with connect(ctx, endpoint, region, profile, verbose) as client:
        client.stop_job(job_id, dry_run=dry_run)
    if dry_run:
        print_id(as_json, job_id, f"Dry run passed: job {job_id} would be stopped.")
    else:
        print_id(as_json, job_id, f"Stopping job {job_id}.")


@handle_errors
def resume(
    ctx: typer.Context,
    job_id: JobIdArg,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Queue a Terminated or Failed job again; a Terminated one runs only unfinished lines."""
    with connect(ctx, endpoint, region, profile, verbose) as client:
        result = client.resume_job(job_id)
    print_id(as_json, result.id, f"Resumed job {result.id}.")


@handle_errors
def update(
    ctx: typer.Context,
    job_id: JobIdArg,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    description: Annotated[
        str | None, typer.Option(help="New description; an empty one clears it.")
    ] = None,
    dry_run: DryRunOpt = False,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Change a job's name and/or description."""
    if name is None and description is None:
        raise UsageError("give --name, --description, or both")
    with connect(ctx, endpoint, region, profile, verbose) as client:
        client.update_job(job_id, name=name, description=description, dry_run=dry_run)
    if dry_run:
        print_id(as_json, job_id, f"Dry run passed: job {job_id} would be updated.")
    else:
        print_id(as_json, job_id, f"Updated job {job_id}.")


@handle_errors
def delete(
    ctx: typer.Context,
    job_id: JobIdArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: DryRunOpt = False,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a Completed, Failed or Terminated job; its output objects stay."""
    if not (yes or dry_run) and not _confirm(
        f"Delete job {job_id}? Get and List will no longer show it."
    ):
        typer.echo(f"Not deleted: job {job_id}.", err=True)
        raise typer.Exit(EXIT_ERROR)
    with connect(ctx, endpoint, region, profile, verbose) as client:
        client.delete_job(job_id, dry_run=dry_run)
    if dry_run:
        print_id(as_json, job_id, f"Dry run passed: job {job_id} would be deleted.")
    else:
        print_id(as_json, job_id, f"Deleted job {job_id}.")


def register(app: typer.Typer) -> None:
    """Add ``stop``, ``resume``, ``update`` and ``delete`` to ``app``."""
    for command in (stop, resume, update, delete):
        app.command()(command)
