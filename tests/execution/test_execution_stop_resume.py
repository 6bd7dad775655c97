"""StopBatchInferenceJob and ResumeBatchInferenceJob against the execution worker."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ark_batch.emulator.config import dev_credential
from ark_batch.emulator.execution import output_keys
from ark_batch.emulator.execution.progress import Progress, ProgressStore
from ark_batch.emulator.store import Job, JobStore
from ark_batch.storage import LocalObjectStore
from execution.execution_helpers import ApiClient, EmulatorProcess, ExecEnv, chat_line, write_jsonl

LINES = 60_000
FAULTS = {"failure_rate": 0.05, "failure_seed": "stop-resume"}
# Slow enough that the job is surely mid-run when it is stopped.
SLOW = {"latency": 0.001, "line_concurrency": 16, "chunk_lines": 500, **FAULTS}


def _action(env: ExecEnv, action: str, job_id: str) -> dict[str, Any]:
    handler = env.api.handlers[action]
    result: dict[str, Any] = handler(dev_credential(), {"Id": job_id})
    return result


def _raw_outputs(env: ExecEnv, job_id: str) -> tuple[list[bytes], list[bytes]]:
    job = env.job(job_id)
    results_key, errors_key = output_keys(job)
    found = []
    for key in (results_key, errors_key):
        if env.objects.exists(job.output_bucket, key):
            found.append(list(env.objects.iter_lines(job.output_bucket, key)))
        else:
            found.append([])
    return found[0], found[1]


def _ids(lines: list[bytes]) -> Counter[str]:
    return Counter(json.loads(line)["custom_id"] for line in lines)


def test_stop_a_60000_line_job_then_resume_it_to_completion(local_env: ExecEnv) -> None:
    env = local_env
    write_jsonl(
        env.objects, env.bucket, "in/big.jsonl", [chat_line(f"line-{i}") for i in range(LINES)]
    )
    job_id = env.create("in/big.jsonl")
    first = env.worker(**SLOW)
    env.wait_for(job_id, lambda j: j.phase == "Running" and j.completed + j.failed >= 2_000)

    assert _action(env, "StopBatchInferenceJob", job_id) == {}
    assert env.job(job_id).phase in ("Terminating", "Terminated")
    stopped = env.wait(job_id)
    assert stopped.phase == "Terminated"
    done = stopped.completed + stopped.failed
    assert stopped.total == LINES
    assert 2_000 <= done < LINES
    assert stopped.status_message == (
        f"The job was stopped: {done} of {LINES} requests were processed "
        f"({stopped.completed} succeeded, {stopped.failed} failed); "
        f"the other {LINES - done} were cancelled."
    )
    results, errors = _raw_outputs(env, job_id)
    # Every finished line exactly once, in results or errors, and the counts describe them.
    assert (len(results), len(errors)) == (stopped.completed, stopped.failed)
    finished = _ids(results) + _ids(errors)
    assert len(finished) == done
    assert max(finished.values()) == 1
    first.stop()

    # Resumed on a new worker (as after a restart), at full speed.
    assert _action(env, "ResumeBatchInferenceJob", job_id) == {"Id": job_id}
    assert env.job(job_id).phase == "Queued"
    env.worker(**FAULTS)
    completed = env.wait(job_id)
    assert completed.phase == "Completed", completed.status_message
    assert completed.total == LINES
    assert completed.completed + completed.failed == LINES
    final_results, final_errors = _raw_outputs(env, job_id)
    assert (len(final_results), len(final_errors)) == (completed.completed, completed.failed)
    everything = _ids(final_results) + _ids(final_errors)
    assert len(everything) == LINES
    assert max(everything.values()) == 1
    # Only the unfinished lines ran again: the first run's lines are kept byte for byte
    # (each carries the request id of the run that produced it).
    assert set(results) <= set(final_results)
    assert set(errors) <= set(final_errors)


def test_stop_while_queued_then_resume_runs_everything(local_env: ExecEnv) -> None:
    env = local_env
    write_jsonl(env.objects, env.bucket, "in/small.jsonl", [chat_line(f"s{i}") for i in range(50)])
    job_id = env.create("in/small.jsonl")
    _action(env, "StopBatchInferenceJob", job_id)
    env.worker()
    stopped = env.wait(job_id)
    assert (stopped.phase, stopped.status_message) == (
        "Terminated",
        "The job was stopped before any request ran.",
    )
    _action(env, "ResumeBatchInferenceJob", job_id)
    job = env.wait(job_id)
    assert (job.phase, job.completed, job.total) == ("Completed", 50, 50)
    results, errors = _raw_outputs(env, job_id)
    assert len(_ids(results) + _ids(errors)) == 50


def test_resume_of_a_failed_job_runs_it_from_the_start(local_env: ExecEnv) -> None:
    env = local_env
    key = "in/fixable.jsonl"
    write_jsonl(env.objects, env.bucket, key, [chat_line("a"), "not json"])
    job_id = env.create(key)
    env.worker()
    assert env.wait(job_id).phase == "Failed"
    write_jsonl(env.objects, env.bucket, key, [chat_line("a"), chat_line("b")])
    _action(env, "ResumeBatchInferenceJob", job_id)
    job = env.wait(job_id)
    assert (job.phase, job.total, job.completed, job.failed) == ("Completed", 2, 2, 0)


def _stopped_mid_run(
    env: ExecEnv, key: str, lines: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> Job:
    """A job over ``lines`` stopped after its first 16 ran, its worker gone.

    The Stop is sent from the worker's own commit of those 16, so the job is stopped
    before its next chunk whatever the machine's speed.
    """
    write_jsonl(env.objects, env.bucket, key, lines)
    job_id = env.create(key)
    original = ProgressStore.save
    sent: list[bool] = []

    def save_then_stop(self: ProgressStore, progress: Progress, lease: Any) -> None:
        original(self, progress, lease)
        if progress.job_id == job_id and progress.completed >= 16 and not sent:
            sent.append(True)
            _action(env, "StopBatchInferenceJob", job_id)

    monkeypatch.setattr(ProgressStore, "save", save_then_stop)
    worker = env.worker(line_concurrency=2, chunk_lines=8)
    stopped = env.wait(job_id)
    worker.stop()
    monkeypatch.setattr(ProgressStore, "save", original)
    assert stopped.phase == "Terminated"
    assert stopped.completed == 16
    return stopped


def test_resume_fails_when_the_input_was_replaced_while_terminated(
    local_env: ExecEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = local_env
    key = "in/replaced.jsonl"
    lines = [chat_line(f"c{i}") for i in range(400)]
    stopped = _stopped_mid_run(env, key, lines, monkeypatch)
    published = _raw_outputs(env, stopped.id)
    # Same length and same first lines; the second half repeats the first half's ids.
    write_jsonl(env.objects, env.bucket, key, [chat_line(f"c{i % 200}") for i in range(400)])
    _action(env, "ResumeBatchInferenceJob", stopped.id)
    failed_with_progress = _progress_at_failure(env, monkeypatch, stopped.id)
    env.worker()
    job = env.wait(stopped.id)
    assert job.phase == "Failed"
    assert job.status_message == (
        f"The input file tos://{env.bucket}/{key} changed after the job started: it is not "
        f"the file whose first {stopped.completed} requests were processed. The output "
        "published before stays at the output location; the request counts were reset "
        "to 0, and a resume runs from the start."
    )
    assert _raw_outputs(env, stopped.id) == published  # not mixed with the new file's
    assert failed_with_progress == [False]


def _progress_at_failure(env: ExecEnv, monkeypatch: pytest.MonkeyPatch, job_id: str) -> list[bool]:
    """Whether the job still had progress each time it was moved to Failed.

    The worker's start-up cleanup keeps a Failed job's progress, so a process killed
    between the move and the cleanup of a failure that drops it must find none.
    """
    seen: list[bool] = []
    original = JobStore.transition

    def recording(self: JobStore, failing: str, phase: str, *args: Any) -> bool:
        if failing == job_id and phase == "Failed":
            store = ProgressStore(env.data_dir / "execution" / "progress.sqlite3")
            seen.append(store.load(job_id) is not None)
            store.close()
        return original(self, failing, phase, *args)

    monkeypatch.setattr(JobStore, "transition", recording)
    return seen


def test_a_resume_without_its_input_keeps_the_progress_for_the_next_one(
    local_env: ExecEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = local_env
    key = "in/moved.jsonl"
    lines = [chat_line(f"c{i}") for i in range(300)]
    stopped = _stopped_mid_run(env, key, lines, monkeypatch)
    results, _ = _raw_outputs(env, stopped.id)
    assert isinstance(env.objects, LocalObjectStore)
    source = env.objects.root / env.bucket / key
    parked = source.with_name("parked.jsonl")
    source.rename(parked)
    _action(env, "ResumeBatchInferenceJob", stopped.id)
    worker = env.worker()
    failed = env.wait(stopped.id)
    assert failed.phase == "Failed"
    assert failed.status_message == (
        f"The input file tos://{env.bucket}/{key} does not exist. The output of the "
        f"{stopped.completed} requests processed before was published; "
        "ResumeBatchInferenceJob continues after them once the input file is back."
    )
    assert (failed.total, failed.completed, failed.failed) == (300, stopped.completed, 0)
    assert _raw_outputs(env, stopped.id) == (results, [])
    worker.stop()

    parked.rename(source)
    _action(env, "ResumeBatchInferenceJob", stopped.id)
    env.worker()  # a new worker: its start-up cleanup keeps the progress too
    job = env.wait(stopped.id)
    assert (job.phase, job.completed, job.failed) == ("Completed", 300, 0)
    final_results, _ = _raw_outputs(env, stopped.id)
    assert set(results) <= set(final_results)  # the first run's lines, byte for byte
    assert len(_ids(final_results)) == len(final_results) == 300


def _stop_just_before(env: ExecEnv, monkeypatch: pytest.MonkeyPatch, phase: str) -> list[str]:
    """Make a Stop land right before the worker's move of a job to ``phase``."""
    stopped: list[str] = []
    original = JobStore.transition_from

    def racing(self: JobStore, job_id: str, *args: Any, **kwargs: Any) -> bool:
        if args[1] == phase and job_id not in stopped:
            stopped.append(job_id)
            _action(env, "StopBatchInferenceJob", job_id)
        return original(self, job_id, *args, **kwargs)

    monkeypatch.setattr(JobStore, "transition_from", racing)
    return stopped


def test_a_stop_racing_the_start_is_not_overwritten(
    local_env: ExecEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = local_env
    write_jsonl(env.objects, env.bucket, "in/r.jsonl", [chat_line(f"r{i}") for i in range(20)])
    job_id = env.create("in/r.jsonl")
    stopped = _stop_just_before(env, monkeypatch, "Running")
    env.worker()
    job = env.wait(job_id)
    assert stopped == [job_id]
    assert (job.phase, job.status_message) == (
        "Terminated",
        "The job was stopped before any request ran.",
    )


def test_a_stop_after_the_last_line_ends_terminated_with_every_line(
    local_env: ExecEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = local_env
    write_jsonl(env.objects, env.bucket, "in/r.jsonl", [chat_line(f"r{i}") for i in range(20)])
    job_id = env.create("in/r.jsonl")
    stopped = _stop_just_before(env, monkeypatch, "Completed")
    env.worker()
    job = env.wait(job_id)
    assert stopped == [job_id]
    assert job.phase == "Terminated"
    assert (job.completed, job.total) == (20, 20)
    assert job.status_message == (
        "The job was stopped: 20 of 20 requests were processed (20 succeeded, 0 failed); "
        "the other 0 were cancelled."
    )
    results, _ = _raw_outputs(env, job_id)
    assert len(_ids(results)) == 20


def _input(data_dir: Path, lines: int) -> None:
    objects = LocalObjectStore(data_dir / "objects")
    line = '{"custom_id": "line-%d", "body": {"messages": [{"role": "user", "content": "%d"}]}}\n'
    with objects.open_writer("bkt", "in/big.jsonl") as writer:
        writer.write("".join(line % (i, i) for i in range(lines)).encode())


@pytest.mark.slow
def test_resume_then_sigkill_still_finishes_exactly_once(tmp_path: Path) -> None:
    lines = 30_000
    data_dir = tmp_path / "data"
    _input(data_dir, lines)
    faults = ["--failure-rate", "0.05", "--failure-seed", "resume-crash"]
    slow = ["--latency", "0.001", "--line-concurrency", "16", "--chunk-lines", "250"]

    first = EmulatorProcess(data_dir, *slow, *faults)
    try:
        api = ApiClient(first.url)
        job_id = api.create("bkt", "in/big.jsonl")
        api.wait(job_id, lambda j: j["RequestCounts"]["Completed"] >= 1_000)
        assert api.call("StopBatchInferenceJob", {"Id": job_id}) == {}
        stopped = api.wait(job_id, lambda j: j["Status"]["Phase"] == "Terminated")
        assert api.call("ResumeBatchInferenceJob", {"Id": job_id}) == {"Id": job_id}
        stopped_done = stopped["RequestCounts"]["Completed"] + stopped["RequestCounts"]["Failed"]

        def past_the_stop(job: dict[str, Any]) -> bool:
            counts = job["RequestCounts"]
            return bool(counts["Completed"] + counts["Failed"] >= stopped_done + 1_000)

        running = api.wait(job_id, past_the_stop)
        assert running["Status"]["Phase"] == "Running"
        api.close()
        first.kill()
    finally:
        first.stop()

    second = EmulatorProcess(data_dir, *faults)
    try:
        api = ApiClient(second.url)
        done = api.wait(job_id, lambda j: j["Status"]["Phase"] != "Running", timeout=90)
        api.close()
    finally:
        second.stop()

    assert done["Status"]["Phase"] == "Completed", done["Status"]
    counts = done["RequestCounts"]
    assert counts["Completed"] + counts["Failed"] == counts["Total"] == lines
    out = data_dir / "objects" / "bkt" / "out" / job_id / "output"
    ids: Counter[str] = Counter()
    for name, expected in (("results.jsonl", "Completed"), ("errors.jsonl", "Failed")):
        raw = (out / name).read_bytes().splitlines()
        assert len(raw) == counts[expected]
        ids.update(json.loads(line)["custom_id"] for line in raw)
    assert len(ids) == lines
    assert max(ids.values()) == 1
