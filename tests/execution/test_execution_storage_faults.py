"""Storage that fails for a while: jobs keep their work and resume, requests get a 503.

Faults are injected here (an errno raised where the disk would raise it), so they run
anywhere; `test_execution_faults.py` makes them real (tmpfs, permissions, processes).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from emulator_support import poll_until

from ark_batch.emulator import EmulatorConfig, create_app
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.emulator.execution.progress import JobSpool
from ark_batch.emulator.log_limit import RateLimitedLog
from ark_batch.emulator.storage_faults import (
    describe_error,
    describe_storage_error,
    storage_cause,
)
from ark_batch.storage import (
    InvalidObjectKeyError,
    LocalObjectStore,
    NotARegularFileError,
    ObjectNotFoundError,
    StorageError,
)
from execution.execution_helpers import ApiClient, ExecEnv, chat_line, write_jsonl

HOST_PATH = "/srv/secret-host-path/objects/bkt/x"


class _FailingUploads(LocalObjectStore):
    """Uploads raise `error` while `failing` is set, like a read-only or full output dir."""

    def __init__(self, root: Path, error: Exception) -> None:
        super().__init__(root)
        self.error = error
        self.failing = threading.Event()
        self.failing.set()
        self.attempts = 0
        self.attempted = threading.Condition()

    def upload_file(self, bucket: str, key: str, path: Path) -> None:
        if self.failing.is_set():
            with self.attempted:
                self.attempts += 1
                self.attempted.notify_all()
            raise self.error
        super().upload_file(bucket, key, path)

    def wait_attempts(self, count: int) -> None:
        with self.attempted:
            assert self.attempted.wait_for(lambda: self.attempts >= count, timeout=30)


def _exactly_once(env: ExecEnv, job: Any, lines: int) -> None:
    results, errors = env.outputs(job)
    ids = Counter(line["custom_id"] for line in results + errors)
    assert len(ids) == lines
    assert max(ids.values()) == 1
    assert (job.completed + job.failed, len(results), len(errors)) == (
        lines,
        job.completed,
        job.failed,
    )


def test_publish_denied_keeps_the_work_and_completes_once_writable(tmp_path: Path) -> None:
    store = _FailingUploads(
        tmp_path / "objects", PermissionError(errno.EACCES, "Permission denied", HOST_PATH)
    )
    env = ExecEnv(tmp_path / "emulator", store)
    try:
        write_jsonl(store, env.bucket, "in/ro.jsonl", [chat_line(f"r{i}") for i in range(500)])
        job_id = env.create("in/ro.jsonl")
        env.worker(chunk_lines=100)
        store.wait_attempts(2)  # failed, backed off, failed again: still not given up
        job = env.job(job_id)
        assert job.phase == "Running", job.status_message
        assert HOST_PATH not in job.status_message
        spool = tmp_path / "emulator" / "execution" / "spool" / job_id
        assert any(spool.rglob("results.jsonl")), "the finished work was thrown away"
        store.failing.clear()
        job = env.wait(job_id)
        assert job.phase == "Completed", job.status_message
        _exactly_once(env, job, 500)
        # The worker removes the spool just after the job turns Completed.
        poll_until(spool.exists, lambda exists: not exists)
    finally:
        env.close()


def test_full_spool_waits_logs_once_and_resumes(
    local_env: ExecEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    env = local_env
    write_jsonl(env.objects, env.bucket, "in/full.jsonl", [chat_line(f"f{i}") for i in range(800)])
    full = threading.Event()
    attempts = threading.Semaphore(0)
    append = JobSpool.append

    def append_unless_full(self: JobSpool, results: bytes, errors: bytes) -> tuple[int, int]:
        if full.is_set():
            attempts.release()
            raise OSError(errno.ENOSPC, "No space left on device", HOST_PATH)
        return append(self, results, errors)

    monkeypatch.setattr(JobSpool, "append", append_unless_full)
    caplog.set_level(logging.WARNING, "ark_batch.emulator.execution")
    job_id = env.create("in/full.jsonl")
    full.set()
    env.worker(chunk_lines=100)
    for _ in range(3):
        assert attempts.acquire(timeout=30)
    assert env.job(job_id).phase == "Running"
    full.clear()
    job = env.wait(job_id)
    assert job.phase == "Completed", job.status_message
    _exactly_once(env, job, 800)
    waits = [r.getMessage() for r in caplog.records if "waits for storage" in r.getMessage()]
    # Three failures within the rate-limit interval: one line, naming the cause only.
    assert len(waits) == 1, waits
    assert "No space left on device" in waits[0]
    assert all(HOST_PATH not in r.getMessage() for r in caplog.records)


def _wrapped_os_error() -> RuntimeError:
    """An error whose text carries an OSError's, host path included, raised from it."""
    try:
        raise OSError(errno.ENAMETOOLONG, "File name too long", HOST_PATH)
    except OSError as exc:
        try:
            raise RuntimeError(f"spooling the output failed: {exc}") from exc
        except RuntimeError as wrapped:
            return wrapped


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (OSError(errno.ENAMETOOLONG, "File name too long", HOST_PATH), "File name too long"),
        (
            _wrapped_os_error(),
            "spooling the output failed: "
            f"[Errno {errno.ENAMETOOLONG}] File name too long: '<path>'",
        ),
    ],
    ids=["os-error", "wrapping-an-os-error"],
)
def test_a_permanent_error_fails_the_job_without_host_paths(
    tmp_path: Path, error: Exception, cause: str
) -> None:
    store = _FailingUploads(tmp_path / "objects", error)
    env = ExecEnv(tmp_path / "emulator", store)
    try:
        write_jsonl(store, env.bucket, "in/long.jsonl", [chat_line("a")])
        job_id = env.create("in/long.jsonl")
        env.worker()
        job = env.wait(job_id)
        assert job.phase == "Failed"
        assert job.status_message == (
            f"The job failed: internal error in the emulator ({cause}). "
            "No output was published; the request counts were reset to 0."
        )
        assert (job.completed, job.failed) == (0, 0)
    finally:
        env.close()


def _raised_from_none() -> ValueError:
    """An error whose text carries an OSError's, with the OSError itself dropped."""
    try:
        raise ValueError(f"cannot stat: {FileNotFoundError(2, 'No such file', HOST_PATH)}")
    except ValueError as bare:
        return bare


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(errno.ENAMETOOLONG, "File name too long", HOST_PATH), "File name too long"),
        (
            OSError(errno.EXDEV, "Invalid cross-device link", HOST_PATH, None, HOST_PATH + "2"),
            "Invalid cross-device link",
        ),
        (OSError(errno.EIO, "Input/output error", HOST_PATH.encode()), "Input/output error"),
        (OSError(f"no errno, {HOST_PATH}"), "OSError"),
        (
            _wrapped_os_error(),
            "spooling the output failed: "
            f"[Errno {errno.ENAMETOOLONG}] File name too long: '<path>'",
        ),
        (_raised_from_none(), "cannot stat: [Errno 2] No such file: '<path>'"),
        (KeyError("Phase"), "'Phase'"),
    ],
)
def test_describe_error_never_names_a_host_path(error: BaseException, expected: str) -> None:
    text = describe_error(error)
    assert text == expected
    assert "secret-host-path" not in text


def test_fifo_input_fails_as_not_a_regular_file(local_env: ExecEnv) -> None:
    env = local_env
    assert isinstance(env.objects, LocalObjectStore)
    fifo = env.objects.root / env.bucket / "in" / "pipe.jsonl"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    job_id = env.create("in/pipe.jsonl")
    env.worker()
    try:
        job = env.wait(job_id)
    finally:
        # A reader blocked on the FIFO (the defect) gets end-of-file, so that a failure
        # here ends the test instead of hanging the worker's shutdown.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert (job.phase, job.status_message) == (
        "Failed",
        f"The input file tos://{env.bucket}/in/pipe.jsonl is not a regular file.",
    )
    with pytest.raises(NotARegularFileError):
        env.objects.download_file(env.bucket, "in/pipe.jsonl", env.data_dir / "copy")


def test_storage_failure_in_a_request_is_a_503_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(EmulatorConfig(data_dir=tmp_path / "emulator"))
    state = app.state.emulator

    def disk_full(*_: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    for action in list(state.backend.handlers):
        state.backend.handlers[action] = disk_full
    caplog.set_level(logging.WARNING, "ark_batch.emulator")
    try:
        with EmbeddedEmulator(app=app) as server:
            api = ApiClient(server.url)
            responses = [
                api.http.post(
                    "/?Action=GetBatchInferenceJob&Version=2024-01-01", json={"Id": "bi-x"}
                )
                for _ in range(20)
            ]
            api.close()
    finally:
        state.close()
    for response in responses:
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        error = response.json()["ResponseMetadata"]["Error"]
        assert error["Code"] == "ServiceUnavailableTemp"
        assert "database or disk is full" in error["Message"]
    lines = [r for r in caplog.records if r.name == "ark_batch.emulator"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert not lines[0].exc_info  # a known condition: no traceback


def _sql_error(sql: str) -> sqlite3.OperationalError:
    with pytest.raises(sqlite3.OperationalError) as info:
        sqlite3.connect(":memory:").execute(sql)
    return info.value


def test_storage_cause_tells_passing_from_permanent_errors() -> None:
    denied = PermissionError(errno.EACCES, "Permission denied", HOST_PATH)
    assert storage_cause(denied) is denied
    wrapped = StorageError("upload failed")
    wrapped.__cause__ = OSError(errno.ENOSPC, "No space left on device", HOST_PATH)
    assert storage_cause(wrapped) is wrapped.__cause__
    assert describe_storage_error(wrapped.__cause__) == "No space left on device"
    assert storage_cause(sqlite3.OperationalError("attempt to write a readonly database"))
    assert storage_cause(StorageError("connection reset")) is not None
    for permanent in (
        ObjectNotFoundError("b", "k"),
        InvalidObjectKeyError("bad key"),
        NotARegularFileError("b", "k"),
        OSError(errno.ENAMETOOLONG, "File name too long", HOST_PATH),
        ValueError("not storage"),
        _sql_error("SELECT * FROM"),  # the emulator's own SQL: not the storage's fault
    ):
        assert storage_cause(permanent) is None, permanent
    assert HOST_PATH not in describe_storage_error(denied)


def test_rate_limited_log_counts_what_it_left_out(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = RateLimitedLog(logging.getLogger("ark_batch.test"), interval=10, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, "ark_batch.test")
    assert log.warning("disk full")
    for _ in range(5):
        assert not log.warning("disk full")
    assert log.warning("another fault")
    now[0] = 10.0
    assert log.warning("disk full")
    assert [r.getMessage() for r in caplog.records] == [
        "disk full",
        "another fault",
        "disk full (5 more like this in the last 10 s)",
    ]


def test_a_corrupt_progress_database_stops_dispatch_with_one_line(
    local_env: ExecEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = local_env
    progress = env.data_dir / "execution" / "progress.sqlite3"
    progress.parent.mkdir(parents=True)
    progress.write_bytes(b"not a database, not at all" * 400)
    write_jsonl(env.objects, env.bucket, "in/q.jsonl", [chat_line("q")])
    job_id = env.create("in/q.jsonl")
    caplog.set_level(logging.WARNING, "ark_batch.emulator.execution")
    worker = env.worker()
    assert worker._thread is not None
    worker._thread.join(timeout=30)  # it gives up rather than retrying for ever
    assert not worker._thread.is_alive()
    [record] = [r for r in caplog.records if r.name == "ark_batch.emulator.execution"]
    assert record.getMessage() == (
        "job execution is off: execution/progress.sqlite3 in the data dir cannot be used "
        "(file is not a database); jobs stay Queued. Move it aside and restart the emulator."
    )
    assert record.exc_info is None
    assert env.job(job_id).phase == "Queued"
