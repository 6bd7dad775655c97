"""``wait``: poll a job until it ends, showing progress on stderr.

On a terminal: a live bar (phase, done/total, failed, elapsed, ETA). Otherwise (stderr
redirected to a file or a pipe): one line at each phase change and one line every
:data:`PROGRESS_LINE_SECONDS` in between, changed or not (the facade's ``wait`` paces
them), then a summary. Ctrl-C stops waiting
(the job keeps running) and prints the command that resumes it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Annotated

import typer

from ark_batch.cli.context import EndpointOpt, ProfileOpt, RegionOpt, VerboseOpt, connect
from ark_batch.cli.failures import EXIT_INTERRUPTED, finite, handle_errors
from ark_batch.cli.jobs import JsonOpt, last_result
from ark_batch.cli.lifecycle import CancelOnInterruptOpt, offer_to_stop
from ark_batch.cli.output import print_json

if TYPE_CHECKING:
    from ark_batch.facade import ArkBatch
    from ark_batch_client.models import BatchInferenceJob

__all__ = ["PROGRESS_LINE_SECONDS", "fail_if_unsuccessful", "register", "wait_with_progress"]

#: Off a terminal, the time between two progress lines of the same phase.
PROGRESS_LINE_SECONDS = 10.0

PollOpt = Annotated[
    float, typer.Option(min=0.01, callback=finite, help="Seconds between status checks.")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(min=0, callback=finite, help="Give up after this many seconds (exit 4)."),
]
ProgressOpt = Annotated[
    bool,
    typer.Option(
        "--progress/--no-progress",
        help="Progress on stderr: a live bar on a terminal, else a line now and then.",
    ),
]


class _Lines:
    """Progress as plain lines, one per update it is given."""

    def __init__(self, job_id: str, started: float) -> None:
        self.job_id = job_id
        self.started = started

    def __call__(self, job: BatchInferenceJob) -> None:
        counts = job.request_counts
        typer.echo(
            f"{self.job_id} {job.status.phase}: {counts.completed + counts.failed}/"
            f"{counts.total} done, {counts.failed} failed, "
            f"{time.monotonic() - self.started:.0f}s elapsed",
            err=True,
        )


_Show = Callable[["BatchInferenceJob"], None]


@contextmanager
def _bar(job_id: str) -> Iterator[_Show]:
    """Progress as a live bar on stderr while the block runs."""
    from rich.console import Console  # noqa: PLC0415  # only on a terminal
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True, highlight=False),
    ) as bar:
        task = bar.add_task(f"{job_id} …", total=None, failed=0)

        def show(job: BatchInferenceJob) -> None:
            status, counts = job.status, job.request_counts
            bar.update(
                task,
                description=f"{job_id} {status.phase}",
                total=counts.total or None,
                completed=counts.completed + counts.failed,
                failed=counts.failed,
            )

        yield show


def wait_with_progress(
    ark: ArkBatch,
    job_id: str,
    *,
    poll_interval: float,
    timeout: float | None,
    progress: bool,
    cancel_on_interrupt: bool = False,
) -> BatchInferenceJob:
    """Wait for the job to end and return it, whatever its final phase.

    On Ctrl-C, with ``cancel_on_interrupt``, ask whether to stop the job first.
    """
    started = time.monotonic()
    display: AbstractContextManager[_Show | None]
    if progress and sys.stderr.isatty():
        # A live bar redraws on every poll; lines are paced for logs.
        display, every = _bar(job_id), None
    else:
        display = nullcontext(_Lines(job_id, started) if progress else None)
        every = PROGRESS_LINE_SECONDS
    last_phase: str | None = None
    try:
        with display as show:

            def on_update(job: BatchInferenceJob) -> None:
                nonlocal last_phase
                last_phase = job.status.phase
                if show is not None:
                    show(job)

            job = ark.wait(
                job_id,
                poll_interval=poll_interval,
                timeout=timeout,
                on_update=on_update,
                raise_on_failure=False,
                update_every=every,
            )
    except KeyboardInterrupt:
        if cancel_on_interrupt and offer_to_stop(ark, job_id):
            typer.echo(f"Stopped waiting. Follow it with: ark-batch wait {job_id}", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        phase = f" (last seen {last_phase})" if last_phase is not None else ""
        typer.echo(
            f"\nStopped waiting; job {job_id} goes on{phase}. Resume with: ark-batch wait {job_id}",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    counts = job.request_counts
    typer.echo(
        f"{job.id} {job.status.phase}: {counts.completed} completed, {counts.failed} failed "
        f"of {counts.total} in {time.monotonic() - started:.1f}s",
        err=True,
    )
    return job


def fail_if_unsuccessful(job: BatchInferenceJob) -> None:
    """Raise the job's failure (exit 3), once its output is delivered."""
    from ark_batch._api import FAILED_PHASES  # noqa: PLC0415
    from ark_batch.errors import JobFailedError  # noqa: PLC0415

    if job.status.phase in FAILED_PHASES:
        raise JobFailedError(job)


@handle_errors
def wait(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job Id.")],
    poll_interval: PollOpt = 5.0,
    timeout: TimeoutOpt = None,
    progress: ProgressOpt = True,
    cancel_on_interrupt: CancelOnInterruptOpt = False,
    endpoint: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Wait for a job to end; exit 3 if it Failed or was Terminated.

    Ctrl-C stops waiting (the job goes on) and prints how to resume.
    """
    with connect(ctx, endpoint, region, profile, verbose) as ark:
        job = wait_with_progress(
            ark,
            job_id,
            poll_interval=poll_interval,
            timeout=timeout,
            progress=progress,
            cancel_on_interrupt=cancel_on_interrupt,
        )
    if as_json:
        print_json(last_result(ctx))
    fail_if_unsuccessful(job)


def register(app: typer.Typer) -> None:
    """Add ``wait`` to ``app``."""
    app.command()(wait)
