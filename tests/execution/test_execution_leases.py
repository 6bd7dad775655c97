"""Job leases: one owner at a time, takeover after expiry, commits fenced by the lease."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ark_batch.emulator.execution.leases import (
    LeaseLostError,
    claim,
    holder,
    pid_space,
    release,
    renew,
)
from ark_batch.emulator.execution.progress import Progress, ProgressStore, connect


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return connect(tmp_path / "progress.sqlite3")


def test_one_owner_at_a_time_and_takeover_after_expiry(conn: sqlite3.Connection) -> None:
    clock = _Clock()
    first = claim(conn, "job", "a", 10, clock)
    assert first is not None
    assert first.epoch == 1
    assert claim(conn, "job", "b", 10, clock) is None
    assert claim(conn, "job", "a", 10, clock) == first  # ours already: same epoch
    clock.now += 9
    renew(conn, first, 10, clock)
    clock.now += 9
    assert claim(conn, "job", "b", 10, clock) is None  # renewed: still a's
    assert holder(conn, "job", clock) == "a"
    clock.now += 2
    second = claim(conn, "job", "b", 10, clock)
    assert second is not None
    assert second.epoch == 2
    with pytest.raises(LeaseLostError):
        renew(conn, first, 10, clock)


def test_a_released_lease_is_free_at_once(conn: sqlite3.Connection) -> None:
    clock = _Clock()
    lease = claim(conn, "job", "a", 10, clock)
    assert lease is not None
    release(conn, lease)
    assert holder(conn, "job", clock) is None
    taken = claim(conn, "job", "b", 10, clock)
    assert taken is not None
    assert taken.epoch == 2


def test_an_owner_on_this_host_whose_process_is_gone_loses_its_lease_at_once(
    conn: sqlite3.Connection,
) -> None:
    clock = _Clock()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid names no process now
    pid = child.pid
    gone = f"{pid_space()}:{pid}:dead"
    assert claim(conn, "job", gone, 3600, clock) is not None
    alive = f"{pid_space()}:{os.getpid()}:other"
    elsewhere = f"{socket.gethostname()}#another-namespace:{pid}:dead"
    assert claim(conn, "third", elsewhere, 3600, clock) is not None
    assert claim(conn, "third", "someone-else", 3600, clock) is None  # not ours to judge
    assert claim(conn, "other", alive, 3600, clock) is not None
    assert claim(conn, "other", "someone-else", 3600, clock) is None
    taken = claim(conn, "job", "someone-else", 3600, clock)
    assert taken is not None
    assert taken.epoch == 2


def test_progress_is_committed_only_by_the_lease_holder(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "progress.sqlite3", lease_seconds=30)
    other = ProgressStore(tmp_path / "progress.sqlite3", lease_seconds=30)
    try:
        lease = store.claim("job", "a")
        assert lease is not None
        store.save(Progress("job", completed=5), lease)
        other.release(lease)  # as if the lease had expired and...
        taken = other.claim("job", "b")  # ...another process took the job over
        assert taken is not None
        with pytest.raises(LeaseLostError):
            store.save(Progress("job", completed=999), lease)
        loaded = other.load("job")
        assert loaded is not None
        assert loaded.completed == 5
        other.save(Progress("job", completed=7), taken)
        store.delete("job")
        assert store.job_ids() == []
    finally:
        store.close()
        other.close()


def test_an_older_progress_table_gains_the_input_digest(tmp_path: Path) -> None:
    path = tmp_path / "progress.sqlite3"
    old = sqlite3.connect(path)
    names = "total next_line completed failed prompt_tokens completion_tokens total_tokens"
    names += " results_bytes errors_bytes"
    old.execute(
        "CREATE TABLE progress (job_id TEXT PRIMARY KEY, stage TEXT NOT NULL, "
        + ", ".join(f"{name} INTEGER NOT NULL" for name in names.split())
        + ")"
    )
    old.execute("INSERT INTO progress VALUES ('job', 'running', 9, 4, 4, 0, 0, 0, 0, 80, 0)")
    old.commit()
    old.close()
    store = ProgressStore(path, lease_seconds=30)
    try:
        loaded = store.load("job")
        assert loaded == Progress("job", "running", 9, 4, 4, results_bytes=80)
        assert loaded.input_digest == ""  # not recorded: a resume does not check it
        lease = store.claim("job", "a")
        assert lease is not None
        store.save(Progress("job", input_digest="abc"), lease)
        assert store.load("job") == Progress("job", input_digest="abc")
    finally:
        store.close()
