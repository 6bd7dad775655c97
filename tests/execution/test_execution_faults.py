"""The fault suite (`nox -s faults`): real faults against real emulator processes.

kill -9 at random points with two processes on one data dir, a read-only data dir (as
an unprivileged user), a full disk (a small tmpfs), a FIFO input with SIGTERM, and
malformed raw HTTP. Each asserts exactly-once output, no 5xx but the documented 503,
bounded logs, and recovery once the fault is gone. A fault this machine cannot produce
is skipped with the reason; `test_execution_storage_faults.py` injects the same errors
in-process everywhere.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark_batch.storage import LocalObjectStore
from execution.execution_helpers import (
    ApiClient,
    EmulatorProcess,
    count_custom_ids,
    lease_owner_pid,
    write_numbered_input,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow]

SLOW = ("--latency", "0.0005", "--line-concurrency", "16", "--chunk-lines", "500")
NOBODY = 65534
# A fault repeated for the whole window is logged a few times, not once per retry.
LOG_BOUND = 64 * 1024


def _done(job: dict[str, Any]) -> bool:
    return bool(job["Status"]["Phase"] != "Running" and job["Status"]["Phase"] != "Queued")


def _assert_exactly_once(data_dir: Path, job: dict[str, Any], lines: int) -> None:
    assert job["Status"]["Phase"] == "Completed", job["Status"]
    counts = job["RequestCounts"]
    assert (counts["Total"], counts["Completed"] + counts["Failed"]) == (lines, lines)
    out = data_dir / "objects" / "bkt" / "out" / job["Id"] / "output"
    ids: Counter[str] = Counter()
    assert count_custom_ids(out / "results.jsonl", ids) == counts["Completed"]
    if counts["Failed"]:
        assert count_custom_ids(out / "errors.jsonl", ids) == counts["Failed"]
    assert len(ids) == lines
    assert max(ids.values()) == 1


def _assert_quiet(*processes: EmulatorProcess) -> None:
    for process in processes:
        size = process.log_path.stat().st_size
        assert size < LOG_BOUND, f"{size} bytes of log: {process.log_path.read_text()[-2000:]}"


def _log_says(process: EmulatorProcess, text: str) -> bool:
    return text in process.log_path.read_text(errors="replace")


def _log_says_disk_full(process: EmulatorProcess) -> bool:
    return any(_log_says(process, text) for text in ("No space left", "database or disk is full"))


def test_kill9_at_random_points_with_two_processes(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    objects = LocalObjectStore(data_dir / "objects")
    lines = 20_000
    for name in ("a", "b", "c"):
        write_numbered_input(objects, "bkt", f"in/{name}.jsonl", lines)
    flags = (*SLOW, "--failure-rate", "0.05", "--max-concurrent-jobs", "2")
    processes = [EmulatorProcess(data_dir, *flags), EmulatorProcess(data_dir, *flags)]
    everything = list(processes)
    try:
        api = ApiClient(processes[0].url)
        jobs = [api.create("bkt", f"in/{name}.jsonl") for name in ("a", "b", "c")]
        api.close()
        for round_ in range(4):
            victim = rng.randrange(2)
            survivor = processes[1 - victim]
            api = ApiClient(survivor.url)
            # A random point: some number of lines done across the jobs.
            target = rng.randrange(500, lines) * (round_ + 1) // 2
            _wait_for_progress(api, jobs, target)
            api.close()
            processes[victim].kill()
            processes[victim] = EmulatorProcess(data_dir, *flags)
            everything.append(processes[victim])
        api = ApiClient(processes[0].url)
        finished = [api.wait(job_id, _done, timeout=240) for job_id in jobs]
        api.close()
    finally:
        for process in everything:
            process.stop()
    for job in finished:
        _assert_exactly_once(data_dir, job, lines)
    _assert_quiet(*everything)


def _wait_for_progress(api: ApiClient, jobs: list[str], target: int) -> None:
    """Until `target` lines succeeded across `jobs`, or every job ended."""

    def reached(_: object) -> bool:
        states = [api.get(job_id) for job_id in jobs]
        done = sum(state["RequestCounts"]["Completed"] for state in states)
        return done >= target or all(_done(state) for state in states)

    api.wait(jobs[0], reached, timeout=120)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary dir another user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="ark-batch-faults-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for dirpath, dirnames, _ in os.walk(path):
            for name in dirnames:
                (Path(dirpath) / name).chmod(0o755)
        shutil.rmtree(path, ignore_errors=True)


def _unprivileged_prefix(root: Path) -> tuple[str, ...]:
    """How to run the emulator so that file permissions apply to it, or skip."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions would not apply")
    for dirpath, _dirs, files in os.walk(root):
        os.chown(dirpath, NOBODY, NOBODY)
        for name in files:
            os.chown(Path(dirpath) / name, NOBODY, NOBODY)
    return (setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")


def _set_writable(root: Path, writable: bool) -> None:
    for dirpath, _dirs, files in os.walk(root):
        Path(dirpath).chmod(0o755 if writable else 0o555)
        for name in files:
            (Path(dirpath) / name).chmod(0o644 if writable else 0o444)


def test_read_only_data_dir_keeps_the_work_and_recovers(shared_tmp: Path) -> None:
    data_dir = shared_tmp / "data"
    lines = 20_000
    objects = LocalObjectStore(data_dir / "objects")
    write_numbered_input(objects, "bkt", "in/big.jsonl", lines)
    for index in range(5):
        write_numbered_input(objects, "bkt", f"in/late-{index}.jsonl", 200)
    for index in range(12):
        write_numbered_input(objects, "bkt", f"in/after-{index}.jsonl", 10)
    prefix = _unprivileged_prefix(shared_tmp)
    process = EmulatorProcess(data_dir, *SLOW, prefix=prefix)
    try:
        api = ApiClient(process.url)
        big = api.create("bkt", "in/big.jsonl")
        api.wait(big, lambda j: j["RequestCounts"]["Completed"] >= 1_000)
        # The window: nothing new can be created under the data dir.
        _set_writable(data_dir, writable=False)
        late: list[str] = []
        refused: list[str] = []
        try:
            # A request thread with the database open from before can still write; one
            # that opens it now cannot, and its Create is a 503 naming the storage.
            for key in [f"in/late-{index}.jsonl" for index in range(5)]:
                response = api.create_response("bkt", key)
                if response.status_code == 200:
                    late.append(response.json()["Result"]["Id"])
                    continue
                assert response.status_code == 503, response.text
                assert "storage failed" in response.text
                assert response.headers["Retry-After"]
                refused.append(key)
            api.wait(big, lambda _: _log_says(process, "waits for storage"), timeout=120)
            for job_id in [big, *late]:
                status = api.get(job_id)["Status"]
                assert status["Phase"] in ("Queued", "Running"), status
        finally:
            _set_writable(data_dir, writable=True)
            if prefix:
                _unprivileged_prefix(shared_tmp)
        late += [api.create("bkt", key) for key in refused]  # retried, as Retry-After says
        # More Creates than request threads: one that opened the database in the window
        # writes again too.
        after = [api.create("bkt", f"in/after-{index}.jsonl") for index in range(12)]
        finished = [api.wait(job_id, _done, timeout=180) for job_id in [big, *late]]
        for job_id in after:
            api.wait(job_id, _done, timeout=60)
        api.close()
    finally:
        process.stop()
    _assert_exactly_once(data_dir, finished[0], lines)
    for job in finished[1:]:
        _assert_exactly_once(data_dir, job, 200)
    assert _log_says(process, "Permission denied") or _log_says(process, "readonly")
    _assert_quiet(process)


@pytest.fixture
def small_tmpfs(shared_tmp: Path) -> Iterator[Path]:
    """A 6 MiB tmpfs (needs CAP_SYS_ADMIN); unmounted afterwards."""
    mount_point = shared_tmp / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.decode().strip()})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_gives_503_waits_and_recovers(small_tmpfs: Path) -> None:
    data_dir = small_tmpfs  # the log goes beside it, off the full disk
    lines = 20_000  # ~2 MB of input, ~9 MB of results: more than the disk holds
    write_numbered_input(LocalObjectStore(data_dir / "objects"), "bkt", "in/big.jsonl", lines)
    process = EmulatorProcess(data_dir, "--chunk-lines", "500")
    statuses: Counter[int] = Counter()
    try:
        api = ApiClient(process.url)
        job_id = api.create("bkt", "in/big.jsonl")
        # The results file or the database (SQLite's own words) is the first to find it full.
        api.wait(job_id, lambda _: _log_says_disk_full(process), timeout=120)
        for index in range(100):
            for response in (
                api.post("GetBatchInferenceJob", {"Id": job_id}),
                api.post("ListBatchInferenceJobs", {"PageSize": 5}),
                _create(api, f"in/more-{index}.jsonl"),
            ):
                statuses[response.status_code] += 1
                assert response.status_code < 500 or response.status_code == 503, response.text
                if response.status_code == 503:
                    assert response.headers["Retry-After"].isdigit()
                    error = response.json()["ResponseMetadata"]["Error"]
                    assert error["Code"] == "ServiceUnavailableTemp"
        assert api.get(job_id)["Status"]["Phase"] == "Running"
        # The fault goes away: the disk grows.
        subprocess.run(["mount", "-o", "remount,size=64m", str(small_tmpfs)], check=True)
        done = api.wait(job_id, _done, timeout=180)
        api.close()
    finally:
        process.stop()
    _assert_exactly_once(data_dir, done, lines)
    _assert_quiet(process)
    assert statuses[200] > 0, statuses


def _create(api: ApiClient, key: str) -> Any:
    return api.post(
        "CreateBatchInferenceJob",
        {
            "Name": "more",
            "ModelReference": {"FoundationModel": {"Name": "doubao-pro", "ModelVersion": "1"}},
            "InputFileTosLocation": {"BucketName": "bkt", "ObjectKey": key},
            "OutputDirTosLocation": {"BucketName": "bkt", "ObjectKey": "out/"},
        },
    )


def test_fifo_input_fails_and_sigterm_stops_promptly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    objects = LocalObjectStore(data_dir / "objects")
    write_numbered_input(objects, "bkt", "in/slow.jsonl", 50_000)
    fifo = data_dir / "objects" / "bkt" / "in" / "pipe.jsonl"
    os.mkfifo(fifo)
    process = EmulatorProcess(data_dir, "--latency", "0.01", "--line-concurrency", "2")
    try:
        api = ApiClient(process.url)
        piped = api.wait(api.create("bkt", "in/pipe.jsonl"), _done, timeout=30)
        assert piped["Status"]["Phase"] == "Failed"
        assert piped["Status"]["Message"] == (
            "The input file tos://bkt/in/pipe.jsonl is not a regular file."
        )
        slow = api.create("bkt", "in/slow.jsonl")
        api.wait(slow, lambda j: j["RequestCounts"]["Completed"] > 0)
        api.close()
        process.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert process.process.wait(timeout=15) in (0, -signal.SIGTERM, 128 + signal.SIGTERM)
        # The lifespan's shutdown ran: the worker stopped and released the job's lease,
        # leaving it Running and checkpointed for the next process.
        assert lease_owner_pid(data_dir, slow) is None
    finally:
        process.stop()


MALFORMED: list[bytes] = [
    b"\x00\x01\x02garbage\r\n\r\n",
    b"POST /?Action=GetBatchInferenceJob&Version=2024-01-01 HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 10\r\n\r\n{}",  # body shorter than declared, then closed
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"POST /?Action=%ff%fe&Version=%00 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    b"POST http://x/?Action=GetBatchInferenceJob&Version=2024-01-01 HTTP/1.1\r\n"
    b"Host: x\r\nContent-Length: 2\r\n\r\n{}",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    b"POST /?Action=CreateBatchInferenceJob&Version=2024-01-01 HTTP/1.1\r\nHost: x\r\n"
    b"Authorization: HMAC-SHA256 Credential=\xff\xfe\r\nContent-Length: 3\r\n\r\n\xed\xa0\x80",
]


def _raw_status(url: str, payload: bytes) -> int | None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            answer = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            return None
    if not answer.startswith(b"HTTP/"):
        return None
    return int(answer.split(b" ", 2)[1])


def test_malformed_raw_http_never_gets_a_5xx(tmp_path: Path) -> None:
    process = EmulatorProcess(tmp_path / "data")
    try:
        for payload in MALFORMED:
            status = _raw_status(process.url, payload)
            assert status is None or status < 500, (payload[:80], status)
        api = ApiClient(process.url)
        response = api.post("GetBatchInferenceJob", {"Id": "bi-20240101000000-xxxxx"})
        api.close()
        assert response.status_code == 404  # still serving, in the envelope
        assert response.json()["ResponseMetadata"]["Error"]["Code"]
    finally:
        process.stop()
    _assert_quiet(process)
