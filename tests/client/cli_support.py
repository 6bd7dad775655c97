"""Helpers for the CLI tests: running ark-batch through typer's runner, input files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ark_batch.cli.app import app
from ark_batch.emulator import DEV_ACCESS_KEY, DEV_SECRET_KEY

#: The environment every CLI test starts from: the emulator's development keys, nothing
#: else that could reach a command from the machine's own environment or config file.
ENV = {
    "VOLCENGINE_ACCESS_KEY": DEV_ACCESS_KEY,
    "VOLCENGINE_SECRET_KEY": DEV_SECRET_KEY,
    "VOLCENGINE_SESSION_TOKEN": "",
    "VOLCENGINE_REGION": "",
    "VOLC_ACCESSKEY": "",
    "VOLC_SECRETKEY": "",
    "ARK_BATCH_ENDPOINT": "",
    "ARK_BATCH_STORE": "",
    "ARK_BATCH_PROFILE": "",
    "ARK_BATCH_CONFIG": "/nonexistent/ark-batch-test-config.toml",
}
CREATE_ARGS = [
    "--name",
    "cli-job",
    "--model",
    "doubao-pro-32k:240615",
    "--input",
    "tos://my-bucket/in/cli.jsonl",
    "--output",
    "tos://my-bucket/out/",
]


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    """``ark-batch ARGS`` in-process; only a deliberate exit may end it."""
    result = CliRunner().invoke(app, list(args), env={**ENV, **(env or {})}, input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def lines(text: str) -> list[str]:
    """The non-blank lines of ``text``."""
    return [line for line in text.splitlines() if line.strip()]


def input_file(directory: Path, count: int, name: str = "prompts.jsonl") -> Path:
    """A valid batch input of ``count`` chat requests."""
    path = directory / name
    rows = [
        json.dumps(
            {
                "custom_id": f"req-{n}",
                "body": {"messages": [{"role": "user", "content": f"Say {n}"}], "max_tokens": 8},
            }
        )
        for n in range(count)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
