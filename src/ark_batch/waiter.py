"""Wait for a job to reach a terminal phase (sync and async).

Polls ``get(job_id)`` every ``poll_interval`` seconds. ``on_update(status,
request_counts)`` is called with the first state seen and then whenever the phase,
status message or any request count changes. Terminal phases are ``Completed``,
``Failed`` and ``Terminated``; unknown phases (e.g. ``Initializing``) count as not done.

* ``Completed`` returns the job.
* ``Failed``/``Terminated`` raise :class:`~ark_batch.errors.JobFailedError` carrying the
  server's ``Status.Message``, unless ``raise_on_failure=False`` (then the job is
  returned).
* Still not terminal after ``timeout`` seconds: :class:`~ark_batch.errors.WaitTimeoutError`
  with the last job seen. The last poll happens at the deadline, not one interval later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from ark_batch._actions import FAILED_PHASES, TERMINAL_PHASES
from ark_batch.errors import JobFailedError, WaitTimeoutError
from ark_batch_client.models import BatchInferenceJob, JobStatus, RequestCounts

__all__ = ["OnUpdate", "async_wait_for_job", "is_terminal", "wait_for_job"]

OnUpdate = Callable[[JobStatus, RequestCounts], object]


def is_terminal(job: BatchInferenceJob) -> bool:
    """Whether the job's phase is Completed, Failed or Terminated."""
    return job.status.phase in TERMINAL_PHASES


def _fingerprint(job: BatchInferenceJob) -> tuple[object, ...]:
    counts = job.request_counts
    return (job.status.phase, job.status.message, counts.total, counts.completed, counts.failed)


class _Progress:
    __slots__ = ("deadline", "last", "on_update", "raise_on_failure", "timeout")

    def __init__(
        self,
        timeout: float | None,
        now: float,
        on_update: OnUpdate | None,
        raise_on_failure: bool,
    ) -> None:
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0")
        self.timeout = timeout
        self.deadline = None if timeout is None else now + timeout
        self.on_update = on_update
        self.raise_on_failure = raise_on_failure
        self.last: tuple[object, ...] | None = None

    def observe(self, job: BatchInferenceJob, now: float, poll_interval: float) -> float | None:
        """Report ``job``; return the sleep before the next poll, or None when done."""
        fingerprint = _fingerprint(job)
        if fingerprint != self.last:
            self.last = fingerprint
            if self.on_update is not None:
                self.on_update(job.status, job.request_counts)
        if is_terminal(job):
            if self.raise_on_failure and job.status.phase in FAILED_PHASES:
                raise JobFailedError(job)
            return None
        if self.deadline is None:
            return poll_interval
        remaining = self.deadline - now
        if remaining <= 0:
            assert self.timeout is not None
            raise WaitTimeoutError(job, self.timeout)
        return min(poll_interval, remaining)


def wait_for_job(
    get: Callable[[str], BatchInferenceJob],
    job_id: str,
    *,
    poll_interval: float = 5.0,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    raise_on_failure: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BatchInferenceJob:
    """Poll until the job is terminal; see the module docstring."""
    if poll_interval <= 0:
        raise ValueError("poll_interval must be > 0")
    progress = _Progress(timeout, clock(), on_update, raise_on_failure)
    while True:
        job = get(job_id)
        delay = progress.observe(job, clock(), poll_interval)
        if delay is None:
            return job
        sleep(delay)


async def async_wait_for_job(
    get: Callable[[str], Awaitable[BatchInferenceJob]],
    job_id: str,
    *,
    poll_interval: float = 5.0,
    timeout: float | None = None,  # noqa: ASYNC109  # raises WaitTimeoutError(job)
    on_update: OnUpdate | None = None,
    raise_on_failure: bool = True,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BatchInferenceJob:
    """The async twin of :func:`wait_for_job`."""
    if poll_interval <= 0:
        raise ValueError("poll_interval must be > 0")
    progress = _Progress(timeout, clock(), on_update, raise_on_failure)
    while True:
        job = await get(job_id)
        delay = progress.observe(job, clock(), poll_interval)
        if delay is None:
            return job
        await sleep(delay)
