"""The ``ark-batch`` command line (needs the ``cli`` extra: typer and rich).

Imports stay lazy: ``ark-batch --help`` loads typer only; httpx, the generated client
and the object stores load when a command runs.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Console-script entry point."""
    try:
        from ark_batch.cli.app import app  # noqa: PLC0415
    except ModuleNotFoundError as exc:
        if exc.name not in ("typer", "rich", "click"):
            raise
        import sys  # noqa: PLC0415

        print(
            f"ark-batch needs the 'cli' extra ({exc.name} is missing): "
            "pip install 'ark-batch[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    app()
