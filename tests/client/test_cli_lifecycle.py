"""``ark-batch stop/resume/update/delete`` and ``--cancel-on-interrupt``, through typer's
runner against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_support import put_in_phase

from ark_batch.emulator import EmulatorState
from ark_batch.facade import ArkBatch
from client.cli_support import run
from client.client_support import DEV

MODEL = "doubao-pro-32k:240615"


def _create(url: str, key: str = "in/a.jsonl") -> str:
    with ArkBatch(url, credentials=DEV) as ark:
        return ark.create_job(
            name="cli", model=MODEL, input=f"tos://bkt/{key}", output="tos://bkt/out/"
        ).id


def _phase(url: str, job_id: str) -> str:
    with ArkBatch(url, credentials=DEV) as ark:
        phase: str = ark.get_job(job_id).status.phase
        return phase


def test_stop_update_resume_delete(emulator_url: str, emulator: tuple[Any, EmulatorState]) -> None:
    job_id = _create(emulator_url)
    at = ["--endpoint", emulator_url]

    updated = run("update", job_id, "--name", "renamed", "--description", "", *at)
    assert (updated.exit_code, updated.stdout.strip()) == (0, f"Updated job {job_id}.")
    got = json.loads(run("get", job_id, "--json", *at).stdout)
    assert (got["Name"], got["Description"]) == ("renamed", "")

    dry = run("stop", job_id, "--dry-run", *at)
    assert dry.exit_code == 0
    assert "Dry run passed" in dry.stdout
    assert _phase(emulator_url, job_id) == "Queued"
    stopped = run("stop", job_id, "--json", *at)
    assert (stopped.exit_code, json.loads(stopped.stdout)) == (0, {"Id": job_id})
    assert _phase(emulator_url, job_id) == "Terminating"

    put_in_phase(emulator[1], job_id, "Terminated")
    resumed = run("resume", job_id, *at)
    assert (resumed.exit_code, resumed.stdout.strip()) == (0, f"Resumed job {job_id}.")
    assert _phase(emulator_url, job_id) == "Queued"

    put_in_phase(emulator[1], job_id, "Completed")
    deleted = run("delete", job_id, "--yes", *at)
    assert (deleted.exit_code, deleted.stdout.strip()) == (0, f"Deleted job {job_id}.")
    missing = run("get", job_id, *at)
    assert missing.exit_code == 1
    assert "InvalidBatchInferenceJob.NotFound" in missing.stderr


def test_delete_asks_first(emulator_url: str, emulator: tuple[Any, EmulatorState]) -> None:
    job_id = _create(emulator_url)
    put_in_phase(emulator[1], job_id, "Failed")
    at = ["--endpoint", emulator_url]

    declined = run("delete", job_id, *at, stdin="n\n")
    assert declined.exit_code == 1
    assert f"Delete job {job_id}?" in declined.stderr
    assert f"Not deleted: job {job_id}." in declined.stderr
    no_answer = run("delete", job_id, *at, stdin="")
    assert no_answer.exit_code == 1
    assert _phase(emulator_url, job_id) == "Failed"

    accepted = run("delete", job_id, *at, stdin="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert run("get", job_id, *at).exit_code == 1


def test_the_delete_prompt_leaves_stdout_to_the_json(
    emulator_url: str, emulator: tuple[Any, EmulatorState]
) -> None:
    job_id = _create(emulator_url)
    put_in_phase(emulator[1], job_id, "Failed")
    at = ["--endpoint", emulator_url, "--json"]
    declined = run("delete", job_id, *at, stdin="n\n")
    assert (declined.exit_code, declined.stdout) == (1, "")
    accepted = run("delete", job_id, *at, stdin="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout.startswith("{")
    assert json.loads(accepted.stdout) == {"Id": job_id}


def test_errors_are_one_line_and_non_zero(
    emulator_url: str, emulator: tuple[Any, EmulatorState]
) -> None:
    job_id = _create(emulator_url)
    at = ["--endpoint", emulator_url]
    active = run("delete", job_id, "--yes", *at)
    assert active.exit_code == 1
    assert active.stderr.startswith("Error: OperationDenied.InvalidJobPhase: ")
    assert len(active.stderr.strip().splitlines()) == 1
    put_in_phase(emulator[1], job_id, "Completed")
    ended = run("stop", job_id, *at)
    assert ended.exit_code == 1
    assert "Completed" in ended.stderr
    nothing = run("update", job_id, *at)
    assert nothing.exit_code == 2
    assert nothing.stderr.startswith("Error: give --name, --description, or both")
    unknown = run("resume", "bi-20240101000000-nope0", *at)
    assert unknown.exit_code == 1
    assert "InvalidBatchInferenceJob.NotFound" in unknown.stderr


@pytest.fixture
def interrupted_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C arrives while the CLI waits for a job."""

    def wait(self: ArkBatch, *args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(ArkBatch, "wait", wait)


@pytest.mark.usefixtures("interrupted_wait")
def test_wait_cancel_on_interrupt_stops_after_asking(emulator_url: str) -> None:
    stopped = _create(emulator_url)
    result = run("wait", stopped, "--cancel-on-interrupt", "--endpoint", emulator_url, stdin="y\n")
    assert result.exit_code == 130, result.stderr
    assert f"Stop job {stopped}?" in result.stderr
    assert _phase(emulator_url, stopped) == "Terminating"

    kept = _create(emulator_url, "in/b.jsonl")
    declined = run("wait", kept, "--cancel-on-interrupt", "--endpoint", emulator_url, stdin="n\n")
    assert declined.exit_code == 130
    assert f"Job {kept} keeps running." in declined.stderr
    plain = run("wait", kept, "--endpoint", emulator_url, stdin="y\n")
    assert plain.exit_code == 130
    assert "Stop job" not in plain.stderr
    assert _phase(emulator_url, kept) == "Queued"


@pytest.mark.usefixtures("interrupted_wait")
def test_a_job_stopped_at_the_prompt_is_not_said_to_go_on(emulator_url: str) -> None:
    job_id = _create(emulator_url)
    result = run("wait", job_id, "--cancel-on-interrupt", "--endpoint", emulator_url, stdin="y\n")
    assert result.exit_code == 130, result.stderr
    assert f"Stopping job {job_id}." in result.stderr
    assert "goes on" not in result.stderr
    assert result.stderr.rstrip().endswith(
        f"Stopped waiting. Follow it with: ark-batch wait {job_id}"
    )


@pytest.mark.usefixtures("interrupted_wait")
def test_submit_cancel_on_interrupt_stops_the_new_job(emulator_url: str, tmp_path: Path) -> None:
    source = tmp_path / "questions.jsonl"
    source.write_text('{"custom_id": "a", "body": {"messages": []}}\n')
    (tmp_path / "objects").mkdir()
    result = run(
        "submit",
        str(source),
        "--bucket",
        "bkt",
        "--model",
        MODEL,
        "--store-dir",
        str(tmp_path / "objects"),
        "--cancel-on-interrupt",
        "--endpoint",
        emulator_url,
        stdin="y\n",
    )
    assert result.exit_code == 130, result.output
    job_id = next(
        line.split()[-1] for line in result.stderr.splitlines() if line.startswith("Created job")
    )
    assert _phase(emulator_url, job_id) == "Terminating"
