"""Jobs run to Completed on both storage backends: phases, counts, output files."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from ark_batch.emulator.execution import (
    ExecutionWorker,
    FaultyBackend,
    ModelError,
    ModelResponse,
    build_backend,
    output_keys,
)
from ark_batch.emulator.execution.lines import error_line, result_line
from ark_batch.emulator.execution.worker import RUNNING_MESSAGE
from execution.execution_helpers import ExecEnv, chat_line, write_jsonl
from execution.execution_helpers import record_transitions as _record_transitions


def test_job_runs_queued_running_completed(env: ExecEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    transitions = _record_transitions(monkeypatch)
    lines = [chat_line(f"req-{i}", f"say hello {i}") for i in range(250)]
    write_jsonl(env.objects, env.bucket, "in/batch.jsonl", lines)
    job_id = env.create("in/batch.jsonl")
    queued = env.job(job_id)
    assert (queued.phase, queued.total, queued.completed) == ("Queued", 0, 0)

    env.worker(chunk_lines=100)
    job = env.wait(job_id)

    assert [(p, m) for j, p, m in transitions if j == job_id] == [
        ("Running", RUNNING_MESSAGE),
        (
            "Completed",
            "The job completed: 250 of 250 requests processed (250 succeeded, 0 failed).",
        ),
    ]
    assert job.phase == "Completed"
    assert (job.total, job.completed, job.failed) == (250, 250, 0)
    assert job.phase_time == job.update_time
    assert job.phase_time >= queued.phase_time
    # Each request has 3 prompt words and echoes them back.
    assert (job.prompt_tokens, job.completion_tokens, job.total_tokens) == (750, 750, 1500)
    assert (job.error_bucket, job.error_key) == (None, None)

    results_key, errors_key = output_keys(job)
    assert results_key == f"out/{job_id}/output/results.jsonl"
    assert not env.objects.exists(env.bucket, errors_key)
    results, errors = env.outputs(job)
    assert errors == []
    assert [r["custom_id"] for r in results] == [f"req-{i}" for i in range(250)]
    first = results[0]
    assert list(first) == ["id", "custom_id", "error", "response"]
    assert first["error"] is None
    response = first["response"]
    assert response["status_code"] == 200
    assert response["request_id"] == first["id"]
    assert len(first["id"]) == 34
    body = response["body"]
    assert body["object"] == "chat.completion"
    assert body["model"] == "doubao-pro-240615"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "say hello 0"}
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
    assert len({r["id"] for r in results}) == 250


def test_failed_lines_go_to_errors_file_and_job_still_completes(env: ExecEnv) -> None:
    lines = [chat_line(f"id-{i}") for i in range(400)]
    write_jsonl(env.objects, env.bucket, "in/faulty.jsonl", lines)
    job_id = env.create("in/faulty.jsonl", output_prefix="results")
    worker = env.worker(failure_rate=0.25, failure_seed="s1")
    job = env.wait(job_id)

    assert job.phase == "Completed"
    results, errors = env.outputs(job)
    failing = {f"id-{i}" for i in range(400) if worker_fails(worker, f"id-{i}")}
    assert {e["custom_id"] for e in errors} == failing
    assert 60 < len(failing) < 140  # about a quarter
    assert (job.total, job.completed, job.failed) == (400, 400 - len(failing), len(failing))
    assert job.completed + job.failed == job.total
    # Every custom_id exactly once across both files.
    ids = Counter(r["custom_id"] for r in results) + Counter(e["custom_id"] for e in errors)
    assert set(ids.values()) == {1}
    assert len(ids) == 400
    # A prefix without a trailing slash still gets one; ErrorFileTosLocation points at the file.
    _, errors_key = output_keys(job)
    assert errors_key == f"results/{job_id}/output/errors.jsonl"
    assert (job.error_bucket, job.error_key) == (env.bucket, errors_key)
    error = errors[0]
    assert list(error) == ["id", "custom_id", "response", "error"]
    assert error["response"] is None
    assert error["error"]["code"] == "InternalServiceError"
    assert set(error["error"]) == {"code", "type", "message"}
    assert "injected failure" in error["error"]["message"]
    assert job.status_message == (
        f"The job completed: 400 of 400 requests processed "
        f"({job.completed} succeeded, {job.failed} failed)."
    )


def worker_fails(worker: ExecutionWorker, custom_id: str) -> bool:
    """The same predicate the worker's fault injection uses."""
    backend = build_backend(worker.config)
    assert isinstance(backend, FaultyBackend)
    return backend.fails(custom_id)


def test_bad_bodies_fail_their_lines_only(local_env: ExecEnv) -> None:
    env = local_env
    lines = [
        chat_line("ok-1"),
        {"custom_id": "no-body"},
        {"custom_id": "list-body", "body": [1, 2]},
        {"custom_id": "no-messages", "body": {"max_tokens": 5}},
        {"custom_id": "bad-message", "body": {"messages": [{"role": "user", "content": 7}]}},
        chat_line("truncated", "one two three four five", max_tokens=2),
    ]
    write_jsonl(env.objects, env.bucket, "in/bodies.jsonl", lines)
    job_id = env.create("in/bodies.jsonl")
    env.worker()
    job = env.wait(job_id)
    assert job.phase == "Completed"
    assert (job.total, job.completed, job.failed) == (6, 2, 4)
    results, errors = env.outputs(job)
    by_id = {e["custom_id"]: e["error"] for e in errors}
    assert set(by_id) == {"no-body", "list-body", "no-messages", "bad-message"}
    assert all(
        e["code"] == "InvalidParameter" and e["type"] == "BadRequest" for e in by_id.values()
    )
    assert by_id["no-messages"]["message"] == "body.messages must be a non-empty array"
    truncated = next(r for r in results if r["custom_id"] == "truncated")["response"]["body"]
    assert truncated["choices"][0]["message"]["content"] == "one two"
    assert truncated["choices"][0]["finish_reason"] == "length"
    assert truncated["usage"]["completion_tokens"] == 2


def test_blank_lines_are_skipped_and_not_counted(local_env: ExecEnv) -> None:
    env = local_env
    write_jsonl(
        env.objects, env.bucket, "in/blank.jsonl", [chat_line("a"), "", "   ", chat_line("b")]
    )
    job_id = env.create("in/blank.jsonl")
    env.worker()
    job = env.wait(job_id)
    assert (job.phase, job.total, job.completed) == ("Completed", 2, 2)


def test_bom_alone_on_the_first_line_is_a_blank_line(local_env: ExecEnv) -> None:
    env = local_env
    lines = [b"\xef\xbb\xbf", chat_line("a"), chat_line("b")]
    write_jsonl(env.objects, env.bucket, "in/bom.jsonl", lines)
    job_id = env.create("in/bom.jsonl")
    env.worker()
    job = env.wait(job_id)
    assert (job.phase, job.total, job.completed) == ("Completed", 2, 2), job.status_message
    results, _ = env.outputs(job)
    assert [r["custom_id"] for r in results] == ["a", "b"]


def test_lone_surrogate_in_a_body_is_echoed_as_valid_json(local_env: ExecEnv) -> None:
    env = local_env
    # "\ud800" is a valid JSON escape, but decodes to a str with no UTF-8 form.
    lone = '{"custom_id": "lone", "body": {"messages": [{"role": "user", "content": "\\ud800 x"}]}}'
    lines: list[Any] = [chat_line(f"c{i}") for i in range(11)]
    lines.insert(5, lone)
    write_jsonl(env.objects, env.bucket, "in/lone.jsonl", lines)
    job_id = env.create("in/lone.jsonl")
    env.worker()
    job = env.wait(job_id)
    assert (job.phase, job.total, job.completed, job.failed) == ("Completed", 12, 12, 0), (
        job.status_message
    )
    results, _ = env.outputs(job)
    echoed = next(r for r in results if r["custom_id"] == "lone")
    assert echoed["response"]["body"]["choices"][0]["message"]["content"] == "\ud800 x"


def test_output_lines_with_lone_surrogates_are_valid_json() -> None:
    response = ModelResponse({"text": "\ud800 x \u00e9"}, "rid")
    line = result_line("c", response)
    assert json.loads(line)["response"]["body"] == {"text": "\ud800 x \u00e9"}
    error = ModelError("InvalidParameter", "BadRequest", "bad \udfff")
    assert json.loads(error_line("c", "rid", error))["error"]["message"] == "bad \udfff"
    line.decode()  # strict UTF-8


def test_request_counts_grow_while_running(local_env: ExecEnv) -> None:
    env = local_env
    write_jsonl(env.objects, env.bucket, "in/slow.jsonl", [chat_line(f"s{i}") for i in range(300)])
    job_id = env.create("in/slow.jsonl")
    # ~0.4 s of work; counts reach the jobs table every 0.1 s at most.
    env.worker(latency=0.005, line_concurrency=4, chunk_lines=16)
    seen: set[int] = set()
    while (job := env.job(job_id)).phase not in ("Completed", "Failed"):
        if job.phase == "Running":
            seen.add(job.completed)
            if job.completed:
                assert job.total == 300  # validation has read the whole file first
        time.sleep(0.005)
    assert job.phase == "Completed"
    assert len([c for c in seen if 0 < c < 300]) >= 2, seen
    assert job.completed == 300


def test_max_concurrent_jobs_is_respected(local_env: ExecEnv) -> None:
    env = local_env
    ids = []
    for n in range(3):
        write_jsonl(
            env.objects, env.bucket, f"in/c{n}.jsonl", [chat_line(f"c{n}-{i}") for i in range(40)]
        )
        ids.append(env.create(f"in/c{n}.jsonl"))
        env.clock.advance(timedelta(seconds=1))  # distinct CreateTimes: a defined order
    # ~100 ms per job: long enough that sampling every 2 ms sees each one Running even
    # on a loaded machine (a job finished between two samples would be missed).
    env.worker(max_concurrent_jobs=1, latency=0.01, line_concurrency=4, chunk_lines=8)
    max_running = 0
    while not all(env.job(i).phase == "Completed" for i in ids):
        # One query: a consistent snapshot of every Running job.
        max_running = max(max_running, len(env.jobs.jobs_in_phase("Running")))
        time.sleep(0.002)
    assert max_running == 1
    # Oldest first: each job started after the previous one completed.
    jobs = [env.job(i) for i in ids]
    assert jobs[0].phase_time <= jobs[1].phase_time <= jobs[2].phase_time


def test_output_is_deterministic_across_runs(local_env: ExecEnv) -> None:
    env = local_env
    write_jsonl(env.objects, env.bucket, "in/det.jsonl", [chat_line(f"d{i}") for i in range(50)])
    first = env.create("in/det.jsonl", output_prefix="one/")
    env.worker(failure_rate=0.3)
    job1 = env.wait(first)
    second = env.create("in/det.jsonl", output_prefix="two/")
    job2 = env.wait(second)
    r1, e1 = env.outputs(job1)
    r2, e2 = env.outputs(job2)
    assert [e["custom_id"] for e in e1] == [e["custom_id"] for e in e2]
    # Bodies differ only in the job-derived ids and timestamps.
    assert [r["response"]["body"]["choices"] for r in r1] == [
        r["response"]["body"]["choices"] for r in r2
    ]
