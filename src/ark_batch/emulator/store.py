"""SQLite job store: the emulator's only state, in ``<data_dir>/jobs.sqlite3``.

Durable across restarts (WAL journal). The idempotency rule of Create is enforced by a
partial unique index, so concurrent identical Creates cannot both insert: there is no
read-then-write window. Times are stored as integer UTC epoch seconds, so they sort
correctly and compare cheaply; :class:`Job` exposes them as aware datetimes.

Job execution uses this API from its own thread: call :meth:`JobStore.open_for_thread`
there (one connection per thread), then :meth:`queued_jobs`, :meth:`jobs_in_phase`,
:meth:`get_any`, :meth:`transition` and :meth:`update_job`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ark_batch.emulator.config import Clock

__all__ = [
    "ACTIVE_PHASES",
    "SCHEMA",
    "DuplicateActiveJobError",
    "DuplicateJobIdError",
    "Job",
    "JobStore",
    "ListQuery",
]

ACTIVE_PHASES = ("Queued", "Running")
SCHEMA_VERSION = 1

# The single definition of the database. Every statement is idempotent, so opening an
# existing data dir (a restart) is the same code path as creating a new one.
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL,
    user_name         TEXT NOT NULL,
    project_name      TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT,
    custom_model_id   TEXT,
    model_name        TEXT,
    model_version     TEXT,
    input_bucket      TEXT NOT NULL,
    input_key         TEXT NOT NULL,
    output_bucket     TEXT NOT NULL,
    output_key        TEXT NOT NULL,
    error_bucket      TEXT,
    error_key         TEXT,
    completion_window TEXT NOT NULL,
    phase             TEXT NOT NULL,
    phase_time        INTEGER NOT NULL,
    status_message    TEXT NOT NULL DEFAULT '',
    total             INTEGER NOT NULL DEFAULT 0,
    completed         INTEGER NOT NULL DEFAULT 0,
    failed            INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens      INTEGER NOT NULL DEFAULT 0,
    tags              TEXT NOT NULL DEFAULT '[]',
    create_time       INTEGER NOT NULL,
    update_time       INTEGER NOT NULL,
    expire_time       INTEGER NOT NULL
);
-- The Create idempotency rule (seed 002): one active job per key.
CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_active_per_input
    ON jobs (account_id, project_name, input_bucket, input_key)
    WHERE phase IN ('Queued', 'Running');
-- List: by account, optionally one or more phases, in CreateTime/UpdateTime order.
CREATE INDEX IF NOT EXISTS jobs_by_account_created ON jobs (account_id, create_time, id);
CREATE INDEX IF NOT EXISTS jobs_by_account_updated ON jobs (account_id, update_time, id);
CREATE INDEX IF NOT EXISTS jobs_by_account_phase_created
    ON jobs (account_id, phase, create_time, id);
-- The worker's scans across accounts.
CREATE INDEX IF NOT EXISTS jobs_by_phase ON jobs (phase, create_time, id);
"""


class DuplicateActiveJobError(Exception):
    """A Queued or Running job already holds this (account, project, input) key."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


class DuplicateJobIdError(Exception):
    """The Id is taken (a random-suffix collision); pick another."""


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _dt(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, slots=True)
class Job:
    """One row of the ``jobs`` table. Field names are the column names."""

    id: str
    account_id: str
    user_name: str
    project_name: str
    name: str
    description: str | None
    custom_model_id: str | None
    model_name: str | None
    model_version: str | None
    input_bucket: str
    input_key: str
    output_bucket: str
    output_key: str
    error_bucket: str | None
    error_key: str | None
    completion_window: str
    phase: str
    phase_time: datetime
    status_message: str
    total: int
    completed: int
    failed: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    tags: tuple[tuple[str, str], ...]
    create_time: datetime
    update_time: datetime
    expire_time: datetime


COLUMNS = tuple(f.name for f in fields(Job))
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM jobs"  # noqa: S608  # constant column list
_INSERT = f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
_TIME_COLUMNS = frozenset({"phase_time", "create_time", "update_time", "expire_time"})
_UPDATABLE = frozenset(COLUMNS) - {"id", "account_id", "update_time"}
_PHASE, _PHASE_TIME, _TAGS = (
    COLUMNS.index("phase"),
    COLUMNS.index("phase_time"),
    COLUMNS.index("tags"),
)
_CREATE, _UPDATE, _EXPIRE = (
    COLUMNS.index(n) for n in ("create_time", "update_time", "expire_time")
)


def _encode_tags(tags: Iterable[tuple[str, str]]) -> str:
    return json.dumps([{"Key": k, "Value": v} for k, v in tags], ensure_ascii=False)


def _to_row(job: Job) -> tuple[Any, ...]:
    row: list[Any] = [getattr(job, name) for name in COLUMNS]
    for index in (_PHASE_TIME, _CREATE, _UPDATE, _EXPIRE):
        row[index] = _ts(row[index])
    row[_TAGS] = _encode_tags(job.tags)
    return tuple(row)


def _from_row(row: Sequence[Any]) -> Job:
    values = list(row)
    for index in (_PHASE_TIME, _CREATE, _UPDATE, _EXPIRE):
        values[index] = _dt(values[index])
    values[_TAGS] = tuple((t["Key"], t["Value"]) for t in json.loads(values[_TAGS]))
    return Job(*values)


@dataclass(slots=True)
class ListQuery:
    """The decoded ListBatchInferenceJobs request; empty sequences mean "no filter"."""

    project_name: str | None = None
    ids: Sequence[str] = ()
    name: str | None = None
    foundation_models: Sequence[tuple[str, Sequence[str]]] = ()
    custom_model_ids: Sequence[str] = ()
    phases: Sequence[str] = ()
    tag_filters: Sequence[tuple[str, Sequence[str]]] = ()
    sort_by: Literal["create_time", "update_time"] = "create_time"
    descending: bool = True
    page_number: int = 1
    page_size: int = 10


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _where(account_id: str, query: ListQuery) -> tuple[str, list[Any]]:
    clauses = ["account_id = ?"]
    params: list[Any] = [account_id]
    if query.project_name is not None:
        clauses.append("project_name = ?")
        params.append(query.project_name)
    for column, values in (
        ("id", query.ids),
        ("custom_model_id", query.custom_model_ids),
        ("phase", query.phases),
    ):
        if values:
            clauses.append(f"{column} IN ({_placeholders(values)})")
            params.extend(values)
    if query.name is not None:
        # Python's casefold, registered on the connection: SQLite's lower() is ASCII-only.
        clauses.append("instr(ark_casefold(name), ?) > 0")
        params.append(query.name.casefold())
    if query.foundation_models:
        alternatives = []
        for model_name, versions in query.foundation_models:
            if versions:
                alternatives.append(
                    f"(model_name = ? AND model_version IN ({_placeholders(versions)}))"
                )
                params.append(model_name)
                params.extend(versions)
            else:
                alternatives.append("model_name = ?")
                params.append(model_name)
        clauses.append(f"({' OR '.join(alternatives)})")
    for key, values in query.tag_filters:
        condition = "json_extract(t.value, '$.Key') = ?"
        params.append(key)
        if values:
            condition += f" AND json_extract(t.value, '$.Value') IN ({_placeholders(values)})"
            params.extend(values)
        clauses.append(f"EXISTS (SELECT 1 FROM json_each(jobs.tags) AS t WHERE {condition})")  # noqa: S608
    return " AND ".join(clauses), params


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


# Aliases for annotations inside JobStore, whose ``list`` method shadows the builtin.
_Jobs = list[Job]
_Params = list[Any]


class JobStore:
    """Jobs in SQLite. One instance = one connection; use one instance per thread."""

    def __init__(self, path: Path, clock: Clock) -> None:
        """Open (creating if needed) the database at ``path``."""
        self.path = Path(path)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every statement is its own transaction; the bulk insert opens one
        # explicitly. check_same_thread=False because an app may be built in one thread
        # and served from another; the lock keeps the connection to one caller at a time.
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across process crashes in WAL mode (not across power loss),
        # which is what an emulator needs, at a fraction of FULL's fsync cost.
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.create_function("ark_casefold", 1, _casefold, deterministic=True)
        with self._lock:
            self._conn.executescript(SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @classmethod
    def open(cls, data_dir: Path, clock: Clock) -> JobStore:
        """The store of a data dir (``<data_dir>/jobs.sqlite3``)."""
        return cls(Path(data_dir) / "jobs.sqlite3", clock)

    def open_for_thread(self) -> JobStore:
        """A new store on the same file with its own connection, for another thread."""
        return JobStore(self.path, self.clock)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    # --- reads ---------------------------------------------------------------------

    def get(self, account_id: str, job_id: str) -> Job | None:
        """The job if it exists and belongs to ``account_id``."""
        with self._lock:
            row = self._conn.execute(
                f"{_SELECT} WHERE id = ? AND account_id = ?", (job_id, account_id)
            ).fetchone()
        return None if row is None else _from_row(row)

    def get_any(self, job_id: str) -> Job | None:
        """The job whatever its account (for job execution, never for API callers)."""
        with self._lock:
            row = self._conn.execute(f"{_SELECT} WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _from_row(row)

    def active_job_id(
        self, account_id: str, project_name: str, input_bucket: str, input_key: str
    ) -> str | None:
        """The Id of the Queued/Running job holding this idempotency key, if any."""
        with self._lock:
            row = self._conn.execute(
                "SELECT id FROM jobs WHERE account_id = ? AND project_name = ? "
                "AND input_bucket = ? AND input_key = ? AND phase IN ('Queued', 'Running')",
                (account_id, project_name, input_bucket, input_key),
            ).fetchone()
        return None if row is None else str(row[0])

    def list(self, account_id: str, query: ListQuery) -> tuple[int, _Jobs]:
        """``(total matching, the requested page)`` of ``account_id``'s jobs."""
        where, params = _where(account_id, query)
        direction = "DESC" if query.descending else "ASC"
        order = f"{query.sort_by} {direction}, id {direction}"
        offset = (query.page_number - 1) * query.page_size
        with self._lock:
            (total,) = self._conn.execute(
                f"SELECT count(*) FROM jobs WHERE {where}",  # noqa: S608  # placeholders only
                params,
            ).fetchone()
            rows = self._conn.execute(
                f"{_SELECT} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, query.page_size, offset],
            ).fetchall()
        return int(total), [_from_row(row) for row in rows]

    def queued_jobs(self, limit: int) -> _Jobs:
        """Up to ``limit`` Queued jobs of every account, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                f"{_SELECT} WHERE phase = 'Queued' ORDER BY create_time, id LIMIT ?", (limit,)
            ).fetchall()
        return [_from_row(row) for row in rows]

    def jobs_in_phase(self, phase: str) -> _Jobs:
        """Every job in ``phase``, of every account, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                f"{_SELECT} WHERE phase = ? ORDER BY create_time, id", (phase,)
            ).fetchall()
        return [_from_row(row) for row in rows]

    def count(self) -> int:
        """Number of stored jobs, all accounts."""
        with self._lock:
            (total,) = self._conn.execute("SELECT count(*) FROM jobs").fetchone()
        return int(total)

    # --- writes --------------------------------------------------------------------

    def create(self, job: Job) -> None:
        """Insert a new job.

        Raises :class:`DuplicateActiveJobError` (with the active job's Id) when the job is
        Queued/Running and its idempotency key is held, :class:`DuplicateJobIdError` when
        the Id is taken.
        """
        row = _to_row(job)
        # A few rounds: the conflicting job may leave Queued/Running between our failed
        # insert and the lookup of its Id, in which case the insert can now succeed.
        for _ in range(5):
            try:
                with self._lock:
                    self._conn.execute(_INSERT, row)
                return
            except sqlite3.IntegrityError as exc:
                if "jobs.id" in str(exc):
                    raise DuplicateJobIdError(job.id) from None
                active = self.active_job_id(
                    job.account_id, job.project_name, job.input_bucket, job.input_key
                )
                if active is not None:
                    raise DuplicateActiveJobError(active) from None
        raise RuntimeError("the idempotency key kept changing hands; giving up")

    def insert_many(self, jobs: Iterable[Job]) -> None:
        """Insert many jobs in one transaction (fixtures and benchmarks)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(_INSERT, (_to_row(job) for job in jobs))
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def clear(self) -> None:
        """Delete every job of every account (test isolation)."""
        with self._lock:
            self._conn.execute("DELETE FROM jobs")

    def update_job(self, job_id: str, *, now: datetime | None = None, **values: Any) -> bool:
        """Set columns of a job (datetimes and ``tags`` are converted) and ``update_time``.

        ``now`` defaults to the store's clock. Returns whether the job exists. Raises
        ValueError for unknown or read-only columns, :class:`DuplicateActiveJobError` when a
        phase change would make a second job active for one idempotency key.
        """
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"cannot update column(s) {sorted(unknown)}")
        columns = list(values)
        params: _Params = []
        for name in columns:
            value = values[name]
            if name in _TIME_COLUMNS:
                value = _ts(value)
            elif name == "tags":
                value = _encode_tags(value)
            params.append(value)
        columns.append("update_time")
        params.append(_ts(now or self.clock()))
        assignments = ", ".join(f"{name} = ?" for name in columns)
        return self._update(job_id, assignments, params)

    def transition(self, job_id: str, phase: str, message: str, now: datetime) -> bool:
        """Move a job to ``phase``: sets phase, phase_time, update_time, status_message."""
        moment = _ts(now)
        return self._update(
            job_id,
            "phase = ?, phase_time = ?, update_time = ?, status_message = ?",
            [phase, moment, moment, message],
        )

    def _update(self, job_id: str, assignments: str, params: _Params) -> bool:
        try:
            with self._lock:
                cursor = self._conn.execute(
                    f"UPDATE jobs SET {assignments} WHERE id = ?",  # noqa: S608  # checked names
                    [*params, job_id],
                )
        except sqlite3.IntegrityError:
            job = self.get_any(job_id)
            active = None
            if job is not None:
                active = self.active_job_id(
                    job.account_id, job.project_name, job.input_bucket, job.input_key
                )
            raise DuplicateActiveJobError(active or "") from None
        return cursor.rowcount > 0

    # --- lifecycle actions (Stop, Resume, Update, Delete) -------------------------------

    def transition_from(
        self,
        job_id: str,
        from_phases: Sequence[str],
        phase: str,
        message: str,
        now: datetime,
        *,
        account_id: str | None = None,
    ) -> bool:
        """Move a job to ``phase`` only if it is in one of ``from_phases`` right now.

        One conditional UPDATE, so a concurrent change of phase (a Stop racing the worker)
        can never be overwritten. Returns whether the job moved. ``account_id`` limits it to
        that account's job. Raises :class:`DuplicateActiveJobError` like :meth:`update_job`.
        """
        moment = _ts(now)
        condition = f"id = ? AND phase IN ({_placeholders(from_phases)})"
        params: _Params = [phase, moment, moment, message, job_id, *from_phases]
        if account_id is not None:
            condition += " AND account_id = ?"
            params.append(account_id)
        assignments = "phase = ?, phase_time = ?, update_time = ?, status_message = ?"
        statement = f"UPDATE jobs SET {assignments} WHERE {condition}"  # noqa: S608
        try:
            with self._lock:
                cursor = self._conn.execute(statement, params)
        except sqlite3.IntegrityError:
            job = self.get_any(job_id)
            active = None
            if job is not None:
                active = self.active_job_id(
                    job.account_id, job.project_name, job.input_bucket, job.input_key
                )
            raise DuplicateActiveJobError(active or "") from None
        return cursor.rowcount > 0

    def rename(
        self,
        account_id: str,
        job_id: str,
        now: datetime,
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> bool:
        """Set the name and/or description of ``account_id``'s job; ``update_time`` moves."""
        assignments = ["update_time = ?"]
        params: _Params = [_ts(now)]
        if name is not None:
            assignments.append("name = ?")
            params.append(name)
        if description is not None:
            assignments.append("description = ?")
            params.append(description)
        with self._lock:
            cursor = self._conn.execute(
                f"UPDATE jobs SET {', '.join(assignments)} WHERE id = ? AND account_id = ?",  # noqa: S608
                [*params, job_id, account_id],
            )
        return cursor.rowcount > 0

    def delete(self, account_id: str, job_id: str, phases: Sequence[str]) -> bool:
        """Delete ``account_id``'s job if it is in one of ``phases``; whether it was."""
        with self._lock:
            cursor = self._conn.execute(
                f"DELETE FROM jobs WHERE id = ? AND account_id = ? "  # noqa: S608
                f"AND phase IN ({_placeholders(phases)})",
                [job_id, account_id, *phases],
            )
        return cursor.rowcount > 0
