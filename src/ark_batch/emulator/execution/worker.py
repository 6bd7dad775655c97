"""The execution worker: a dispatcher thread that hands jobs to a bounded set of runners.

Threads rather than asyncio tasks on the server's loop: storage (boto3), SQLite and the
echo backend are all blocking or CPU-bound, and running them on the event loop would stall
the API. One dispatcher thread scans the store every ``poll_interval``; each Running job
gets its own thread (at most ``max_concurrent_jobs``), and blocking backends get a
per-job pool of ``line_concurrency`` threads.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ark_batch.emulator.app import EmulatorState
from ark_batch.emulator.config import Clock
from ark_batch.emulator.execution.config import ExecutionConfig
from ark_batch.emulator.execution.models import build_backend
from ark_batch.emulator.execution.progress import JobSpool, ProgressStore
from ark_batch.emulator.execution.runner import JobRunner, deadline
from ark_batch.emulator.store import JobStore
from ark_batch.storage import LocalObjectStore, ObjectStore, open_store

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
    leaves Running jobs as they are (durably checkpointed) for the next start.
    """

    def __init__(
        self, jobs: JobStore, config: ExecutionConfig, data_dir: Path, clock: Clock
    ) -> None:
        self.config = config
        self.clock = clock
        self.objects = object_store_for(config, data_dir)
        self._root = Path(data_dir) / "execution"
        self._jobs_main = jobs
        self._jobs: JobStore | None = None
        self._shutdown = threading.Event()
        self._wake = threading.Event()
        self._active: dict[str, Future[None]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def progress_path(self) -> Path:
        """The SQLite file of execution progress."""
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
        self._thread = threading.Thread(
            target=self._dispatch_loop, name="ark-batch-dispatcher", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work, let runners reach a checkpoint, and join every thread."""
        if self._thread is None:
            return
        self._shutdown.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
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
        self._cleanup_orphans()
        while not self._shutdown.is_set():
            try:
                self._dispatch_once()
            except Exception:
                logger.exception("job dispatch failed; retrying")
            self._wake.wait(self.config.poll_interval)
            self._wake.clear()

    def _dispatch_once(self) -> None:
        assert self._jobs is not None
        with self._lock:
            self._active = {k: f for k, f in self._active.items() if not f.done()}
        # Left behind by a previous process (killed or stopped): resume them first.
        for phase in ("Terminating", "Running"):
            for job in self._jobs.jobs_in_phase(phase):
                self._submit(job.id)
        now = self.clock()
        for job in self._jobs.jobs_in_phase("Queued"):
            if self._shutdown.is_set():
                return
            if now >= deadline(job, self.config.time_speed):
                self._jobs.transition(
                    job.id,
                    "Terminating",
                    f"The CompletionWindow ({job.completion_window}) expired while the "
                    "job was queued; stopping the job.",
                    now,
                )
                # Finished here, not in the pool: nothing ran and nothing is spooled, so
                # it is quick, and a long job holding every slot must not keep it
                # Terminating for hours.
                self._run_job(job.id)
            elif self._has_capacity() and self._jobs.transition_from(
                job.id, ("Queued",), "Running", RUNNING_MESSAGE, now
            ):
                # Conditional: a StopBatchInferenceJob may have moved it meanwhile.
                self._submit(job.id)

    def _has_capacity(self) -> bool:
        with self._lock:
            busy = sum(1 for future in self._active.values() if not future.done())
        return busy < self.config.max_concurrent_jobs

    def _submit(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._active or self._pool is None:
                return
            future = self._pool.submit(self._run_job, job_id)
            self._active[job_id] = future
        future.add_done_callback(lambda _: self._wake.set())

    def _run_job(self, job_id: str) -> None:
        if self._shutdown.is_set():
            return
        assert self._jobs is not None
        backend = build_backend(self.config)
        progress = ProgressStore(self.progress_path)
        pool = (
            ThreadPoolExecutor(self.config.line_concurrency, thread_name_prefix="ark-batch-line")
            if backend.blocking
            else None
        )
        try:
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
            ).run(job_id)
        except Exception:
            logger.exception("runner for job %s crashed", job_id)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
            backend.close()
            progress.close()

    def _cleanup_orphans(self) -> None:
        """Drop progress and spools of jobs that ended (or vanished) while we were down."""
        assert self._jobs is not None
        progress = ProgressStore(self.progress_path)
        spool_root = self._root / "spool"
        try:
            known = set(progress.job_ids())
            if spool_root.is_dir():
                known.update(path.name for path in spool_root.iterdir())
            for job_id in known:
                job = self._jobs.get_any(job_id)
                # A Terminated job keeps its progress: Resume continues from it.
                if job is None or job.phase in ("Completed", "Failed"):
                    progress.delete(job_id)
                    JobSpool(spool_root / job_id).remove()
        finally:
            progress.close()


def install(state: EmulatorState, config: ExecutionConfig) -> ExecutionWorker | None:
    """Register a worker on the app's lifespan: started with the server, stopped with it.

    Returns the worker (None when execution is disabled).
    """
    if not config.enabled:
        return None
    emulator = state.config
    worker = ExecutionWorker(state.store, config, emulator.data_dir, emulator.clock)
    state.startup_hooks.append(lambda _state: worker.start())
    state.shutdown_hooks.append(lambda _state: worker.stop())
    return worker
