"""``validate``: check a batch input file locally (also run by ``submit``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ark_batch.cli.failures import CommandError, handle_errors
from ark_batch.cli.input_check import InputReport, check_input

__all__ = ["InputFileArg", "register", "require_valid_input"]

InputFileArg = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, readable=True, help="Local input JSONL."),
]


def require_valid_input(path: Path) -> InputReport:
    """The report of a valid ``path``; else its problems on stderr and exit 1."""
    report = check_input(path)
    if report.ok:
        return report
    for problem in report.problems:
        typer.echo(f"{path}: {problem}", err=True)
    if report.truncated:
        typer.echo(f"{path}: … and more", err=True)
    if not report.problems:
        raise CommandError(f"{path} holds no requests (one JSON object per line)")
    raise CommandError(
        f"{path} is not a valid batch input: {len(report.problems)}"
        f"{'+' if report.truncated else ''} bad line(s); see the README's Input file section"
    )


@handle_errors
def validate(file: InputFileArg) -> None:
    """Check an input file the way the service will: JSON per line, custom_id, body."""
    count = require_valid_input(file).requests
    typer.echo(f"{file}: {count} request(s), all valid")


def register(app: typer.Typer) -> None:
    """Add ``validate`` to ``app``."""
    app.command()(validate)
