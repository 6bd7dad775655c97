"""Wait for a job to reach a terminal phase: one flow for the sync and async facades.

Polls the job every ``poll_interval`` seconds. ``on_update(job)`` is called with the
first state seen and then whenever the phase, status message or any request count
changes. With ``update_every`` (seconds) it paces itself for logs instead: a phase
change is reported at once, anything else (changed or not) once ``update_every`` has
passed since the last report, so a long wait shows steady signs of life. Terminal
phases are ``Completed``, ``Failed`` and ``Terminated``; unknown phases (e.g.
``Initializing``) count as not done.

* ``Completed`` returns the job.
* ``Failed``/``Terminated`` raise :class:`~ark_batch.errors.JobFailedError` carrying the
  server's ``Status.Message``, unless ``raise_on_failure=False`` (then the job is
  returned).
* ``timeout`` is a deadline. Each poll's own deadline is capped by the time left;
  transient errors (throttling, 5xx, network, the poll's deadline) are retried with
  backoff until it passes. Then :class:`~ark_batch.errors.WaitTimeoutError` carries
  the last job seen and the last error. The last poll happens at the deadline, not one
  interval later. Without a timeout, a poll that fails after its own retries raises.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from ark_batch._api import FAILED_PHASES, GET, TERMINAL_PHASES
from ark_batch._flow import Flow, Sleep
from ark_batch.errors import (
    ApiError,
    JobFailedError,
    TransportError,
    UnexpectedResponseError,
    WaitTimeoutError,
)
from ark_batch.retries import RetryPolicy, is_retryable
from ark_batch_client.models import BatchInferenceJob

__all__ = ["OnUpdate", "is_terminal", "wait_flow"]

logger = logging.getLogger("ark_batch")

#: Called with the job whenever its state changes. A callable taking two arguments is
#: called the older way, with ``(job.status, job.request_counts)``.
OnUpdate = Callable[[BatchInferenceJob], object] | Callable[[Any, Any], object]

#: Seconds between two log lines about the same failing wait.
_LOG_EVERY = 30.0


def is_terminal(job: BatchInferenceJob) -> bool:
    """Whether the job's phase is Completed, Failed or Terminated."""
    return job.status.phase in TERMINAL_PHASES


def _fingerprint(job: BatchInferenceJob) -> tuple[object, ...]:
    counts = job.request_counts
    return (job.status.phase, job.status.message, counts.total, counts.completed, counts.failed)


def _notifier(on_update: OnUpdate | None) -> Callable[[BatchInferenceJob], object] | None:
    if on_update is None:
        return None
    try:
        parameters = inspect.signature(on_update).parameters.values()
    except (TypeError, ValueError):
        return on_update  # type: ignore[return-value]
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) == 2:
        legacy: Callable[[Any, Any], object] = on_update  # type: ignore[assignment]
        return lambda job: legacy(job.status, job.request_counts)
    return on_update  # type: ignore[return-value]


class _Progress:
    __slots__ = (
        "deadline",
        "every",
        "job",
        "job_id",
        "last",
        "logged",
        "notified",
        "notify",
        "raise_on_failure",
        "timeout",
    )

    def __init__(
        self,
        job_id: str,
        timeout: float | None,
        now: float,
        on_update: OnUpdate | None,
        raise_on_failure: bool,
        update_every: float | None = None,
    ) -> None:
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0")
        if update_every is not None and update_every <= 0:
            raise ValueError("update_every must be > 0")
        self.every = update_every
        self.notified: float | None = None
        self.job_id = job_id
        self.timeout = timeout
        self.deadline = None if timeout is None else now + timeout
        self.notify = _notifier(on_update)
        self.raise_on_failure = raise_on_failure
        self.last: tuple[object, ...] | None = None
        self.job: BatchInferenceJob | None = None
        self.logged: float | None = None

    def observe(self, job: BatchInferenceJob, now: float, poll_interval: float) -> float | None:
        """Report ``job``; return the sleep before the next poll, or None when done."""
        self.job = job
        if self._due(_fingerprint(job), now) and self.notify is not None:
            self.notified = now
            self.notify(job)
        if is_terminal(job):
            if self.raise_on_failure and job.status.phase in FAILED_PHASES:
                raise JobFailedError(job)
            return None
        return self._pause(poll_interval, now, None)

    def _due(self, fingerprint: tuple[object, ...], now: float) -> bool:
        """Whether ``on_update`` should see the job now (see the module docstring)."""
        last, self.last = self.last, fingerprint
        if self.every is None or last is None or self.notified is None:
            return fingerprint != last
        if fingerprint[0] != last[0]:  # the phase
            return True
        return now - self.notified >= self.every

    def failed(self, error: BaseException, now: float, backoff: float) -> float:
        """The pause after a failed poll; raise when the error is final or time is up."""
        if self.deadline is None or not is_retryable(GET, error):
            raise error
        if self.logged is None or now - self.logged >= _LOG_EVERY:
            self.logged = now
            logger.warning("waiting for job %s: poll failed (%s); retrying", self.job_id, error)
        delay = self._pause(backoff, now, error)
        assert delay is not None
        return delay

    def _pause(self, wanted: float, now: float, error: BaseException | None) -> float | None:
        if self.deadline is None:
            return wanted
        remaining = self.deadline - now
        if remaining <= 0:
            assert self.timeout is not None
            raise WaitTimeoutError(
                self.job, self.timeout, job_id=self.job_id, last_error=error
            ) from error
        return min(wanted, remaining)


def wait_flow(
    get: Callable[[str, float | None], Flow[BatchInferenceJob]],
    job_id: str,
    *,
    poll_interval: float = 5.0,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    raise_on_failure: bool = True,
    update_every: float | None = None,
    clock: Callable[[], float],
    policy: RetryPolicy,
) -> Flow[BatchInferenceJob]:
    """Poll ``get(job_id, deadline)`` until the job is terminal; see the module docstring."""
    if poll_interval <= 0:
        raise ValueError("poll_interval must be > 0")
    progress = _Progress(job_id, timeout, clock(), on_update, raise_on_failure, update_every)
    failures = 0
    while True:
        try:
            job = yield from get(job_id, progress.deadline)
        except (ApiError, TransportError, UnexpectedResponseError) as error:
            failures += 1
            yield Sleep(progress.failed(error, clock(), policy.backoff(failures)))
            continue
        failures = 0
        delay = progress.observe(job, clock(), poll_interval)
        if delay is None:
            return job
        yield Sleep(delay)
