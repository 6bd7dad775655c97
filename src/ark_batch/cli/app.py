"""The ``ark-batch`` Typer application: root options and the command modules.

Each command module exposes ``register(app)``; adding a command group is one line in
:func:`_register`. Commands import the HTTP stack, the generated models and rich only
when they run, so ``ark-batch --help`` loads typer alone (``tests/client`` checks it).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ark_batch.cli import inputs, jobs, lifecycle, transfer, waiting
from ark_batch.cli.failures import EXIT_USAGE, finite
from ark_batch.cli.httplog import VERBOSE_HELP, log_to_stderr
from ark_batch.cli.profiles import config_path
from ark_batch.cli.state import CliState

__all__ = ["app"]


class _OneLineErrors(TyperGroup):
    """Bad usage is one line on stderr (exit 2), not click's usage block."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def run() -> Any:
            return super(_OneLineErrors, self).main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )

        if not standalone_mode:
            return run()
        try:
            code = run()
        except typer.TyperException as exc:  # click's exceptions, as typer ships them
            message = " ".join(exc.format_message().split())
            if exc.exit_code == EXIT_USAGE:
                context = getattr(exc, "ctx", None)
                command = context.command_path if context is not None else "ark-batch"
                message = f"{message} (see {command} --help)"
            typer.echo(f"Error: {message}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="ark-batch",
    cls=_OneLineErrors,
    help=(
        "Create, inspect and wait for Volcengine Ark batch inference jobs.\n\n"
        "Credentials come from a profile (--profile, ARK_BATCH_PROFILE; see "
        "`ark-batch config-path`), VOLCENGINE_ACCESS_KEY / VOLCENGINE_SECRET_KEY "
        "(optionally VOLCENGINE_SESSION_TOKEN) or VOLC_ACCESSKEY / VOLC_SECRETKEY; the "
        "region from --region or VOLCENGINE_REGION (default cn-beijing); the endpoint "
        "from --endpoint or ARK_BATCH_ENDPOINT (default https://open.volcengineapi.com). "
        "Use --endpoint 127.0.0.1:8080 to talk to a local emulator.\n\n"
        "Exit codes: 1 error, 2 usage, 3 job Failed/Terminated, 4 wait timed out, "
        "130 interrupted."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain click help: rich help rendering imports ~180 ms of modules (markdown, pygments).
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from ark_batch import __version__  # noqa: PLC0415  # reads package metadata

        typer.echo(f"ark-batch {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: Annotated[
        bool,
        typer.Option("-v", "--verbose", "--debug", help=VERBOSE_HELP),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    http_timeout: Annotated[
        float | None,
        typer.Option(
            "--http-timeout",
            envvar="ARK_BATCH_HTTP_TIMEOUT",
            show_envvar=True,
            min=0.001,
            callback=finite,
            metavar="SECONDS",
            help="Give up on any one service call (retries included) after this long.",
        ),
    ] = None,
) -> None:
    current = ctx.ensure_object(CliState)
    current.http_timeout = http_timeout
    if verbose:
        log_to_stderr(ctx)


@app.command("config-path")
def config_path_command() -> None:
    """Print where the profiles file is read from (ARK_BATCH_CONFIG overrides it)."""
    typer.echo(str(config_path()))


def _register(target: typer.Typer) -> None:
    jobs.register(target)
    waiting.register(target)
    transfer.register(target)
    inputs.register(target)
    lifecycle.register(target)


_register(app)
