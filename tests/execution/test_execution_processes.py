"""Several emulator processes on one data dir: one owner per job, exactly-once output.

The owner of a job (the holder of its lease) is killed or frozen mid-job; another
process takes the job over and finishes it, and every custom_id is published once.
"""

from __future__ import annotations

from collections import Counter
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

LINES = 100_000
# Slow enough that the owner is surely mid-job when it is killed; short leases so that a
# frozen owner is taken over quickly.
FLAGS = ("--latency", "0.001", "--line-concurrency", "16", "--chunk-lines", "500")
FAULTS = ("--failure-rate", "0.05", "--failure-seed", "procs")


def _start(data_dir: Path, count: int, *extra: str) -> list[EmulatorProcess]:
    processes: list[EmulatorProcess] = []
    try:
        for _ in range(count):
            processes.append(EmulatorProcess(data_dir, *FLAGS, *FAULTS, *extra))
    except BaseException:
        for process in processes:
            process.stop()
        raise
    return processes


def _owner(
    processes: list[EmulatorProcess], data_dir: Path, job_id: str, api: ApiClient
) -> tuple[int, int]:
    """``(index of the lease holder, lines succeeded)`` once the job is well under way."""
    job = api.wait(job_id, lambda j: j["RequestCounts"]["Completed"] >= 2_000, timeout=120)
    pid = lease_owner_pid(data_dir, job_id)
    pids = [p.process.pid for p in processes]
    assert pid in pids, (pid, pids)
    return pids.index(pid), job["RequestCounts"]["Completed"]


def _assert_exactly_once(data_dir: Path, job: dict[str, Any]) -> None:
    assert job["Status"]["Phase"] == "Completed", job["Status"]
    counts = job["RequestCounts"]
    assert counts["Total"] == LINES
    assert counts["Completed"] + counts["Failed"] == LINES
    out = data_dir / "objects" / "bkt" / "out" / job["Id"] / "output"
    ids: Counter[str] = Counter()
    assert count_custom_ids(out / "results.jsonl", ids) == counts["Completed"]
    assert count_custom_ids(out / "errors.jsonl", ids) == counts["Failed"]
    assert len(ids) == LINES
    assert max(ids.values()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 4])
def test_owner_killed_mid_job_another_process_finishes_exactly_once(
    tmp_path: Path, count: int
) -> None:
    data_dir = tmp_path / "data"
    write_numbered_input(LocalObjectStore(data_dir / "objects"), "bkt", "in/big.jsonl", LINES)
    processes = _start(data_dir, count)
    try:
        api = ApiClient(processes[0].url)
        job_id = api.create("bkt", "in/big.jsonl")
        owner, before = _owner(processes, data_dir, job_id, api)
        api.close()
        processes[owner].kill()
        survivor = processes[(owner + 1) % count]
        api = ApiClient(survivor.url)
        seen: list[int] = []

        def finished(job: dict[str, Any]) -> bool:
            seen.append(job["RequestCounts"]["Completed"])
            return bool(job["Status"]["Phase"] != "Running")

        done = api.wait(job_id, finished, timeout=180)
        api.close()
    finally:
        for process in processes:
            process.stop()
    _assert_exactly_once(data_dir, done)
    # Resumed from the last durable step, not restarted from the top.
    assert min(seen) >= before


@pytest.mark.slow
def test_frozen_owner_is_taken_over_and_cannot_write_when_it_wakes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    write_numbered_input(LocalObjectStore(data_dir / "objects"), "bkt", "in/big.jsonl", LINES)
    processes = _start(data_dir, 2, "--lease-seconds", "1")
    try:
        api = ApiClient(processes[0].url)
        job_id = api.create("bkt", "in/big.jsonl")
        owner, _ = _owner(processes, data_dir, job_id, api)
        api.close()
        frozen, other = processes[owner], processes[1 - owner]
        frozen.freeze()
        try:
            api = ApiClient(other.url)
            # The other process takes over once the frozen one's lease has expired...
            api.wait(
                job_id,
                lambda _: lease_owner_pid(data_dir, job_id) == other.process.pid,
                timeout=60,
            )
        finally:
            # ...and the frozen one wakes up while the job is still running.
            frozen.thaw()
        done = api.wait(job_id, lambda j: j["Status"]["Phase"] != "Running", timeout=180)
        api.close()
    finally:
        for process in processes:
            process.stop()
    _assert_exactly_once(data_dir, done)
