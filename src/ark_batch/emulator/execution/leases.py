"""Job leases: which emulator process may work on a job, shared through the data dir.

Several emulator processes may serve one data dir. A process works on a job only while it
holds the job's lease, a row in the ``leases`` table of the execution progress database
(``<data_dir>/execution/progress.sqlite3``). A lease names its owner and expires
``lease_seconds`` after its last renewal; a live owner renews it (`LeaseKeeper`), so only a
dead or frozen owner loses it (an owner on this host whose process is gone loses it at
once). Every change of owner increments the lease's ``epoch``,
which names the spool generation the owner writes (see `progress.JobSpool`): a frozen
former owner that wakes up writes into a generation nobody reads, and its progress
commits are refused (`ProgressStore.save` checks the lease in the same transaction).

Lease times are wall-clock seconds (`time.time`), the one clock processes share.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "LEASE_SCHEMA",
    "Lease",
    "LeaseKeeper",
    "LeaseLostError",
    "claim",
    "holder",
    "new_owner_id",
    "pid_space",
    "release",
    "renew",
]

logger = logging.getLogger("ark_batch.emulator.execution")

# Idempotent: opening an existing progress database runs it again harmlessly.
LEASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    job_id     TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    expires_at REAL NOT NULL
)
"""

WallClock = Callable[[], float]


class LeaseLostError(Exception):
    """This process no longer holds the job's lease; another owner has taken it over."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A held lease: the job, its owner and the owner's epoch."""

    job_id: str
    owner: str
    epoch: int


def pid_space() -> str:
    """Where this process's pid means something: the host and its pid namespace.

    Two containers may share a host name (host networking) but not their pids.
    """
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}#{namespace}"


def new_owner_id() -> str:
    """A name for one worker, unique across processes and restarts: ``space:pid:random``."""
    return f"{pid_space()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _owner_is_gone(owner: str) -> bool:
    """Whether the owner was a process in our pid space that no longer runs.

    Lets a restarted emulator resume its jobs at once instead of waiting for the killed
    one's leases to expire. A reused pid only makes us wait for the expiry: safe.
    """
    space, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if space != pid_space() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it exists, under another user
        return False
    return False


def _claimable(conn: sqlite3.Connection, job_id: str, owner: str, now: float) -> bool:
    row = conn.execute(
        "SELECT owner, expires_at FROM leases WHERE job_id = ?", (job_id,)
    ).fetchone()
    return row is None or row[0] == owner or row[1] <= now or _owner_is_gone(str(row[0]))


def claim(
    conn: sqlite3.Connection, job_id: str, owner: str, ttl: float, now: WallClock = time.time
) -> Lease | None:
    """Take the job's lease if it is free, expired or already ours; None if held elsewhere.

    One immediate transaction: two processes claiming at once cannot both win. A lease
    held elsewhere is seen with a plain read first, so scanning costs no write.
    """
    if not _claimable(conn, job_id, owner, now()):
        return None
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT owner, epoch, expires_at FROM leases WHERE job_id = ?", (job_id,)
        ).fetchone()
        moment = now()
        if row is None:
            epoch = 1
        elif row[0] == owner:
            epoch = int(row[1])
        elif _claimable(conn, job_id, owner, moment):
            epoch = int(row[1]) + 1
        else:
            conn.execute("ROLLBACK")
            return None
        conn.execute(
            "INSERT OR REPLACE INTO leases (job_id, owner, epoch, expires_at) VALUES (?, ?, ?, ?)",
            (job_id, owner, epoch, moment + ttl),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return Lease(job_id, owner, epoch)


def renew(conn: sqlite3.Connection, lease: Lease, ttl: float, now: WallClock = time.time) -> None:
    """Push the lease's expiry out by `ttl`; raises `LeaseLostError` if it is not ours.

    Callable inside a caller's transaction (`ProgressStore.save` does so).
    """
    cursor = conn.execute(
        "UPDATE leases SET expires_at = ? WHERE job_id = ? AND owner = ? AND epoch = ?",
        (now() + ttl, lease.job_id, lease.owner, lease.epoch),
    )
    if cursor.rowcount != 1:
        raise LeaseLostError(lease.job_id)


def release(conn: sqlite3.Connection, lease: Lease) -> None:
    """Give the lease up at once (a clean stop), so another process need not wait."""
    conn.execute(
        "UPDATE leases SET expires_at = 0 WHERE job_id = ? AND owner = ? AND epoch = ?",
        (lease.job_id, lease.owner, lease.epoch),
    )


def holder(conn: sqlite3.Connection, job_id: str, now: WallClock = time.time) -> str | None:
    """The owner of an unexpired lease on the job, if any."""
    row = conn.execute(
        "SELECT owner FROM leases WHERE job_id = ? AND expires_at > ?", (job_id, now())
    ).fetchone()
    return None if row is None else str(row[0])


class LeaseKeeper:
    """A thread that renews every lease this worker holds, every third of its lifetime.

    A lease that could not be renewed (taken over, or the database unwritable for longer
    than its lifetime) is reported by `lost`, and runners stop working on that job.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], ttl: float) -> None:
        self._connect = connect
        self.ttl = ttl
        self._held: dict[str, Lease] = {}
        self._lost: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start renewing (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="ark-batch-lease-keeper", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop renewing; held leases then expire unless released."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def hold(self, lease: Lease) -> None:
        """Renew `lease` from now on."""
        with self._lock:
            self._held[lease.job_id] = lease
            self._lost.discard(lease.job_id)

    def drop(self, job_id: str) -> None:
        """Stop renewing the job's lease."""
        with self._lock:
            self._held.pop(job_id, None)
            self._lost.discard(job_id)

    def held(self) -> list[Lease]:
        """The leases being renewed."""
        with self._lock:
            return list(self._held.values())

    def lost(self, job_id: str) -> bool:
        """Whether the job's lease was found taken over."""
        with self._lock:
            return job_id in self._lost

    def _loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.ttl / 3):
                with self._lock:
                    leases = list(self._held.values())
                if not leases:
                    continue
                if conn is None:
                    try:
                        conn = self._connect()
                    except sqlite3.Error:
                        continue  # unwritable or busy for now: next round
                for lease in leases:
                    self._renew_one(conn, lease)
        finally:
            if conn is not None:
                conn.close()

    def _renew_one(self, conn: sqlite3.Connection, lease: Lease) -> None:
        try:
            renew(conn, lease, self.ttl)
        except LeaseLostError:
            logger.warning("job %s: another emulator process took the job over", lease.job_id)
            with self._lock:
                self._held.pop(lease.job_id, None)
                self._lost.add(lease.job_id)
        except sqlite3.Error:
            # Unwritable for now: the runner's own commits fail too and back off; the
            # lease is retried at the next round, and lost only if it really expires.
            pass
