"""``ark-batch wait`` in a real pseudo-terminal: the live progress bar, and Ctrl-C."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect

from ark_batch.emulator import EmulatorState
from ark_batch.storage import LocalObjectStore
from client.cli_support import ENV, input_file, run

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _spawn(*args: str, url: str) -> pexpect.spawn[str]:
    env = {**os.environ, **ENV, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30"}
    env.pop("NO_COLOR", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "ark_batch.cli", *args, "--endpoint", url],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(30, 120),
    )


def _create(url: str, objects: Path, tmp_path: Path, count: int) -> str:
    LocalObjectStore(objects).upload_file("my-bucket", "in/t.jsonl", input_file(tmp_path, count))
    created = run(
        "create", "--name", "tty", "--model", "m:1", "--input", "my-bucket/in/t.jsonl",
        "--output", "my-bucket/out/", "--endpoint", url,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    return str(created.stdout.strip())


def test_wait_draws_a_progress_bar_on_a_terminal(
    running_emulator: tuple[str, Path, EmulatorState], tmp_path: Path
) -> None:
    url, objects, _ = running_emulator
    job_id = _create(url, objects, tmp_path, 40)
    child = _spawn("wait", job_id, "--poll-interval", "0.05", url=url)
    child.expect(pexpect.EOF)
    screen = ANSI.sub("", child.before or "")
    child.close()
    assert child.exitstatus == 0, screen
    assert re.search(rf"{job_id} Completed\s+━+\s+40/40 failed \d+\s+0:00:\d\d ETA", screen)
    assert re.search(rf"{job_id} Completed: \d+ completed, \d+ failed of 40 in ", screen)
    assert "\x1b" in (child.before or "")  # drawn with terminal controls, not plain lines
    assert "Traceback" not in screen


def test_ctrl_c_stops_waiting_and_says_how_to_resume(emulator_url: str, tmp_path: Path) -> None:
    # No execution: the job stays Queued, so only Ctrl-C ends the wait.
    objects = tmp_path / "objects"
    job_id = _create(emulator_url, objects, tmp_path, 3)
    child = _spawn("wait", job_id, "--poll-interval", "0.05", url=emulator_url)
    child.expect(rf"{job_id} Queued")  # the bar is up, so the wait has begun
    child.sendintr()
    child.expect(rf"Stopped waiting; job {job_id} goes on \(last seen Queued\)\. ")
    child.expect(rf"Resume with: ark-batch wait {job_id}")
    child.expect(pexpect.EOF)
    rest = child.before or ""
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in rest
    assert "KeyboardInterrupt" not in rest
