"""What the root options set up for every command (``ctx.obj``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ark_batch.cli.httplog import HttpLog

__all__ = ["CliState", "state"]


@dataclass
class CliState:
    """The running command's options and connection."""

    verbose: bool = False
    #: ``--http-timeout``: the deadline of each service call, retries included.
    http_timeout: float | None = None
    #: The endpoint the command's connection goes to, for error lines.
    endpoint: str | None = None
    #: The request log of the command's connection (its raw response bodies).
    http_log: HttpLog | None = field(default=None, repr=False)


def state(ctx: typer.Context) -> CliState:
    """The running command's state (created if the root callback did not run)."""
    return ctx.ensure_object(CliState)
