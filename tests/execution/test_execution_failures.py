"""Whole-job failures: each ends Failed with a clear Status.Message and no output."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark_batch.emulator.execution import output_keys
from ark_batch.emulator.execution.validation import validate_input
from ark_batch.storage import LocalObjectStore, StorageError
from execution.execution_helpers import ExecEnv, chat_line, write_jsonl


def _run_to_end(env: ExecEnv, key: str, **create: Any) -> Any:
    job_id = env.create(key, **create)
    env.worker()
    return env.wait(job_id)


def _assert_failed(env: ExecEnv, job: Any, message: str) -> None:
    assert job.phase == "Failed"
    assert job.status_message == message
    assert job.phase_time == job.update_time
    assert list(env.objects.list_keys(job.output_bucket, f"{job.output_key}{job.id}/")) == []


def test_missing_input_fails(env: ExecEnv) -> None:
    job = _run_to_end(env, "in/nowhere.jsonl")
    _assert_failed(env, job, f"The input file tos://{env.bucket}/in/nowhere.jsonl does not exist.")


def test_missing_input_bucket_fails(env: ExecEnv) -> None:
    job = _run_to_end(env, "in/x.jsonl", input_bucket="no-such-bucket-here")
    _assert_failed(env, job, "The input file tos://no-such-bucket-here/in/x.jsonl does not exist.")


BROKEN_FILES: list[tuple[str, list[Any], str]] = [
    (
        "not-json",
        [chat_line("a"), "{not json", chat_line("c")],
        "Invalid input file: line 2 is not valid JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1)).",
    ),
    (
        "not-utf8",
        [chat_line("a"), b'{"custom_id": "\xff"}'],
        "Invalid input file: line 2 is not valid JSON ("
        "'utf-8' codec can't decode byte 0xff in position 15: invalid start byte).",
    ),
    ("array", [chat_line("a"), "[1, 2]"], "Invalid input file: line 2 is not a JSON object."),
    (
        "no-custom-id",
        [chat_line("a"), chat_line("b"), {"body": {"messages": []}}],
        "Invalid input file: line 3 has no custom_id.",
    ),
    (
        "numeric-custom-id",
        [{"custom_id": 17, "body": {}}],
        "Invalid input file: line 1: custom_id must be a non-empty string.",
    ),
    (
        "empty-custom-id",
        [{"custom_id": "", "body": {}}],
        "Invalid input file: line 1: custom_id must be a non-empty string.",
    ),
    (
        "duplicate",
        [chat_line("a"), chat_line("b"), chat_line("c"), chat_line("b")],
        'Invalid input file: line 4 repeats custom_id "b" of line 2.',
    ),
    (
        "surrogate-custom-id",
        [chat_line("a"), '{"custom_id": "\\udc00", "body": {}}'],
        "Invalid input file: line 2: custom_id is not valid UTF-8 text.",
    ),
    (
        "nan-is-not-json",
        [chat_line("a"), '{"custom_id": "b", "body": {"temperature": NaN}}'],
        "Invalid input file: line 2 is not valid JSON (NaN is not a JSON value).",
    ),
    (
        "nested-too-deeply",
        [chat_line("a"), '{"custom_id": "b", "body": ' + "[" * 100_000 + "]" * 100_000 + "}"],
        "Invalid input file: line 2 is nested too deeply.",
    ),
    ("empty", [], "Invalid input file: it contains no requests."),
    ("only-blank", ["", "  "], "Invalid input file: it contains no requests."),
]


@pytest.mark.parametrize(
    ("lines", "message"),
    [pytest.param(lines, message, id=name) for name, lines, message in BROKEN_FILES],
)
def test_malformed_input_fails_the_job(env: ExecEnv, lines: list[Any], message: str) -> None:
    write_jsonl(env.objects, env.bucket, "in/broken.jsonl", lines)
    job = _run_to_end(env, "in/broken.jsonl")
    _assert_failed(env, job, message)
    # Validation reads the whole file before any request runs: nothing was counted.
    assert (job.completed, job.failed) == (0, 0)


def test_duplicate_far_apart_across_validation_batches(local_env: ExecEnv) -> None:
    env = local_env
    lines = [chat_line(f"row-{i}") for i in range(25_000)]
    lines[23_999] = chat_line("row-4")
    write_jsonl(env.objects, env.bucket, "in/far.jsonl", lines)
    job = _run_to_end(env, "in/far.jsonl")
    _assert_failed(env, job, 'Invalid input file: line 24000 repeats custom_id "row-4" of line 5.')


@pytest.mark.parametrize("key", ["../escape.jsonl", "/abs/in.jsonl", "a\\b.jsonl"])
def test_unsafe_input_key_fails_without_reading(env: ExecEnv, key: str) -> None:
    job = _run_to_end(env, key)
    assert job.phase == "Failed"
    assert job.status_message.startswith(f"The input file location tos://{env.bucket}/{key}")
    assert "is invalid" in job.status_message


def test_unsafe_output_prefix_fails_without_writing(local_env: ExecEnv) -> None:
    env = local_env
    write_jsonl(env.objects, env.bucket, "in/ok.jsonl", [chat_line("a")])
    job = _run_to_end(env, "in/ok.jsonl", output_prefix="../../elsewhere/")
    assert job.phase == "Failed"
    assert job.status_message.startswith(
        f"The output location tos://{env.bucket}/../../elsewhere/ is invalid"
    )
    assert list(env.objects.list_keys(env.bucket)) == ["in/ok.jsonl"]


def test_broken_file_fails_only_its_own_job(env: ExecEnv) -> None:
    write_jsonl(env.objects, env.bucket, "in/bad.jsonl", [chat_line("x"), "oops"])
    write_jsonl(env.objects, env.bucket, "in/good.jsonl", [chat_line(f"g{i}") for i in range(500)])
    bad = env.create("in/bad.jsonl")
    good = env.create("in/good.jsonl")
    missing = env.create("in/missing.jsonl")
    env.worker(max_concurrent_jobs=2)
    assert env.wait(bad).phase == "Failed"
    assert env.wait(missing).phase == "Failed"
    good_job = env.wait(good)
    assert good_job.phase == "Completed"
    assert good_job.completed == 500
    results, errors = env.outputs(good_job)
    assert (len(results), errors) == (500, [])
    # The worker is still alive for later jobs.
    write_jsonl(env.objects, env.bucket, "in/later.jsonl", [chat_line("later")])
    later = env.wait(env.create("in/later.jsonl"))
    assert later.phase == "Completed"
    assert env.outputs(later)[0][0]["custom_id"] == "later"
    assert output_keys(later)[0].endswith(f"{later.id}/output/results.jsonl")


class _FlakyReads(LocalObjectStore):
    """A local store whose reads of one object break after `after` lines, `times` times."""

    def __init__(self, root: Path, *, after: int, times: int) -> None:
        super().__init__(root)
        self.after = after
        self.times = times
        self.opened = 0

    def iter_lines(self, bucket: str, key: str) -> Iterator[bytes]:
        lines = super().iter_lines(bucket, key)
        self.opened += 1
        if not key.startswith("in/") or self.times <= 0:
            return lines
        self.times -= 1
        return self._break(lines)

    def _break(self, lines: Iterator[bytes]) -> Iterator[bytes]:
        for number, line in enumerate(lines):
            if number == self.after:
                raise StorageError("connection reset by peer")
            yield line


def _flaky_env(tmp_path: Path, *, after: int, times: int) -> tuple[ExecEnv, _FlakyReads]:
    store = _FlakyReads(tmp_path / "objects", after=after, times=times)
    return ExecEnv(tmp_path / "emulator", store), store


def test_dropped_input_stream_is_reopened(tmp_path: Path) -> None:
    env, store = _flaky_env(tmp_path, after=1500, times=2)
    try:
        write_jsonl(store, env.bucket, "in/long.jsonl", [chat_line(f"f{i}") for i in range(3000)])
        job = _run_to_end(env, "in/long.jsonl")
        assert job.phase == "Completed", job.status_message
        assert (job.total, job.completed) == (3000, 3000)
        results, _ = env.outputs(job)
        assert [r["custom_id"] for r in results] == [f"f{i}" for i in range(3000)]
        assert store.opened >= 4  # validation and execution each reopened once
    finally:
        env.close()


def test_input_that_keeps_failing_fails_the_job(tmp_path: Path) -> None:
    env, store = _flaky_env(tmp_path, after=10, times=100)
    try:
        write_jsonl(store, env.bucket, "in/dead.jsonl", [chat_line(f"d{i}") for i in range(50)])
        job = _run_to_end(env, "in/dead.jsonl")
        assert job.phase == "Failed"
        assert job.status_message == "The input file could not be read: connection reset by peer."
    finally:
        env.close()


def _replace_input_after_validation(
    env: ExecEnv, monkeypatch: pytest.MonkeyPatch, key: str, lines: list[Any]
) -> None:
    """Overwrite the input between the validation pass and the execute pass."""

    def validate_then_replace(*args: Any, **kwargs: Any) -> Any:
        outcome = validate_input(*args, **kwargs)
        write_jsonl(env.objects, env.bucket, key, lines)
        return outcome

    monkeypatch.setattr("ark_batch.emulator.execution.runner.validate_input", validate_then_replace)


RESET = " No output was published; the request counts were reset to 0."


def test_a_symlink_loop_fails_the_job_as_an_invalid_location(
    local_env: ExecEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = local_env
    assert isinstance(env.objects, LocalObjectStore)
    bucket_dir = env.objects.root / env.bucket
    bucket_dir.mkdir(exist_ok=True)
    (bucket_dir / "loop1").symlink_to("loop2")
    (bucket_dir / "loop2").symlink_to("loop1")
    write_jsonl(env.objects, env.bucket, "in/ok.jsonl", [chat_line("a"), chat_line("b")])
    job = _run_to_end(env, "loop1")
    _assert_failed(
        env,
        job,
        f"The input file location tos://{env.bucket}/loop1 is invalid: "
        "object key 'loop1' leads into a symlink loop.",
    )
    job = _run_to_end(env, "in/ok.jsonl", output_prefix="loop1/")
    assert job.phase == "Failed"
    assert job.status_message == (
        f"The output could not be written to tos://{env.bucket}: object key "
        f"'loop1/{job.id}/output/results.jsonl' leads into a symlink loop.{RESET}"
    )
    assert str(env.objects.root) not in caplog.text


@pytest.mark.parametrize(
    ("replacement", "read"),
    # Grown: the first chunk already holds more lines than Total, and stops before any
    # is counted.
    [(3, f"3 were read.{RESET}"), (60, "more were read.")],
    ids=["shrunk", "grown"],
)
def test_input_changed_after_validation_fails_the_job(
    env: ExecEnv, monkeypatch: pytest.MonkeyPatch, replacement: int, read: str
) -> None:
    write_jsonl(env.objects, env.bucket, "in/moving.jsonl", [chat_line(f"m{i}") for i in range(50)])
    new_lines = [chat_line(f"n{i}") for i in range(replacement)]
    _replace_input_after_validation(env, monkeypatch, "in/moving.jsonl", new_lines)
    job = _run_to_end(env, "in/moving.jsonl")
    # Nothing was published, so the counts say nothing was done, and the message says so.
    _assert_failed(
        env,
        job,
        f"The input file changed while the job was running: 50 request lines were expected, {read}",
    )
    assert (job.total, job.completed, job.failed, job.total_tokens) == (50, 0, 0, 0)


def test_counts_never_pass_total_when_lines_are_appended(
    local_env: ExecEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = local_env
    lines = [chat_line(f"a{i}") for i in range(2000)]
    write_jsonl(env.objects, env.bucket, "in/appended.jsonl", lines)
    _replace_input_after_validation(env, monkeypatch, "in/appended.jsonl", [*lines, chat_line("x")])
    seen: list[tuple[int, int, int]] = []
    job_id = env.create("in/appended.jsonl")
    env.worker(chunk_lines=100)

    def record(job: Any) -> bool:
        seen.append((job.total, job.completed, job.failed))
        return job.phase in ("Completed", "Failed")

    job = env.wait_for(job_id, record)
    assert job.phase == "Failed"
    assert all(done + failed <= total for total, done, failed in seen if total), seen
    assert (job.completed, job.failed) == (0, 0)


def test_input_changed_while_the_emulator_was_down_fails_on_resume(local_env: ExecEnv) -> None:
    env = local_env
    lines = [chat_line(f"r{i}") for i in range(600)]
    write_jsonl(env.objects, env.bucket, "in/resumed.jsonl", lines)
    job_id = env.create("in/resumed.jsonl")
    slow = {"latency": 0.003, "line_concurrency": 4, "chunk_lines": 8}
    first = env.worker(**slow)
    env.wait_for(job_id, lambda j: j.completed >= 40)
    first.stop()
    assert env.job(job_id).phase == "Running"
    # Shorter than what was already done: the resumed pass skips every line of it.
    write_jsonl(env.objects, env.bucket, "in/resumed.jsonl", lines[:3])
    env.worker(**slow)
    job = env.wait(job_id)
    assert job.phase == "Failed"
    assert re.fullmatch(
        rf"The input file tos://{env.bucket}/in/resumed.jsonl changed after the job "
        r"started: it is not the file whose first \d+ requests were processed\. "
        r"No output was published; the request counts were reset to 0\.",
        job.status_message,
    ), job.status_message
    assert (job.completed, job.failed) == (0, 0)
