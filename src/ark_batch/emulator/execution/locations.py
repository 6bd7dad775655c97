"""Where a job's files are: safe input/output locations and the input's lines."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator

from ark_batch.emulator.execution.lines import ExecutionError, InputUnavailableError
from ark_batch.emulator.storage_faults import retry_delay
from ark_batch.emulator.store import Job
from ark_batch.storage import (
    InvalidObjectKeyError,
    NotARegularFileError,
    ObjectNotFoundError,
    ObjectStore,
    PermanentStorageError,
    StorageError,
    validate_bucket,
    validate_key,
    validate_prefix,
)

__all__ = ["check_output_location", "numbered_lines", "open_input", "output_keys"]

logger = logging.getLogger("ark_batch.emulator.execution")

READ_ATTEMPTS = 4


def output_keys(job: Job) -> tuple[str, str]:
    """``(results key, errors key)`` of a job (ADR 0006).

    ``<prefix><JobId>/output/{results,errors}.jsonl``; a ``/`` is added to a non-empty
    prefix that lacks one, so ``out`` and ``out/`` mean the same folder.
    """
    prefix = job.output_key
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    base = f"{prefix}{job.id}/output/"
    return base + "results.jsonl", base + "errors.jsonl"


def check_output_location(job: Job) -> None:
    """Fail the job up front if its output bucket or prefix is unsafe."""
    try:
        validate_bucket(job.output_bucket)
        validate_prefix(job.output_key)
        for key in output_keys(job):
            validate_key(key)
    except InvalidObjectKeyError as exc:
        location = f"tos://{job.output_bucket}/{job.output_key}"
        raise ExecutionError(f"The output location {location} is invalid: {exc}") from None


def open_input(objects: ObjectStore, job: Job) -> Iterator[bytes]:
    """The input's lines; a missing or unsafe input fails the job."""
    location = f"tos://{job.input_bucket}/{job.input_key}"
    try:
        validate_bucket(job.input_bucket)
        validate_key(job.input_key)
        return objects.iter_lines(job.input_bucket, job.input_key)
    except InvalidObjectKeyError as exc:
        raise ExecutionError(f"The input file location {location} is invalid: {exc}") from None
    except ObjectNotFoundError:
        raise InputUnavailableError(f"The input file {location} does not exist.") from None
    except NotARegularFileError:
        raise ExecutionError(f"The input file {location} is not a regular file.") from None
    except PermanentStorageError as exc:
        raise ExecutionError(f"The input file {location} cannot be read: {exc}") from None


def numbered_lines(objects: ObjectStore, job: Job) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` from the top; reopens the object after a read error.

    A long job over S3 holds one GET open for its whole run, and a slow backend can leave
    it idle long enough for the server to drop it; reopening and skipping the lines
    already seen continues where it broke, after a short, growing pause. Still failing
    after `READ_ATTEMPTS` opens, the job fails.
    """
    consumed = 0
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            for raw in itertools.islice(open_input(objects, job), consumed, None):
                consumed += 1
                yield consumed, raw
            return
        except StorageError as exc:
            if attempt == READ_ATTEMPTS:
                raise InputUnavailableError(f"The input file could not be read: {exc}") from None
            logger.warning("job %s: input read failed at line %d; reopening", job.id, consumed)
            time.sleep(retry_delay(attempt, first=0.1))
