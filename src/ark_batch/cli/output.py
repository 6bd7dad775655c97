"""What the commands print: JSON, job tables (TSV when piped) and one job's fields."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from ark_batch_client.models import BatchInferenceJob

__all__ = [
    "job_table",
    "location",
    "model_name",
    "print_id",
    "print_job",
    "print_job_table",
    "print_json",
]

_COLUMNS = ("Id", "Name", "Phase", "Done/Total", "Failed", "Model", "Created")


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout, keys in the order given."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def print_id(as_json: bool, job_id: str, text: str | None = None) -> None:
    """``{"Id": job_id}`` as JSON, else ``text`` (by default the bare Id)."""
    if as_json:
        print_json({"Id": job_id})
    else:
        typer.echo(job_id if text is None else text)


def _present(value: object) -> str:
    from ark_batch_client.types import Unset  # noqa: PLC0415

    return "" if value is None or isinstance(value, Unset) else str(value)


def model_name(job: BatchInferenceJob) -> str:
    """``name:version`` of a foundation model, a custom model's Id, or ``-``."""
    from ark_batch_client.types import Unset  # noqa: PLC0415

    reference = job.model_reference
    if not isinstance(reference.foundation_model, Unset) and reference.foundation_model:
        model = reference.foundation_model
        version = _present(model.model_version)
        return f"{model.name}:{version}" if version else model.name
    return _present(reference.custom_model_id) or "-"


def _row(job: BatchInferenceJob) -> tuple[str, ...]:
    counts = job.request_counts
    return (
        job.id,
        job.name,
        job.status.phase,
        f"{counts.completed + counts.failed}/{counts.total}",
        str(counts.failed),
        model_name(job),
        job.create_time.strftime("%Y-%m-%d %H:%M:%S"),
    )


def print_job_table(jobs: Sequence[BatchInferenceJob]) -> None:
    """A table on a terminal; tab-separated rows, no header and no padding when piped.

    Piped, an empty list says so on stderr, so it is never silent and stdout stays rows.
    """
    rows = [_row(job) for job in jobs]
    if not sys.stdout.isatty():
        for row in rows:
            typer.echo("\t".join(" ".join(cell.split()) for cell in row))
        if not rows:
            typer.echo("0 job(s)", err=True)
        return
    from rich.console import Console  # noqa: PLC0415  # ~50 ms: not for --help

    console = Console(highlight=False)
    console.print(job_table(rows, console.width))
    console.print(f"{len(jobs)} job(s)")


#: Columns left out, in this order, when the terminal is too narrow for all of them.
_DROPPED_FIRST = ("Model", "Created", "Failed", "Name")
#: Columns printed whole, never cut: Ids, phases, counts and times.
_WHOLE = ("Id", "Phase", "Done/Total", "Failed", "Created")
#: The narrowest a wrapped column (Name, Model) is given.
_MIN_WRAPPED = 8


def job_table(rows: Sequence[tuple[str, ...]], width: int) -> Any:
    """The rich table of ``rows`` (one per job, in :data:`_COLUMNS` order) for ``width``.

    Ids, phases, counts and times are never cut; the name wraps; on a narrow terminal the
    model, then the creation time, the failed count and the name are left out instead.
    """
    from rich.table import Table  # noqa: PLC0415

    natural = {
        column: max([len(column), *(len(row[n]) for row in rows)])
        for n, column in enumerate(_COLUMNS)
    }

    def needed(columns: list[str]) -> int:
        # Each column is padded by one space on either side.
        return sum(
            (natural[c] if c in _WHOLE else min(natural[c], _MIN_WRAPPED)) + 2 for c in columns
        )

    shown = list(_COLUMNS)
    for column in _DROPPED_FIRST:
        if needed(shown) <= width:
            break
        shown.remove(column)
    table = Table(box=None, header_style="bold")
    for column in shown:
        whole = column in _WHOLE
        table.add_column(
            column,
            no_wrap=whole,
            min_width=natural[column] if whole else min(natural[column], _MIN_WRAPPED),
            overflow="ellipsis" if whole else "fold",
        )
    for row in rows:
        table.add_row(*(row[_COLUMNS.index(column)] for column in shown))
    return table


def location(bucket: str, key: str) -> str:
    return f"tos://{bucket}/{key}"


def print_job(job: BatchInferenceJob) -> None:
    """One job as aligned ``Field  value`` lines."""
    counts = job.request_counts
    rows: list[tuple[str, str]] = [
        ("Id", job.id),
        ("Name", job.name),
        ("Project", _present(job.project_name)),
        ("Phase", job.status.phase),
        ("Message", _present(job.status.message)),
        ("Model", model_name(job)),
        ("Requests", f"{counts.completed} completed, {counts.failed} failed, {counts.total} total"),
        (
            "Input",
            location(
                job.input_file_tos_location.bucket_name, job.input_file_tos_location.object_key
            ),
        ),
        (
            "Output",
            location(
                job.output_dir_tos_location.bucket_name, job.output_dir_tos_location.object_key
            ),
        ),
        ("Completion window", _present(job.completion_window)),
        ("Created", job.create_time.isoformat()),
        ("Updated", job.update_time.isoformat()),
        ("Expires", job.expire_time.isoformat()),
    ]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        typer.echo(f"{key:<{width}}  {' '.join(value.split())}".rstrip())
