"""Read a finished job's results and errors as typed records, streaming.

Output layout (the emulator's, and the service's documented one): successful requests in
``<OutputDir.ObjectKey><JobId>/output/results.jsonl``; failed ones in the file named by the
job's ``ErrorFileTosLocation`` (when the job has none, ``.../output/errors.jsonl`` and
``.../error/errors.jsonl`` are tried).

A job's files are read only once it has ended: before that the readers raise
:class:`ResultsNotReadyError`. A ``Failed`` or ``Terminated`` job raises its
:class:`~ark_batch.errors.JobFailedError`, unless ``partial=True`` asks for what it kept.
A file the job's ``RequestCounts`` say must exist but that is not in the store raises
:class:`ResultsNotFoundError` naming where it was looked for; a file with nothing to hold
(no completed or no failed requests) may be absent and yields nothing.

Every line has the same top-level shape, so one record type serves both files:

* success: ``{"id", "custom_id", "error": null, "response": {"request_id",
  "status_code", "body": {...chat.completion...}}}``
* failure: ``{"id", "custom_id", "response": null, "error": {"code", "type", "message"}}``

Unknown fields are kept in ``raw``; a line that is not a JSON object raises
:class:`ResultFormatError` naming the object and line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ark_batch._api import FAILED_PHASES
from ark_batch.errors import ArkBatchError, JobFailedError, requests_done
from ark_batch.waiter import is_terminal

if TYPE_CHECKING:
    from ark_batch.storage import ObjectStore
    from ark_batch_client.models import BatchInferenceJob

__all__ = [
    "RecordError",
    "RecordResponse",
    "ResultFormatError",
    "ResultRecord",
    "ResultsNotFoundError",
    "ResultsNotReadyError",
    "check_readable",
    "error_locations",
    "iter_errors",
    "iter_records",
    "iter_results",
    "parse_record",
    "results_location",
]


class ResultFormatError(ArkBatchError):
    """A results/errors line that is not a JSON object."""


class ResultsNotReadyError(ArkBatchError):
    """The job has not ended yet, so it has no results to read; ``job`` is its state."""

    def __init__(self, job: BatchInferenceJob) -> None:
        self.job = job
        counts = job.request_counts
        super().__init__(
            f"job {job.id} is still {job.status.phase} "
            f"({requests_done(counts)}): "
            "its results can be read once it has ended"
        )


class ResultsNotFoundError(ArkBatchError):
    """A results or errors file the job must have written is not in the object store."""

    def __init__(self, job: BatchInferenceJob, what: str, bucket: str, key: str) -> None:
        self.job = job
        self.bucket = bucket
        self.key = key
        super().__init__(
            f"{what} file of job {job.id} not found at tos://{bucket}/{key}: is the object "
            "store the one the service writes to? (For the emulator that is its object "
            "root, DATA_DIR/objects, not DATA_DIR.)"
        )


@dataclass(frozen=True, slots=True)
class RecordResponse:
    """The ``response`` of a successful line."""

    status_code: int | None
    request_id: str | None
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordError:
    """The ``error`` of a failed line."""

    code: str | None
    type: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class ResultRecord:
    """One line of a results or errors file."""

    id: str | None
    custom_id: str | None
    response: RecordResponse | None
    error: RecordError | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True for a successful request (a response and no error)."""
        return self.error is None and self.response is not None

    @property
    def content(self) -> str | None:
        """The first choice's message content of a chat completion, if any."""
        if self.response is None:
            return None
        choices = self.response.body.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            message = choices[0].get("message")
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                return str(message["content"])
        return None

    @property
    def usage(self) -> dict[str, Any] | None:
        """The completion's ``usage`` object, if any."""
        if self.response is None:
            return None
        usage = self.response.body.get("usage")
        return usage if isinstance(usage, dict) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def parse_record(line: bytes | str, *, where: str = "line") -> ResultRecord:
    """Parse one output line."""
    try:
        raw = json.loads(line)
    except ValueError as exc:
        raise ResultFormatError(f"{where} is not JSON: {exc}") from None
    except RecursionError:
        raise ResultFormatError(f"{where} is JSON nested too deeply to read") from None
    if not isinstance(raw, dict):
        raise ResultFormatError(f"{where} is not a JSON object")
    response = raw.get("response")
    error = raw.get("error")
    parsed_response = None
    if isinstance(response, dict):
        body = response.get("body")
        status = response.get("status_code")
        parsed_response = RecordResponse(
            status_code=status if isinstance(status, int) else None,
            request_id=_str(response.get("request_id")),
            body=body if isinstance(body, dict) else {},
        )
    parsed_error = None
    if isinstance(error, dict):
        parsed_error = RecordError(
            code=_str(error.get("code")),
            type=_str(error.get("type")),
            message=_str(error.get("message")),
        )
    elif error is not None:
        parsed_error = RecordError(code=None, type=None, message=str(error))
    return ResultRecord(
        id=_str(raw.get("id")),
        custom_id=_str(raw.get("custom_id")),
        response=parsed_response,
        error=parsed_error,
        raw=raw,
    )


def _job_prefix(job: BatchInferenceJob) -> tuple[str, str]:
    output = job.output_dir_tos_location
    prefix = output.object_key
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return output.bucket_name, f"{prefix}{job.id}/"


def results_location(job: BatchInferenceJob) -> tuple[str, str]:
    """``(bucket, key)`` of the job's results file."""
    bucket, prefix = _job_prefix(job)
    return bucket, f"{prefix}output/results.jsonl"


def error_locations(job: BatchInferenceJob) -> list[tuple[str, str]]:
    """Candidate ``(bucket, key)`` of the errors file, the job's own field first."""
    from ark_batch_client.types import Unset  # noqa: PLC0415

    located = job.error_file_tos_location
    if not isinstance(located, Unset):
        return [(located.bucket_name, located.object_key)]
    bucket, prefix = _job_prefix(job)
    return [(bucket, f"{prefix}output/errors.jsonl"), (bucket, f"{prefix}error/errors.jsonl")]


def check_readable(job: BatchInferenceJob, *, partial: bool = False) -> None:
    """Raise unless the job's files can be read now (see the module docstring)."""
    if not is_terminal(job):
        raise ResultsNotReadyError(job)
    if job.status.phase in FAILED_PHASES and not partial:
        raise JobFailedError(job)


def _read(store: ObjectStore, bucket: str, key: str) -> Iterator[ResultRecord] | None:
    from ark_batch.storage import ObjectNotFoundError  # noqa: PLC0415

    try:
        lines = store.iter_lines(bucket, key)
    except ObjectNotFoundError:
        return None
    return _records(lines, f"tos://{bucket}/{key}")


def _records(lines: Iterator[bytes], name: str) -> Iterator[ResultRecord]:
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield parse_record(line, where=f"{name} line {number}")


def iter_results(
    store: ObjectStore, job: BatchInferenceJob, *, partial: bool = False
) -> Iterator[ResultRecord]:
    """Records of the results file; ``partial=True`` reads a Failed/Terminated job's."""
    check_readable(job, partial=partial)
    bucket, key = results_location(job)
    records = _read(store, bucket, key)
    if records is None:
        if job.request_counts.completed > 0:
            raise ResultsNotFoundError(job, "results", bucket, key)
        return
    yield from records


def iter_errors(
    store: ObjectStore, job: BatchInferenceJob, *, partial: bool = False
) -> Iterator[ResultRecord]:
    """Records of the errors file; ``partial=True`` reads a Failed/Terminated job's."""
    check_readable(job, partial=partial)
    locations = error_locations(job)
    for bucket, key in locations:
        records = _read(store, bucket, key)
        if records is not None:
            yield from records
            return
    if job.request_counts.failed > 0:
        raise ResultsNotFoundError(job, "errors", *locations[0])


def iter_records(
    store: ObjectStore, job: BatchInferenceJob, *, partial: bool = False
) -> Iterator[ResultRecord]:
    """Results, then errors."""
    yield from iter_results(store, job, partial=partial)
    yield from iter_errors(store, job, partial=partial)
