"""The guide's examples (docs/examples/*.py) run to completion against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

EXPECTED = {
    "submit_and_wait.py": ["created bi-", "Completed:", "q-0: 'What is 2+2?'", "done: "],
    "list_and_filter.py": [
        "first page: 5 of 12 jobs",
        "all pages: 12 jobs",
        "nightly jobs of team search: ['nightly-eval-1', 'nightly-eval-11', "
        "'nightly-eval-5', 'nightly-eval-7']",
    ],
    "handle_errors.py": [
        "not found: InvalidBatchInferenceJob.NotFound (HTTP 404, RequestId ",
        "invalid: InvalidParameter: The parameter CompletionWindow is invalid",
        "dry run passed",
        "already running: bi-",
        "timed out while Queued",
        "transport: ConnectError, request sent: False",
    ],
    "stop_and_resume.py": [
        "stopped: Terminated",
        "resumed: Completed, 2000 distinct lines of 2000",
        "renamed: lines-v2",
        "deleted: InvalidBatchInferenceJob.NotFound",
        "guarded job stopped: True",
    ],
    "async_usage.py": [
        "part-0: Completed",
        "part-1: Completed",
        "part-2: Completed",
        "listed 3 jobs",
    ],
}


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("[!_]*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARK_BATCH_", "VOLC"))}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for expected in EXPECTED[name]:
        assert expected in done.stdout, done.stdout
