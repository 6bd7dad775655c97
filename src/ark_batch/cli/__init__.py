"""The ``ark-batch`` command line (needs the ``cli`` extra: typer and rich).

Imports stay lazy: ``ark-batch --help`` loads typer only; httpx, the generated client
and the object stores load when a command runs.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Console-script entry point."""
    from ark_batch.cli.app import app  # noqa: PLC0415

    app()
