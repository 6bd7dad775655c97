"""Durable execution progress in the data dir: what makes a killed job resumable.

`ProgressStore` holds one row per unfinished job (stage, lines consumed, counts, spool
sizes), in ``<data_dir>/execution/progress.sqlite3``; `JobSpool` holds the job's
results/errors lines until they are uploaded. A chunk is durable once `ProgressStore.save`
commits the spool sizes that include it: on resume the spools are cut back to the
committed sizes, so an uncommitted chunk is redone and never duplicated.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import BinaryIO

__all__ = ["DuplicateId", "IdIndex", "JobSpool", "Progress", "ProgressStore"]

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


_COLUMNS = tuple(f.name for f in fields(Progress))
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS progress (
    job_id TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    {", ".join(f"{name} INTEGER NOT NULL" for name in _COLUMNS[2:])}
)
"""
_UPSERT = (
    f"INSERT OR REPLACE INTO progress ({', '.join(_COLUMNS)}) "  # noqa: S608 - constant
    f"VALUES ({', '.join('?' * len(_COLUMNS))})"
)


class ProgressStore:
    """Progress rows; one instance per thread (it owns a SQLite connection)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        self._conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL survives a killed process (the case we promise); only power loss can
        # roll back the last commits, and those chunks would simply be redone.
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(_SCHEMA)

    def load(self, job_id: str) -> Progress | None:
        """The committed progress of a job, if it has started."""
        row = self._conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM progress WHERE job_id = ?",  # noqa: S608
            (job_id,),
        ).fetchone()
        return None if row is None else Progress(*row)

    def save(self, progress: Progress) -> None:
        """Commit `progress` (one atomic statement)."""
        self._conn.execute(_UPSERT, astuple(progress))

    def delete(self, job_id: str) -> None:
        """Forget a job (it reached a terminal phase)."""
        self._conn.execute("DELETE FROM progress WHERE job_id = ?", (job_id,))

    def job_ids(self) -> list[str]:
        """Every job with a progress row."""
        return [row[0] for row in self._conn.execute("SELECT job_id FROM progress")]

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class JobSpool:
    """A job's results and errors lines on local disk, before they are uploaded."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.results_path = directory / "results.jsonl"
        self.errors_path = directory / "errors.jsonl"
        self._results: BinaryIO | None = None
        self._errors: BinaryIO | None = None

    def open(self, results_bytes: int, errors_bytes: int) -> None:
        """Open for appending after cutting both files back to their committed sizes."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._results = self._open_at(self.results_path, results_bytes)
        self._errors = self._open_at(self.errors_path, errors_bytes)

    @staticmethod
    def _open_at(path: Path, size: int) -> BinaryIO:
        handle = path.open("ab")
        if handle.seek(0, os.SEEK_END) < size:
            handle.close()
            raise RuntimeError(f"spool file {path} is shorter than its committed size")
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
        """Delete the spool directory."""
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)


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
