"""The execution worker: a dispatcher thread that hands jobs to a bounded set of runners.

Threads rather than asyncio tasks on the server's loop: storage (boto3), SQLite and the
echo backend are all blocking or CPU-bound, and running them on the event loop would stall
the API. One dispatcher thread scans the store every ``poll_interval``; each Running job
gets its own thread (at most ``max_concurrent_jobs``), and blocking backends get a
per-job pool of ``line_concurrency`` threads.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ark_batch.emulator.app import EmulatorState
from ark_batch.emulator.config import Clock
from ark_batch.emulator.execution.leases import Lease, LeaseKeeper, new_owner_id
from ark_batch.emulator.execution.model_backends import ModelBackend, build_backend
from ark_batch.emulator.execution.progress import RUNNING as RUNNING_STAGE
from ark_batch.emulator.execution.progress import JobSpool, Progress, ProgressStore, connect
from ark_batch.emulator.execution.runner import JobRunner, deadline
from ark_batch.emulator.log_limit import RateLimitedLog
from ark_batch.emulator.phases import COMPLETED, FAILED, QUEUED, RUNNING, TERMINATING
from ark_batch.emulator.storage_faults import (
    describe_storage_error,
    is_corrupt_database,
    retry_delay,
    storage_cause,
)
from ark_batch.emulator.store import JobStore
from ark_batch.storage import LocalObjectStore, ObjectStore, open_store

if TYPE_CHECKING:
    from ark_batch.emulator.execution.config import ExecutionConfig

__all__ = ["RUNNING_MESSAGE", "ExecutionWorker", "install", "object_store_for"]

logger = logging.getLogger("ark_batch.emulator.execution")

RUNNING_MESSAGE = "The job is running."


def object_store_for(config: ExecutionConfig, data_dir: Path) -> ObjectStore:
    """The store jobs read and write: the configured one, else ``<data_dir>/objects``."""
    if config.object_store is not None:
        return config.object_store
    if config.storage_url:
        return open_store(config.storage_url)
    return LocalObjectStore(Path(data_dir) / "objects")


class ExecutionWorker:
    """Moves jobs through their lifecycle in background threads.

    `start` resumes whatever a previous process left Running or Terminating; `stop`
    leaves Running jobs as they are (durably checkpointed) for the next start. Several
    workers, in one process or many, may share a data dir: each job is worked on only
    by the holder of its lease (`leases`).
    """

    def __init__(
        self, jobs: JobStore, config: ExecutionConfig, data_dir: Path, clock: Clock
    ) -> None:
        self.config = config
        self.clock = clock
        self.objects = object_store_for(config, data_dir)
        self.owner = new_owner_id()
        self._root = Path(data_dir) / "execution"
        self._jobs_main = jobs
        self._jobs: JobStore | None = None
        self._shutdown = threading.Event()
        self._wake = threading.Event()
        self._active: dict[str, Future[None]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._keeper = LeaseKeeper(lambda: connect(self.progress_path), config.lease_seconds)
        self._backoff: dict[str, tuple[int, float]] = {}  # job -> (failures, retry at)
        self._log = RateLimitedLog(logger)

    @property
    def progress_path(self) -> Path:
        """The SQLite file of execution progress and leases."""
        return self._root / "progress.sqlite3"

    def start(self) -> None:
        """Start the dispatcher thread (idempotent)."""
        if self._thread is not None:
            return
        self._shutdown.clear()
        self._jobs = self._jobs_main.open_for_thread()
        self._pool = ThreadPoolExecutor(
            self.config.max_concurrent_jobs, thread_name_prefix="ark-batch-job"
        )
        self._keeper.start()
        self._thread = threading.Thread(
            target=self._dispatch_loop, name="ark-batch-dispatcher", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work, let runners reach a checkpoint, and join every thread.

        Leases are released, so another process on the data dir continues at once.
        """
        if self._thread is None:
            return
        self._shutdown.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._keeper.stop()
        self._release_all()
        if self._jobs is not None:
            self._jobs.close()
        self._thread = self._pool = self._jobs = None

    def wake(self) -> None:
        """Scan for work now instead of at the next poll."""
        self._wake.set()

    def active_jobs(self) -> list[str]:
        """Ids of the jobs a runner is working on right now."""
        with self._lock:
            return [job_id for job_id, future in self._active.items() if not future.done()]

    # -- dispatcher --------------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        progress: ProgressStore | None = None
        failures = 0
        try:
            while not self._shutdown.is_set():
                delay = self.config.poll_interval
                try:
                    if progress is None:
                        progress = ProgressStore(self.progress_path, self.config.lease_seconds)
                        self._cleanup_orphans(progress)
                    self._dispatch_once(progress)
                    failures = 0
                except Exception as exc:
                    if progress is None and is_corrupt_database(exc):
                        logger.error(
                            "job execution is off: execution/progress.sqlite3 in the data "
                            "dir cannot be used (%s); jobs stay Queued. Move it aside and "
                            "restart the emulator.",
                            describe_storage_error(exc),
                        )
                        return
                    failures += 1
                    delay = retry_delay(failures, self.config.poll_interval)
                    self._log_failure("dispatch", "job dispatch", exc, delay)
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            if progress is not None:
                progress.close()

    def _log_failure(self, key: str, what: str, exc: Exception, delay: float) -> None:
        cause = storage_cause(exc)
        if cause is not None:
            self._log.warning(
                "%s waits for storage (%s); retrying in %.1f s",
                what,
                describe_storage_error(cause),
                delay,
                key=key,
            )
        else:
            self._log.error("%s failed; retrying in %.1f s", what, delay, key=key, exc_info=True)

    def _dispatch_once(self, progress: ProgressStore) -> None:
        assert self._jobs is not None
        with self._lock:
            self._active = {k: f for k, f in self._active.items() if not f.done()}
        # Left behind by a process that was killed or stopped, or whose lease lapsed:
        # resume them first.
        for phase in (TERMINATING, RUNNING):
            for job in self._jobs.jobs_in_phase(phase):
                if self._shutdown.is_set():
                    return
                if self._has_capacity() and self._ready(job.id):
                    lease = progress.claim(job.id, self.owner)
                    if lease is not None:
                        self._submit(lease)
        now = self.clock()
        for job in self._jobs.jobs_in_phase(QUEUED):
            if self._shutdown.is_set():
                return
            expired = now >= deadline(job, self.config.time_speed)
            if not expired and not self._has_capacity():
                continue
            lease = progress.claim(job.id, self.owner)
            if lease is None:
                continue
            if expired:
                self._jobs.transition(
                    job.id,
                    TERMINATING,
                    f"The CompletionWindow ({job.completion_window}) expired while the "
                    "job was queued; stopping the job.",
                    now,
                )
                # Finished here, not in the pool: nothing ran and nothing is spooled, so
                # it is quick, and a long job holding every slot must not keep it
                # Terminating for hours.
                self._keeper.hold(lease)
                self._run_job(lease)
            elif self._jobs.transition_from(job.id, (QUEUED,), RUNNING, RUNNING_MESSAGE, now):
                self._submit(lease)
            else:
                # A StopBatchInferenceJob moved it meanwhile; a later pass takes it up in
                # its new phase.
                progress.release(lease)

    def _ready(self, job_id: str) -> bool:
        """Not ours already, and not backing off after a storage failure."""
        with self._lock:
            if job_id in self._active:
                return False
        backoff = self._backoff.get(job_id)
        return backoff is None or time.monotonic() >= backoff[1]

    def _has_capacity(self) -> bool:
        with self._lock:
            busy = sum(1 for future in self._active.values() if not future.done())
        return busy < self.config.max_concurrent_jobs

    def _submit(self, lease: Lease) -> None:
        with self._lock:
            if lease.job_id in self._active or self._pool is None:
                return
            self._keeper.hold(lease)
            future = self._pool.submit(self._run_job, lease)
            self._active[lease.job_id] = future
        future.add_done_callback(lambda _: self._wake.set())

    def _run_job(self, lease: Lease) -> None:
        job_id = lease.job_id
        progress: ProgressStore | None = None
        backend: ModelBackend | None = None
        pool: ThreadPoolExecutor | None = None
        try:
            if self._shutdown.is_set():
                return
            assert self._jobs is not None
            progress = ProgressStore(self.progress_path, self.config.lease_seconds)
            backend = build_backend(self.config)
            if backend.blocking:
                pool = ThreadPoolExecutor(
                    self.config.line_concurrency, thread_name_prefix="ark-batch-line"
                )
            JobRunner(
                jobs=self._jobs,
                progress=progress,
                objects=self.objects,
                backend=backend,
                config=self.config,
                spool_root=self._root / "spool",
                clock=self.clock,
                shutdown=self._shutdown,
                pool=pool,
                lease_lost=self._keeper.lost,
            ).run(lease)
            self._backoff.pop(job_id, None)
        except Exception as exc:
            # Storage that failed for a while (full, read-only): the job keeps its phase,
            # progress and spool, and is retried after a growing delay.
            failures = self._backoff.get(job_id, (0, 0.0))[0] + 1
            delay = retry_delay(failures)
            self._backoff[job_id] = (failures, time.monotonic() + delay)
            self._log_failure(f"job:{job_id}", f"job {job_id}", exc, delay)
        finally:
            self._keeper.drop(job_id)
            if pool is not None:
                pool.shutdown(wait=True)
            if backend is not None:
                backend.close()
            if progress is not None:
                with contextlib.suppress(sqlite3.Error):
                    progress.release(lease)
                progress.close()

    def _release_all(self) -> None:
        """Release leases claimed but never run (their futures were cancelled)."""
        leases = self._keeper.held()
        if not leases:
            return
        with contextlib.suppress(sqlite3.Error):
            progress = ProgressStore(self.progress_path, self.config.lease_seconds)
            try:
                for lease in leases:
                    progress.release(lease)
                    self._keeper.drop(lease.job_id)
            finally:
                progress.close()

    def _cleanup_orphans(self, progress: ProgressStore) -> None:
        """Drop progress, leases and spools of jobs that ended (or vanished) meanwhile."""
        assert self._jobs is not None
        spool_root = self._root / "spool"
        known = set(progress.job_ids())
        if spool_root.is_dir():
            known.update(path.name for path in spool_root.iterdir())
        for job_id in known:
            job = self._jobs.get_any(job_id)
            # A Terminated job keeps its progress: Resume continues from it. So does a
            # Failed one whose run kept it (its input went missing, JobRunner._fail).
            if (
                job is None
                or job.phase == COMPLETED
                or (job.phase == FAILED and not _resumable(progress.load(job_id)))
            ):
                progress.delete(job_id)
                JobSpool(spool_root / job_id).remove()


def _resumable(state: Progress | None) -> bool:
    return state is not None and state.stage == RUNNING_STAGE and state.next_line > 0


def install(state: EmulatorState, config: ExecutionConfig) -> ExecutionWorker | None:
    """Register a worker on the app's lifespan: started with the server, stopped with it.

    Returns the worker (None when execution is disabled).
    """
    # Resume refuses a job whose window has ended in emulated time too.
    state.backend.lifecycle.window_end = lambda job: deadline(job, config.time_speed)
    if not config.enabled:
        return None
    emulator = state.config
    worker = ExecutionWorker(state.store, config, emulator.data_dir, emulator.clock)
    state.startup_hooks.append(lambda _state: worker.start())
    state.shutdown_hooks.append(lambda _state: worker.stop())
    return worker
