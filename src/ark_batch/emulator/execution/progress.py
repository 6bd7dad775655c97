"""Durable execution progress in the data dir: what makes a killed job resumable.

`ProgressStore` holds one row per unfinished job (stage, lines consumed, counts, spool
sizes) and the jobs' leases (`leases`), in ``<data_dir>/execution/progress.sqlite3``;
`JobSpool` holds the job's results/errors lines until they are uploaded. A chunk is
durable once `ProgressStore.save` commits the spool sizes that include it: on resume the
spools are cut back to the committed sizes, so an uncommitted chunk is redone and never
duplicated. A save is refused (`LeaseLostError`) unless the saver still holds the job's
lease, checked in the same transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import BinaryIO

from ark_batch.emulator.execution.leases import LEASE_SCHEMA, Lease, claim, release, renew

__all__ = [
    "DuplicateId",
    "IdIndex",
    "InputDigest",
    "JobSpool",
    "Progress",
    "ProgressStore",
    "connect",
]

VALIDATING, RUNNING, FINISHING = "validating", "running", "finishing"


@dataclass(slots=True)
class Progress:
    """The committed state of one job's execution."""

    job_id: str
    stage: str = VALIDATING
    total: int = 0
    next_line: int = 0  # physical input lines fully processed (blank ones included)
    completed: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    results_bytes: int = 0
    errors_bytes: int = 0
    # SHA-256 of the input validation read (`InputDigest`): a resumed run checks that
    # its input is still that file. Empty: not recorded (an older release's row).
    input_digest: str = ""


_COLUMNS = tuple(f.name for f in fields(Progress))
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS progress (
    job_id TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    {", ".join(f"{name} INTEGER NOT NULL" for name in _COLUMNS[2:-1])},
    input_digest TEXT NOT NULL DEFAULT ''
)
"""
# A progress table an older release made lacks the digest column.
_ADD_DIGEST = "ALTER TABLE progress ADD COLUMN input_digest TEXT NOT NULL DEFAULT ''"
_UPSERT = (
    f"INSERT OR REPLACE INTO progress ({', '.join(_COLUMNS)}) "  # noqa: S608 - constant
    f"VALUES ({', '.join('?' * len(_COLUMNS))})"
)


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the progress database (created with its tables if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    try:
        # Switching the mode takes a lock that a busy peer may hold; it sticks to the
        # file, so only the first opener of a new database needs to.
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL survives a killed process (the case we promise); only power loss can
        # roll back the last commits, and those chunks would simply be redone.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(_SCHEMA)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(progress)")}
        if "input_digest" not in columns:
            with contextlib.suppress(sqlite3.OperationalError):  # a peer added it first
                conn.execute(_ADD_DIGEST)
        conn.execute(LEASE_SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


class InputDigest:
    """A running SHA-256 of the input lines read so far, each ended by a newline."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, raw: bytes) -> None:
        self._hash.update(raw)
        self._hash.update(b"\n")

    def feed(self, lines: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
        """``lines``, each added on its way through."""
        for line_no, raw in lines:
            self.add(raw)
            yield line_no, raw

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class ProgressStore:
    """Progress rows and leases; one instance per thread (it owns a SQLite connection)."""

    def __init__(self, path: Path, lease_seconds: float = 30.0) -> None:
        self.path = path
        self.lease_seconds = lease_seconds
        self._conn = connect(path)

    def load(self, job_id: str) -> Progress | None:
        """The committed progress of a job, if it has started."""
        row = self._conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM progress WHERE job_id = ?",  # noqa: S608
            (job_id,),
        ).fetchone()
        return None if row is None else Progress(*row)

    def save(self, progress: Progress, lease: Lease) -> None:
        """Commit `progress` and renew `lease` in one transaction, if the lease is ours.

        Raises `LeaseLostError` (committing nothing) when another owner has the job.
        """
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            renew(self._conn, lease, self.lease_seconds)
            self._conn.execute(_UPSERT, astuple(progress))
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    def delete(self, job_id: str) -> None:
        """Forget a job (it reached a terminal phase): its progress row and its lease."""
        self.delete_progress(job_id)
        self._conn.execute("DELETE FROM leases WHERE job_id = ?", (job_id,))

    def delete_progress(self, job_id: str) -> None:
        """Forget the job's progress row only; its lease still keeps other processes off."""
        self._conn.execute("DELETE FROM progress WHERE job_id = ?", (job_id,))

    def job_ids(self) -> list[str]:
        """Every job with a progress row or a lease."""
        rows = self._conn.execute("SELECT job_id FROM progress UNION SELECT job_id FROM leases")
        return [row[0] for row in rows]

    # -- leases ------------------------------------------------------------------------

    def claim(self, job_id: str, owner: str) -> Lease | None:
        """Take the job's lease (see `leases.claim`)."""
        return claim(self._conn, job_id, owner, self.lease_seconds)

    def renew(self, lease: Lease) -> None:
        """Renew `lease`; raises `LeaseLostError` if it is no longer ours."""
        renew(self._conn, lease, self.lease_seconds)

    def release(self, lease: Lease) -> None:
        """Let another process take the job at once."""
        release(self._conn, lease)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class JobSpool:
    """A job's results and errors lines on local disk, before they are uploaded.

    Each lease epoch writes its own generation, ``<job dir>/gen-<epoch>/``: a new owner
    copies the committed part of the newest older generation into its own (`adopt`), so
    a former owner that is still running cannot append to the files it writes. Epoch 0
    is the job dir itself (the layout before leases).
    """

    def __init__(self, job_dir: Path, epoch: int = 0) -> None:
        self.job_dir = job_dir
        self.epoch = epoch
        self.directory = job_dir / f"gen-{epoch}" if epoch else job_dir
        self.results_path = self.directory / "results.jsonl"
        self.errors_path = self.directory / "errors.jsonl"
        self._results: BinaryIO | None = None
        self._errors: BinaryIO | None = None

    def adopt(self, results_bytes: int, errors_bytes: int) -> None:
        """Make this generation hold the committed bytes, copying them from an older one.

        Idempotent. The copy is made under a temporary name and renamed into place, and
        older generations are removed only afterwards, so a crash at any point leaves a
        complete source for the next owner.
        """
        if self.epoch == 0 or self.directory.is_dir():
            self._remove_older()
            return
        source = self._newest_older()
        staging = self.job_dir / f"gen-{self.epoch}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, size in (("results.jsonl", results_bytes), ("errors.jsonl", errors_bytes)):
            _copy_prefix(None if source is None else source / name, staging / name, size)
        staging.rename(self.directory)
        self._remove_older()

    def _generations(self) -> list[tuple[int, Path]]:
        found: list[tuple[int, Path]] = []
        if (self.job_dir / "results.jsonl").exists():
            found.append((0, self.job_dir))
        if self.job_dir.is_dir():
            for path in self.job_dir.iterdir():
                number = path.name.removeprefix("gen-")
                if path.name.startswith("gen-") and number.isdigit() and path.is_dir():
                    found.append((int(number), path))
        return sorted(found)

    def _newest_older(self) -> Path | None:
        older = [path for number, path in self._generations() if number < self.epoch]
        return older[-1] if older else None

    def _remove_older(self) -> None:
        for number, path in self._generations():
            if number < self.epoch:
                if number == 0:
                    for name in ("results.jsonl", "errors.jsonl"):
                        (path / name).unlink(missing_ok=True)
                else:
                    shutil.rmtree(path, ignore_errors=True)
        for path in self.job_dir.glob("gen-*.tmp"):
            if path.name != f"gen-{self.epoch}.tmp":
                shutil.rmtree(path, ignore_errors=True)

    def open(self, results_bytes: int, errors_bytes: int) -> None:
        """Open for appending after cutting both files back to their committed sizes."""
        self.adopt(results_bytes, errors_bytes)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._results = self._open_at(self.results_path, results_bytes)
        self._errors = self._open_at(self.errors_path, errors_bytes)

    @staticmethod
    def _open_at(path: Path, size: int) -> BinaryIO:
        handle = path.open("ab")
        if handle.seek(0, os.SEEK_END) < size:
            handle.close()
            raise RuntimeError(f"the {path.name} spool is shorter than its committed size")
        handle.truncate(size)
        # Append mode writes at the end anyway, but tell() must report the cut size too.
        handle.seek(size)
        return handle

    def append(self, results: bytes, errors: bytes) -> tuple[int, int]:
        """Append a chunk's lines; returns the new sizes, to be committed by the caller.

        Flushed to the OS before returning: a SIGKILL after this loses nothing.
        """
        if self._results is None or self._errors is None:
            raise RuntimeError("JobSpool.open() first")
        if results:
            self._results.write(results)
            self._results.flush()
        if errors:
            self._errors.write(errors)
            self._errors.flush()
        return self._results.tell(), self._errors.tell()

    def close(self) -> None:
        """Close the files (they stay on disk)."""
        for handle in (self._results, self._errors):
            if handle is not None:
                handle.close()
        self._results = self._errors = None

    def remove(self) -> None:
        """Delete the job's spool directory, every generation."""
        self.close()
        shutil.rmtree(self.job_dir, ignore_errors=True)


def _copy_prefix(source: Path | None, target: Path, size: int) -> None:
    """Write the first `size` bytes of `source` to `target` (an empty file for 0)."""
    with target.open("wb") as out:
        if size == 0:
            return
        if source is None or not source.is_file():
            raise RuntimeError(f"the {target.name} spool is missing its committed lines")
        with source.open("rb") as src:
            remaining = size
            while remaining:
                block = src.read(min(remaining, 1 << 20))
                if not block:
                    raise RuntimeError(f"the {target.name} spool is shorter than committed")
                out.write(block)
                remaining -= len(block)


@dataclass(frozen=True, slots=True)
class DuplicateId:
    """A custom_id seen twice: where first and where again."""

    custom_id: str
    first_line: int
    line: int


class IdIndex:
    """custom_ids seen so far, on disk so that memory stays flat at any line count.

    A scratch file: it is rebuilt from scratch if validation is interrupted, so it runs
    without a journal or syncs.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._conn.execute(
            "CREATE TABLE ids (custom_id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID"
        )
        # One transaction for the index's whole life: committing every batch costs ~6x.
        self._conn.execute("BEGIN")

    def add(self, batch: list[tuple[str, int]]) -> DuplicateId | None:
        """Record `(custom_id, line)` pairs in line order; return the first duplicate."""
        before = self._conn.total_changes
        self._conn.executemany("INSERT OR IGNORE INTO ids VALUES (?, ?)", batch)
        if self._conn.total_changes - before == len(batch):
            return None
        # Slow path, only on a bad file: the first pair whose stored line is not its own.
        for custom_id, line in batch:
            (first,) = self._conn.execute(
                "SELECT line FROM ids WHERE custom_id = ?", (custom_id,)
            ).fetchone()
            if first != line:
                return DuplicateId(custom_id, first, line)
        raise AssertionError("an insert was ignored but no duplicate was found")

    def remove(self) -> None:
        """Close and delete the index."""
        self._conn.close()
        self.path.unlink(missing_ok=True)
