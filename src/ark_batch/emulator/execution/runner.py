"""Runs one job through its lifecycle: validate, execute chunk by chunk, publish, end.

A `JobRunner` is used by one thread at a time. It is restartable at every point: it reads
the job's committed `Progress` and continues from there (see `progress`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from ark_batch.emulator import phases
from ark_batch.emulator.config import Clock
from ark_batch.emulator.execution.chunks import process_chunk
from ark_batch.emulator.execution.leases import Lease, LeaseLostError
from ark_batch.emulator.execution.lines import ExecutionError, InputUnavailableError, is_blank
from ark_batch.emulator.execution.locations import (
    check_output_location,
    numbered_lines,
    output_keys,
)
from ark_batch.emulator.execution.model_backends import ModelBackend
from ark_batch.emulator.execution.progress import (
    FINISHING,
    RUNNING,
    IdIndex,
    InputDigest,
    JobSpool,
    Progress,
    ProgressStore,
)
from ark_batch.emulator.execution.validation import validate_input
from ark_batch.emulator.storage_faults import (
    describe_error,
    storage_cause,
)
from ark_batch.emulator.store import Job, JobStore
from ark_batch.storage import ObjectStore, PermanentStorageError, StorageError, is_permanent

if TYPE_CHECKING:
    from ark_batch.emulator.execution.config import ExecutionConfig

__all__ = ["JobRunner", "deadline"]

logger = logging.getLogger("ark_batch.emulator.execution")


# Input lines read between stop checks when a resumed run re-reads its input.
_VERIFY_BATCH = 10_000

# Counts reach the jobs table at most this often (the progress DB gets every chunk).
_COUNTS_INTERVAL = 0.1


class _Stop(Enum):
    SHUTDOWN = "shutdown"  # the emulator is stopping: leave the job Running, resume later
    LOST = "lost"  # another process took the job over: leave it to that one
    EXPIRED = "expired"  # CompletionWindow passed: Terminating -> Terminated
    STOPPED = "stopped"  # someone moved the job to Terminating (StopBatchInferenceJob)


def deadline(job: Job, time_speed: float) -> datetime:
    """When the job's CompletionWindow ends, with emulated time running `time_speed`x."""
    if math.isinf(time_speed):
        return job.create_time
    return job.create_time + (job.expire_time - job.create_time) / time_speed


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
        lease_lost: Callable[[str], bool] = lambda _job_id: False,
    ) -> None:
        self.jobs = jobs
        self.lease_lost = lease_lost
        self._lease: Lease | None = None
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

    def run(self, lease: Lease) -> None:
        """Take the leased job as far as possible: to a terminal phase, or to a shutdown.

        Re-raises a storage failure that passes (see `storage_cause`): the job is left as
        it is (phase, progress and spool kept) for the worker to retry later.
        """
        self._lease = lease
        job = self.jobs.get_any(lease.job_id)
        if job is None or job.phase in phases.ENDED_PHASES:
            # Ended (or deleted) while this claim was on its way: nothing left to do.
            self._forget(lease.job_id)
            return
        if job.phase not in (phases.RUNNING, phases.TERMINATING):
            return
        try:
            self._run(job)
        except LeaseLostError:
            logger.info("job %s: taken over by another emulator process", job.id)
        except InputUnavailableError as exc:
            self._fail(job, str(exc), keep_progress=True)
        except ExecutionError as exc:
            self._fail(job, str(exc))
        except Exception as exc:
            if storage_cause(exc) is not None:
                raise  # passing storage trouble: the worker retries the job later
            # One broken job must never take the worker or the other jobs down.
            logger.exception("job %s failed in the emulator", job.id)
            self._fail(
                job, f"The job failed: internal error in the emulator ({describe_error(exc)})."
            )

    @property
    def lease(self) -> Lease:
        """The lease of the job being run."""
        if self._lease is None:
            raise RuntimeError("JobRunner.run() first")
        return self._lease

    def _run(self, job: Job) -> None:
        if job.phase == phases.TERMINATING:
            self._finish(job, self._load(job), self._termination_cause(job))
            return
        state = self.progress.load(job.id)
        if state is None or state.stage not in (RUNNING, FINISHING):
            stop = self._validate(job)
            if stop is not None:
                self._halt(job, stop)
                return
            state = self._load(job)
        if state.stage == RUNNING:
            stop = self._check_input_unchanged_since_validation(job, state)
            if stop is None:
                stop = self._execute(job, state)
            if stop is not None:
                self._halt(job, stop)
                return
            _check_input_unchanged(state)
            state.stage = FINISHING
            self.progress.save(state, self.lease)
        self._finish(job, state, None)

    def _load(self, job: Job) -> Progress:
        return self.progress.load(job.id) or Progress(job.id)

    def _halt(self, job: Job, stop: _Stop) -> None:
        if stop in (_Stop.SHUTDOWN, _Stop.LOST):
            return
        if stop is _Stop.EXPIRED:
            self.jobs.transition(
                job.id,
                phases.TERMINATING,
                f"The CompletionWindow ({job.completion_window}) expired; stopping the job.",
                self.clock(),
            )
        self._finish(job, self._load(job), stop)

    def _check(self, job: Job) -> _Stop | None:
        """Whether to stop between chunks, and why."""
        if self.shutdown.is_set():
            return _Stop.SHUTDOWN
        if self.lease_lost(job.id):
            return _Stop.LOST
        if self.clock() >= deadline(job, self.config.time_speed):
            return _Stop.EXPIRED
        current = self.jobs.get_any(job.id)
        if current is None or current.phase == phases.TERMINATING:
            return _Stop.STOPPED
        return None

    def _termination_cause(self, job: Job) -> _Stop:
        expired = self.clock() >= deadline(job, self.config.time_speed)
        return _Stop.EXPIRED if expired else _Stop.STOPPED

    def _validate(self, job: Job) -> _Stop | None:
        check_output_location(job)
        self.progress.save(Progress(job.id), self.lease)
        # Beside the spool generations, not in one: a generation's folder existing means
        # its copy is complete (`JobSpool.adopt`).
        ids = IdIndex(self.spool_root / job.id / f"ids-{self.lease.epoch}.sqlite3")
        digest = InputDigest()
        try:
            total, stop = validate_input(
                digest.feed(numbered_lines(self.objects, job)), ids, lambda: self._check(job)
            )
        finally:
            ids.remove()
        if stop is not None:
            return stop
        self.progress.save(
            Progress(job.id, stage=RUNNING, total=total, input_digest=digest.hexdigest()),
            self.lease,
        )
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

    def _check_input_unchanged_since_validation(self, job: Job, state: Progress) -> _Stop | None:
        """Before a run continues past lines already processed (a Resume, or a takeover
        after a crash), read the input once more and fail the job if it is not the file
        validation read: its new lines would be mixed with the old ones' output."""
        if not state.next_line or not state.input_digest:
            return None
        digest = InputDigest()
        for line_no, _raw in digest.feed(numbered_lines(self.objects, job)):
            if line_no % _VERIFY_BATCH == 0:
                stop = self._check(job)
                if stop is not None:
                    return stop
        if digest.hexdigest() != state.input_digest:
            raise ExecutionError(
                f"The input file {_input(job)} changed after the job started: it is not "
                f"the file whose first {state.completed + state.failed} requests were "
                "processed."
            )
        return None

    def _execute(self, job: Job, state: Progress) -> _Stop | None:
        spool = self._spool(job.id)
        spool.open(state.results_bytes, state.errors_bytes)
        pushed = 0.0
        try:
            pending: list[tuple[int, bytes]] = []
            line_no = 0
            for line_no, raw in numbered_lines(self.objects, job):
                if line_no <= state.next_line or is_blank(raw, line_no):
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
            if line_no < state.next_line:
                raise ExecutionError(
                    f"The input file {_input(job)} changed since the job started: it has "
                    f"{line_no} lines, {state.next_line} had already been processed."
                )
            stop = self._check(job)
            if stop is not None:
                return stop
            self._commit(job, state, spool, pending, max(line_no, state.next_line))
            self._push_counts(job, state)
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
        """Run a chunk, spool its lines, then commit sizes, position and counts at once."""
        if state.completed + state.failed + len(pending) > state.total:
            # Lines were appended after validation: stop before counts pass Total.
            raise ExecutionError(
                "The input file changed while the job was running: "
                f"{state.total} request lines were expected, more were read."
            )
        chunk = process_chunk(job, pending, self.backend, self.pool)
        state.results_bytes, state.errors_bytes = spool.append(
            b"".join(chunk.results), b"".join(chunk.errors)
        )
        state.next_line = next_line
        state.completed += chunk.completed
        state.failed += chunk.failed
        state.prompt_tokens += chunk.prompt_tokens
        state.completion_tokens += chunk.completion_tokens
        state.total_tokens += chunk.total_tokens
        self.progress.save(state, self.lease)

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

    def _finish(self, job: Job, state: Progress, stop: _Stop | None) -> None:
        """Publish the spooled lines, then move the job to its terminal phase."""
        self._publish_spool(job, state)
        now = self.clock()
        if stop is None and self.jobs.transition_from(
            job.id, (phases.RUNNING,), phases.COMPLETED, _completed_message(state), now
        ):
            self._forget(job.id)
            return
        # Stopped, or a Stop arrived after the last line ran. The progress and spool stay
        # so that ResumeBatchInferenceJob runs only the lines without a result.
        cause = stop or self._termination_cause(job)
        self.jobs.transition(job.id, phases.TERMINATED, _terminated_message(job, state, cause), now)

    def _publish_spool(self, job: Job, state: Progress) -> None:
        """Upload the committed results and errors; set the job's counts to match them."""
        spool = self._spool(job.id)
        results_key, errors_key = output_keys(job)
        # Publishing twice writes the same bytes (the spool is cut to the committed
        # sizes), so a former owner racing this one cannot change the output.
        self.progress.renew(self.lease)
        spool.adopt(state.results_bytes, state.errors_bytes)
        try:
            if state.results_bytes:
                self._publish(spool.results_path, state.results_bytes, job, results_key)
            if state.errors_bytes:
                self._publish(spool.errors_path, state.errors_bytes, job, errors_key)
        except PermanentStorageError as exc:
            raise ExecutionError(
                f"The output could not be written to tos://{job.output_bucket}: {exc}"
            ) from None
        self.progress.renew(self.lease)
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

    def _publish(self, path: Path, size: int, job: Job, key: str) -> None:
        # A previous run may have been killed after spooling beyond the commit point.
        with path.open("r+b") as handle:
            handle.truncate(size)
        self.objects.upload_file(job.output_bucket, key, path)

    def _fail(self, job: Job, message: str, *, keep_progress: bool = False) -> None:
        """End the job Failed.

        ``keep_progress`` (the input is missing or unreadable, which may pass): requests
        already run are published and their progress kept, so a Resume once the input
        is back continues after them. Otherwise the progress goes (a Resume runs from
        the start) and the counts are reset to 0, saying whether earlier output exists.
        """
        try:
            self.progress.renew(self.lease)
        except LeaseLostError:
            return
        message = _sentence(message)
        state = self.progress.load(job.id)
        if keep_progress and state is not None and state.stage == RUNNING and state.next_line:
            try:
                self._publish_spool(job, state)
            except ExecutionError as exc:  # the output cannot be written either
                message += f" {_sentence(str(exc))}"
            else:
                done = state.completed + state.failed
                message += (
                    f" The output of the {done} requests processed before was published; "
                    "ResumeBatchInferenceJob continues after them once the input file is back."
                )
                self.jobs.transition(job.id, phases.FAILED, message, self.clock())
                return
        now = self.clock()
        current = self.jobs.get_any(job.id) or job
        if current.completed or current.failed or current.total_tokens:
            self.jobs.update_job(
                job.id,
                completed=0,
                failed=0,
                prompt_tokens=0,
                completion_tokens=0,
                total_tokens=0,
                now=now,
            )
            message += self._reset_note(job)
        # The progress goes before the phase changes: the worker's start-up cleanup keeps
        # a Failed job's progress (a missing input, above), so a crash in between must
        # not leave this job Failed with it. The lease goes last, after the phase.
        JobSpool(self.spool_root / job.id).remove()
        self.progress.delete_progress(job.id)
        self.jobs.transition(job.id, phases.FAILED, message, now)
        self._forget(job.id)

    def _reset_note(self, job: Job) -> str:
        """What a Failed message says about output when the counts are reset to 0."""
        try:
            published = any(self.objects.exists(job.output_bucket, key) for key in output_keys(job))
        except StorageError as exc:
            if not is_permanent(exc):
                return " The request counts were reset to 0; a resume runs from the start."
            published = False  # the output location cannot hold an object
        if published:
            return (
                " The output published before stays at the output location; the request "
                "counts were reset to 0, and a resume runs from the start."
            )
        return " No output was published; the request counts were reset to 0."

    def _forget(self, job_id: str) -> None:
        JobSpool(self.spool_root / job_id).remove()
        self.progress.delete(job_id)

    def _spool(self, job_id: str) -> JobSpool:
        return JobSpool(self.spool_root / job_id, self.lease.epoch)


def _sentence(text: str) -> str:
    """``text`` ended with a full stop, so that a sentence can follow it."""
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _input(job: Job) -> str:
    return f"tos://{job.input_bucket}/{job.input_key}"


def _check_input_unchanged(state: Progress) -> None:
    """Fail the job if the execute pass did not see the requests validation counted.

    The input is read twice (and again on every resume); an object overwritten in
    between would otherwise end `Completed` with Completed + Failed != Total.
    """
    done = state.completed + state.failed
    if done != state.total:
        raise ExecutionError(
            "The input file changed while the job was running: "
            f"{state.total} request lines were expected, {done} were read."
        )


def _tally(state: Progress) -> str:
    return f"{state.completed} succeeded, {state.failed} failed"


def _completed_message(state: Progress) -> str:
    done = state.completed + state.failed
    return f"The job completed: {done} of {state.total} requests processed ({_tally(state)})."


def _terminated_message(job: Job, state: Progress, stop: _Stop) -> str:
    if stop is _Stop.EXPIRED:
        cause = f"The CompletionWindow ({job.completion_window}) expired"
    else:
        cause = "The job was stopped"
    if state.total == 0:
        return f"{cause} before any request ran."
    done = state.completed + state.failed
    return (
        f"{cause}: {done} of {state.total} requests were processed ({_tally(state)}); "
        f"the other {state.total - done} were cancelled."
    )
