"""Which storage errors are passing (retry later) and how to name them without host paths.

A full disk, a read-only data dir or a database locked for too long are conditions an
operator fixes; work waits for them (job execution backs off and resumes, requests get a
503 with Retry-After). A missing object or an unsafe key is permanent and fails the job.
The names produced here never contain a path: `OSError.__str__` includes the file name,
which is a host path, so only `strerror` is used.
"""

from __future__ import annotations

import errno
import os
import random
import re
import sqlite3

from ark_batch.emulator.protocol import EnvelopeError
from ark_batch.storage import StorageError, is_permanent

__all__ = [
    "RETRY_AFTER_SECONDS",
    "describe_error",
    "describe_storage_error",
    "is_corrupt_database",
    "retry_delay",
    "storage_cause",
    "unavailable_error",
]

# errno values a fixed environment makes go away: permissions, read-only or full file
# systems, I/O hiccups, resource exhaustion.
_PASSING_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EAGAIN,
        errno.EBUSY,
        errno.EMFILE,
        errno.ENFILE,
        errno.ENOMEM,
        errno.ETIMEDOUT,
    }
)


# SQLite's primary result codes for a condition of the file or the machine; the rest
# (SQLITE_ERROR: a syntax error, an FTS5 query it cannot parse) are the emulator's bugs.
_PASSING_SQLITE_CODES = frozenset(
    {
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)


def _passing_sqlite_error(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is None or code & 0xFF in _PASSING_SQLITE_CODES


def is_corrupt_database(exc: BaseException) -> bool:
    """Whether `exc` says a SQLite file is damaged or not a database: waiting will not
    mend it."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.DatabaseError)
        and code is not None
        and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    )


def storage_cause(exc: BaseException) -> BaseException | None:
    """The passing storage error in `exc` or its causes, else None.

    Passing: an `OSError` with one of the errno values above, a
    `sqlite3.OperationalError` for a condition of the file (disk full, read-only, I/O
    error, locked; not an SQL error) and a `StorageError` that is not permanent (an S3
    connection failure, say).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageError):
            if is_permanent(current):
                return None
            cause = current.__cause__
            return storage_cause(cause) or current if cause is not None else current
        if isinstance(current, sqlite3.OperationalError):
            return current if _passing_sqlite_error(current) else None
        if isinstance(current, OSError) and current.errno in _PASSING_ERRNOS:
            return current
        current = current.__cause__ or current.__context__
    return None


def describe_storage_error(exc: BaseException) -> str:
    """A short name for a storage error that holds no host path."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.strerror or errno.errorcode.get(exc.errno, f"errno {exc.errno}")
    if isinstance(exc, sqlite3.Error):
        return str(exc)  # SQLite's messages name the condition, never the file
    if isinstance(exc, StorageError):
        return str(exc)  # written by ark_batch.storage, which names objects, not paths
    return type(exc).__name__


#: What a host path is replaced with in a message.
PATH_PLACEHOLDER = "<path>"
# An absolute path as an OSError's text quotes its file names: '/srv/data/x'.
_QUOTED_PATH = re.compile(r"""(['"])/[^'"]*\1""")


def describe_error(exc: BaseException) -> str:
    """The text of any error, without a host path.

    An OSError is named by :func:`describe_storage_error`. Another error's text can
    carry an OSError's file names (``f"... {oserror}"``): each file name of an OSError
    in its causes, and any quoted absolute path, becomes ``<path>``.
    """
    if isinstance(exc, OSError):
        return describe_storage_error(exc)
    text = str(exc) or type(exc).__name__
    for name in sorted(_file_names(exc), key=len, reverse=True):
        text = text.replace(name, PATH_PLACEHOLDER)
    return _QUOTED_PATH.sub(lambda match: f"{match[1]}{PATH_PLACEHOLDER}{match[1]}", text)


def _file_names(exc: BaseException) -> set[str]:
    """The file names of every OSError in ``exc`` and its causes and contexts."""
    names: set[str] = set()
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError):
            for name in (current.filename, current.filename2):
                if isinstance(name, (str, bytes, os.PathLike)):
                    names.add(os.fsdecode(name))
        pending += [link for link in (current.__cause__, current.__context__) if link]
    return {name for name in names if name}


#: Seconds a client is asked to wait before retrying a request that met a storage fault.
RETRY_AFTER_SECONDS = 5


def unavailable_error(exc: BaseException) -> EnvelopeError | None:
    """The 503 answer for a request that failed on passing storage trouble, else None."""
    cause = storage_cause(exc)
    if cause is None:
        return None
    return EnvelopeError(
        "ServiceUnavailableTemp",
        "The service is temporarily unavailable: its storage failed "
        f"({describe_storage_error(cause)}). Retry later.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def retry_delay(failures: int, first: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with jitter: ~`first`, doubling per failure, at most `cap`."""
    base: float = min(cap, first * 2.0 ** min(failures - 1, 30))
    return base * random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not a secret
