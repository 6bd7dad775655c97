"""Runs one job: validate the input, send every line to the backend, publish the output.

A `JobRunner` is used by one thread at a time. It is restartable at every point: it reads
the job's committed `Progress` and continues from there (see `progress`).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from ark_batch.emulator.config import Clock
from ark_batch.emulator.execution.config import ExecutionConfig
from ark_batch.emulator.execution.lines import (
    InputError,
    error_line,
    parse_line,
    request_id,
    result_line,
)
from ark_batch.emulator.execution.models import (
    ModelBackend,
    ModelError,
    ModelRequest,
    ModelResponse,
    ModelResult,
)
from ark_batch.emulator.execution.progress import (
    FINISHING,
    RUNNING,
    IdIndex,
    JobSpool,
    Progress,
    ProgressStore,
)
from ark_batch.emulator.protocol import UTC8
from ark_batch.emulator.store import Job, JobStore
from ark_batch.storage import (
    InvalidObjectKeyError,
    ObjectNotFoundError,
    ObjectStore,
    StorageError,
    validate_bucket,
    validate_key,
    validate_prefix,
)

__all__ = ["JobRunner", "deadline", "output_keys"]

logger = logging.getLogger("ark_batch.emulator.execution")

_VALIDATION_BATCH = 10_000
_READ_ATTEMPTS = 4
# Counts reach the jobs table at most this often (the progress DB gets every chunk).
_COUNTS_INTERVAL = 0.1


class _Stop(Enum):
    SHUTDOWN = "shutdown"  # the emulator is stopping: leave the job Running, resume later
    EXPIRED = "expired"  # CompletionWindow passed: Terminating -> Terminated
    STOPPED = "stopped"  # someone moved the job to Terminating (StopBatchInferenceJob)


class _JobFailedError(Exception):
    """Ends the job Failed with this message."""


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


def deadline(job: Job, time_speed: float) -> datetime:
    """When the job's CompletionWindow ends, with emulated time running `time_speed`x."""
    if math.isinf(time_speed):
        return job.create_time
    return job.create_time + (job.expire_time - job.create_time) / time_speed


def _model_name(job: Job) -> str:
    if job.custom_model_id:
        return job.custom_model_id
    if job.model_version:
        return f"{job.model_name}-{job.model_version}"
    return job.model_name or "unknown"


@dataclass(slots=True)
class _Chunk:
    results: list[bytes]
    errors: list[bytes]
    completed: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


def _usage(body: object) -> tuple[int, int, int]:
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return 0, 0, 0
    values = [usage.get(name) for name in ("prompt_tokens", "completion_tokens", "total_tokens")]
    prompt, completion, total = (v if type(v) is int and v >= 0 else 0 for v in values)
    return prompt, completion, total


class JobRunner:
    """Executes jobs against one object store and one model backend."""

    def __init__(
        self,
        *,
        jobs: JobStore,
        progress: ProgressStore,
        objects: ObjectStore,
        backend: ModelBackend,
        config: ExecutionConfig,
        spool_root: Path,
        clock: Clock,
        shutdown: threading.Event,
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        self.jobs = jobs
        self.progress = progress
        self.objects = objects
        self.backend = backend
        self.config = config
        self.spool_root = spool_root
        self.clock = clock
        self.shutdown = shutdown
        self.pool = pool
        if backend.blocking:
            # Small chunks keep stop/expiry checks and progress commits frequent when each
            # line takes real time.
            self.chunk_lines = max(1, min(config.chunk_lines, config.line_concurrency * 4))
        else:
            self.chunk_lines = config.chunk_lines

    # -- entry point -------------------------------------------------------------------

    def run(self, job_id: str) -> None:
        """Take the job as far as possible: to a terminal phase, or to a shutdown."""
        job = self.jobs.get_any(job_id)
        if job is None:
            self._forget(job_id)
            return
        try:
            self._run(job)
        except _JobFailedError as exc:
            self._fail(job, str(exc))
        except Exception as exc:
            # One broken job must never take the worker or the other jobs down.
            logger.exception("job %s failed in the emulator", job.id)
            self._fail(job, f"The job failed: internal error in the emulator ({exc}).")

    def _run(self, job: Job) -> None:
        if job.phase == "Terminating":
            self._finish(job, self._load(job), self._termination_cause(job))
            return
        state = self.progress.load(job.id)
        if state is None or state.stage not in (RUNNING, FINISHING):
            stop = self._validate(job)
            if stop is not None:
                self._halt(job, stop)
                return
            state = self.progress.load(job.id)
            assert state is not None
        if state.stage == RUNNING:
            stop = self._execute(job, state)
            if stop is not None:
                self._halt(job, stop)
                return
            state.stage = FINISHING
            self.progress.save(state)
        self._finish(job, state, None)

    def _load(self, job: Job) -> Progress:
        return self.progress.load(job.id) or Progress(job.id)

    def _halt(self, job: Job, stop: _Stop) -> None:
        if stop is _Stop.SHUTDOWN:
            return
        if stop is _Stop.EXPIRED:
            self.jobs.transition(
                job.id,
                "Terminating",
                f"The CompletionWindow ({job.completion_window}) expired; stopping the job.",
                self.clock(),
            )
        self._finish(job, self._load(job), stop)

    # -- checks between chunks ---------------------------------------------------------

    def _check(self, job: Job) -> _Stop | None:
        if self.shutdown.is_set():
            return _Stop.SHUTDOWN
        if self.clock() >= deadline(job, self.config.time_speed):
            return _Stop.EXPIRED
        current = self.jobs.get_any(job.id)
        if current is None or current.phase == "Terminating":
            return _Stop.STOPPED
        return None

    def _termination_cause(self, job: Job) -> _Stop:
        expired = self.clock() >= deadline(job, self.config.time_speed)
        return _Stop.EXPIRED if expired else _Stop.STOPPED

    # -- validation --------------------------------------------------------------------

    def _input_lines(self, job: Job) -> Iterator[bytes]:
        location = f"tos://{job.input_bucket}/{job.input_key}"
        try:
            validate_bucket(job.input_bucket)
            validate_key(job.input_key)
            return self.objects.iter_lines(job.input_bucket, job.input_key)
        except InvalidObjectKeyError as exc:
            raise _JobFailedError(f"The input file location {location} is invalid: {exc}") from None
        except ObjectNotFoundError:
            raise _JobFailedError(f"The input file {location} does not exist.") from None
        except StorageError as exc:
            raise _JobFailedError(f"The input file {location} cannot be read: {exc}") from None

    def _numbered_lines(self, job: Job) -> Iterator[tuple[int, bytes]]:
        """``(line number, line)`` from the top; reopens the object after a read error.

        A long job over S3 holds one GET open for its whole run, and a slow backend can
        leave it idle long enough for the server to drop it; reopening and skipping the
        lines already seen continues where it broke.
        """
        consumed = 0
        for attempt in range(_READ_ATTEMPTS):
            try:
                for raw in itertools.islice(self._input_lines(job), consumed, None):
                    consumed += 1
                    yield consumed, raw
                return
            except StorageError:
                if attempt == _READ_ATTEMPTS - 1:
                    raise
                logger.warning("job %s: input read failed at line %d; reopening", job.id, consumed)

    def _validate(self, job: Job) -> _Stop | None:
        """Read the whole input once: JSON objects, custom_ids present and unique."""
        try:
            validate_bucket(job.output_bucket)
            validate_prefix(job.output_key)
            for key in output_keys(job):
                validate_key(key)
        except InvalidObjectKeyError as exc:
            location = f"tos://{job.output_bucket}/{job.output_key}"
            raise _JobFailedError(f"The output location {location} is invalid: {exc}") from None
        self.progress.save(Progress(job.id))
        ids = IdIndex(self._spool_dir(job.id) / "ids.sqlite3")
        try:
            total = 0
            batch: list[tuple[str, int]] = []
            try:
                for line_no, raw in self._numbered_lines(job):
                    if not raw.strip():
                        continue
                    custom_id, _ = parse_line(raw, line_no)
                    batch.append((custom_id, line_no))
                    if len(batch) >= _VALIDATION_BATCH:
                        self._check_ids(ids, batch)
                        total += len(batch)
                        batch.clear()
                        stop = self._check(job)
                        if stop is not None:
                            return stop
            except InputError as exc:
                raise _JobFailedError(str(exc)) from None
            except StorageError as exc:
                raise _JobFailedError(f"The input file could not be read: {exc}") from None
            self._check_ids(ids, batch)
            total += len(batch)
        finally:
            ids.remove()
        if total == 0:
            raise _JobFailedError("Invalid input file: it contains no requests.")
        self.progress.save(Progress(job.id, stage=RUNNING, total=total))
        self.jobs.update_job(
            job.id,
            total=total,
            completed=0,
            failed=0,
            prompt_tokens=0,
            completion_tokens=0,
            total_tokens=0,
            now=self.clock(),
        )
        return None

    @staticmethod
    def _check_ids(ids: IdIndex, batch: list[tuple[str, int]]) -> None:
        duplicate = ids.add(batch)
        if duplicate is not None:
            raise _JobFailedError(
                f"Invalid input file: line {duplicate.line} repeats custom_id "
                f"{json.dumps(duplicate.custom_id, ensure_ascii=False)} "
                f"of line {duplicate.first_line}."
            )

    # -- execution ---------------------------------------------------------------------

    def _execute(self, job: Job, state: Progress) -> _Stop | None:
        spool = JobSpool(self._spool_dir(job.id))
        spool.open(state.results_bytes, state.errors_bytes)
        pushed = 0.0
        try:
            pending: list[tuple[int, bytes]] = []
            line_no = 0
            for line_no, raw in self._numbered_lines(job):
                if line_no <= state.next_line or not raw.strip():
                    continue
                pending.append((line_no, raw))
                if len(pending) >= self.chunk_lines:
                    stop = self._check(job)
                    if stop is not None:
                        return stop
                    self._commit(job, state, spool, pending, line_no)
                    pending.clear()
                    if time.monotonic() - pushed >= _COUNTS_INTERVAL:
                        self._push_counts(job, state)
                        pushed = time.monotonic()
            stop = self._check(job)
            if stop is not None:
                return stop
            self._commit(job, state, spool, pending, max(line_no, state.next_line))
            self._push_counts(job, state)
        except StorageError as exc:
            raise _JobFailedError(f"The input file could not be read: {exc}") from None
        except InputError as exc:  # the file changed under a running job
            raise _JobFailedError(str(exc)) from None
        finally:
            spool.close()
        return None

    def _commit(
        self,
        job: Job,
        state: Progress,
        spool: JobSpool,
        pending: list[tuple[int, bytes]],
        next_line: int,
    ) -> None:
        chunk = self._process(job, pending)
        state.results_bytes, state.errors_bytes = spool.append(
            b"".join(chunk.results), b"".join(chunk.errors)
        )
        state.next_line = next_line
        state.completed += chunk.completed
        state.failed += chunk.failed
        state.prompt_tokens += chunk.prompt_tokens
        state.completion_tokens += chunk.completion_tokens
        state.total_tokens += chunk.total_tokens
        self.progress.save(state)

    def _process(self, job: Job, pending: list[tuple[int, bytes]]) -> _Chunk:
        stamp = job.create_time.astimezone(UTC8).strftime("%Y%m%d%H%M%S")
        created = int(job.create_time.timestamp())
        model = _model_name(job)
        requests: list[ModelRequest] = []
        outcomes: list[tuple[str, str, ModelResult | None]] = []
        for line_no, raw in pending:
            custom_id, body = parse_line(raw, line_no)
            rid = request_id(stamp, job.id, custom_id)
            if isinstance(body, dict):
                requests.append(ModelRequest(custom_id, body, model, rid, created))
                outcomes.append((custom_id, rid, None))
            else:
                error = ModelError("InvalidParameter", "BadRequest", "body must be a JSON object")
                outcomes.append((custom_id, rid, error))
        if self.pool is not None and self.backend.blocking:
            answers = iter(list(self.pool.map(self.backend.complete, requests)))
        else:
            answers = iter([self.backend.complete(request) for request in requests])
        chunk = _Chunk([], [])
        for custom_id, rid, known in outcomes:
            result = known if known is not None else next(answers)
            if isinstance(result, ModelResponse):
                chunk.results.append(result_line(custom_id, result))
                chunk.completed += 1
                prompt, completion, total = _usage(result.body)
                chunk.prompt_tokens += prompt
                chunk.completion_tokens += completion
                chunk.total_tokens += total
            else:
                chunk.errors.append(error_line(custom_id, rid, result))
                chunk.failed += 1
        return chunk

    def _push_counts(self, job: Job, state: Progress) -> None:
        self.jobs.update_job(
            job.id,
            completed=state.completed,
            failed=state.failed,
            prompt_tokens=state.prompt_tokens,
            completion_tokens=state.completion_tokens,
            total_tokens=state.total_tokens,
            now=self.clock(),
        )

    # -- the end -----------------------------------------------------------------------

    def _finish(self, job: Job, state: Progress, stop: _Stop | None) -> None:
        """Publish the spooled lines, then move the job to its terminal phase."""
        spool = JobSpool(self._spool_dir(job.id))
        results_key, errors_key = output_keys(job)
        try:
            if state.results_bytes:
                self._publish(spool.results_path, state.results_bytes, job, results_key)
            if state.errors_bytes:
                self._publish(spool.errors_path, state.errors_bytes, job, errors_key)
        except StorageError as exc:
            raise _JobFailedError(
                f"The output could not be written to tos://{job.output_bucket}: {exc}"
            ) from None
        now = self.clock()
        fields: dict[str, object] = {
            "total": state.total,
            "completed": state.completed,
            "failed": state.failed,
            "prompt_tokens": state.prompt_tokens,
            "completion_tokens": state.completion_tokens,
            "total_tokens": state.total_tokens,
        }
        if state.errors_bytes:
            fields.update(error_bucket=job.output_bucket, error_key=errors_key)
        self.jobs.update_job(job.id, now=now, **fields)
        done = state.completed + state.failed
        tally = f"{state.completed} succeeded, {state.failed} failed"
        if stop is None:
            phase = "Completed"
            message = f"The job completed: {done} of {state.total} requests processed ({tally})."
        else:
            phase = "Terminated"
            cause = (
                f"The CompletionWindow ({job.completion_window}) expired"
                if stop is _Stop.EXPIRED
                else "The job was stopped"
            )
            if state.total == 0:
                message = f"{cause} before any request ran."
            else:
                message = (
                    f"{cause}: {done} of {state.total} requests were processed ({tally}); "
                    f"the other {state.total - done} were cancelled."
                )
        self.jobs.transition(job.id, phase, message, now)
        self._forget(job.id)

    def _publish(self, path: Path, size: int, job: Job, key: str) -> None:
        # A previous run may have been killed after spooling beyond the commit point.
        with path.open("r+b") as handle:
            handle.truncate(size)
        self.objects.upload_file(job.output_bucket, key, path)

    def _fail(self, job: Job, message: str) -> None:
        self.jobs.transition(job.id, "Failed", message, self.clock())
        self._forget(job.id)

    def _forget(self, job_id: str) -> None:
        JobSpool(self._spool_dir(job_id)).remove()
        self.progress.delete(job_id)

    def _spool_dir(self, job_id: str) -> Path:
        return self.spool_root / job_id
