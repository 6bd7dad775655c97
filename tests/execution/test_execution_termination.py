"""CompletionWindow expiry, external stops, and resuming after a stop or crash."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from emulator_support import poll_until

from execution.execution_helpers import ExecEnv, chat_line, write_jsonl
from execution.execution_helpers import record_transitions as _record_transitions


def _exactly_once(results: list[dict[str, Any]], errors: list[dict[str, Any]]) -> Counter[str]:
    ids = Counter(r["custom_id"] for r in results) + Counter(e["custom_id"] for e in errors)
    assert set(ids.values()) <= {1}, [k for k, v in ids.items() if v > 1][:5]
    return ids


def _slow_job(env: ExecEnv, lines: int = 400, key: str = "in/slow.jsonl") -> str:
    write_jsonl(env.objects, env.bucket, key, [chat_line(f"k{i}") for i in range(lines)])
    return env.create(key)


SLOW = {"latency": 0.003, "line_concurrency": 4, "chunk_lines": 8}


def test_window_expiry_mid_run_terminates_and_keeps_done_lines(
    env: ExecEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    transitions = _record_transitions(monkeypatch)
    job_id = _slow_job(env)
    env.worker(failure_rate=0.2, **SLOW)
    env.wait_for(job_id, lambda j: j.completed + j.failed >= 40)
    env.clock.advance(timedelta(days=1, seconds=1))
    job = env.wait(job_id)

    phases = [(p, m) for j, p, m in transitions if j == job_id]
    assert [p for p, _ in phases] == ["Running", "Terminating", "Terminated"]
    assert phases[1][1] == "The CompletionWindow (1d) expired; stopping the job."
    done = job.completed + job.failed
    assert 40 <= done < 400
    assert job.total == 400
    assert job.status_message == (
        f"The CompletionWindow (1d) expired: {done} of 400 requests were processed "
        f"({job.completed} succeeded, {job.failed} failed); the other {400 - done} were cancelled."
    )
    results, errors = env.outputs(job)
    assert (len(results), len(errors)) == (job.completed, job.failed)
    assert len(_exactly_once(results, errors)) == done
    if errors:
        assert job.error_key is not None
    assert job.phase_time == job.update_time


def test_time_speed_shrinks_the_window(local_env: ExecEnv) -> None:
    env = local_env
    job_id = _slow_job(env, lines=2000)
    # 1d at 43200x lasts 2 real seconds from CreateTime (whole seconds, so up to 1 s
    # already gone); 2000 lines at 2 x 5 ms need ~5 s.
    env.worker(time_speed=43200, latency=0.005, line_concurrency=2, chunk_lines=8)
    job = env.wait(job_id)
    assert job.phase == "Terminated"
    assert 0 < job.completed < 2000
    results, _ = env.outputs(job)
    assert len(results) == job.completed


def test_expiry_while_queued(local_env: ExecEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    env = local_env
    transitions = _record_transitions(monkeypatch)
    job_id = _slow_job(env, lines=5)
    env.worker(time_speed=math.inf)
    job = env.wait(job_id)
    assert [p for j, p, _ in transitions if j == job_id] == ["Terminating", "Terminated"]
    assert transitions[0][2] == (
        "The CompletionWindow (1d) expired while the job was queued; stopping the job."
    )
    assert job.status_message == "The CompletionWindow (1d) expired before any request ran."
    assert (job.total, job.completed, job.failed) == (0, 0, 0)
    assert list(env.objects.list_keys(env.bucket, "out/")) == []


def test_expiry_while_queued_does_not_wait_for_a_job_slot(local_env: ExecEnv) -> None:
    env = local_env
    write_jsonl(env.objects, env.bucket, "in/busy.jsonl", [chat_line(f"b{i}") for i in range(1000)])
    busy = env.create("in/busy.jsonl", window="3d")
    # Slow enough to hold the only slot for minutes; checked after every line.
    env.worker(max_concurrent_jobs=1, latency=0.2, line_concurrency=1, chunk_lines=1)
    env.wait(busy, ("Running",))
    write_jsonl(env.objects, env.bucket, "in/queued.jsonl", [chat_line("q")])
    queued = env.create("in/queued.jsonl", window="1d")
    assert env.job(queued).phase == "Queued"
    env.clock.advance(timedelta(days=1, seconds=1))

    job = env.wait(queued, timeout=10)
    assert (job.phase, job.status_message) == (
        "Terminated",
        "The CompletionWindow (1d) expired before any request ran.",
    )
    assert env.job(busy).phase == "Running"
    env.jobs.transition(busy, "Terminating", "Stopping on request.", env.clock())
    assert env.wait(busy).phase == "Terminated"


def test_external_stop_terminates_with_partial_results(env: ExecEnv) -> None:
    job_id = _slow_job(env)
    env.worker(**SLOW)
    env.wait_for(job_id, lambda j: j.completed >= 24)
    # What StopBatchInferenceJob does to a running job.
    env.jobs.transition(job_id, "Terminating", "Stopping on request.", env.clock())
    job = env.wait(job_id)
    assert job.phase == "Terminated"
    assert job.status_message.startswith("The job was stopped: ")
    assert 24 <= job.completed < 400
    results, errors = env.outputs(job)
    assert errors == []
    assert len(_exactly_once(results, errors)) == job.completed


def test_stopped_while_queued_is_terminated(local_env: ExecEnv) -> None:
    env = local_env
    job_id = _slow_job(env, lines=5)
    env.jobs.transition(job_id, "Terminating", "Stopping on request.", env.clock())
    env.worker()
    job = env.wait(job_id)
    assert (job.phase, job.status_message) == (
        "Terminated",
        "The job was stopped before any request ran.",
    )


def test_worker_stop_leaves_job_running_and_next_worker_resumes(env: ExecEnv) -> None:
    job_id = _slow_job(env, lines=600)
    first = env.worker(failure_rate=0.1, **SLOW)
    env.wait_for(job_id, lambda j: j.completed >= 50)
    first.stop()
    paused = env.job(job_id)
    assert paused.phase == "Running"
    assert paused.completed < 600

    env.worker(failure_rate=0.1, **SLOW)
    job = env.wait(job_id)
    assert job.phase == "Completed"
    assert job.completed + job.failed == job.total == 600
    results, errors = env.outputs(job)
    assert len(_exactly_once(results, errors)) == 600
    # The spool goes right after the terminal transition.
    spool = env.data_dir / "execution" / "spool" / job_id
    poll_until(spool.exists, lambda exists: not exists, timeout=5)


def test_uncommitted_spool_lines_are_discarded_on_resume(local_env: ExecEnv) -> None:
    """A crash between spooling a chunk and committing it must not duplicate that chunk."""
    env = local_env
    job_id = _slow_job(env, lines=300)
    first = env.worker(**SLOW)
    env.wait_for(job_id, lambda j: j.completed >= 40)
    first.stop()
    spool = env.data_dir / "execution" / "spool" / job_id
    committed = env.job(job_id).completed
    # Lines that reached the spool file but not the progress commit, as after a SIGKILL.
    ghost = {"id": "x", "custom_id": "k0", "error": None, "response": {"ghost": True}}
    with (spool / "results.jsonl").open("ab") as handle:
        handle.write(json.dumps(ghost).encode() + b"\n")
    with (spool / "errors.jsonl").open("ab") as handle:
        handle.write(b'{"custom_id": "k1"}\n')

    env.worker(**SLOW)
    job = env.wait(job_id)
    assert job.phase == "Completed"
    assert committed <= 300
    results, errors = env.outputs(job)
    assert errors == []
    assert len(_exactly_once(results, errors)) == 300
    assert all("ghost" not in r["response"] for r in results)
