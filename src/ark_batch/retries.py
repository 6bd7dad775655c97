"""Retry policy: exponential backoff with full jitter, ``Retry-After``, per-action rules.

One small module instead of a retry library (stamina/tenacity): the rules are specific
(Create is retried only when no second job can result), the sleep and clock must be
injectable for tests, the same loop must serve sync and async, and it adds no dependency
or import cost to ``import ark_batch``.

What is retried (see :func:`is_retryable`):

* Get and List (idempotent reads): throttling (429), every 5xx (documented or not),
  transport errors (connection refused/reset, timeouts).
* Stop, Update and Delete (idempotent, decision 0012): as Get and List. A Delete retry
  answered NotFound counts as done: an earlier attempt deleted the job.
* Create and Resume: only errors where the service cannot have created or resumed a
  job: the connection could not be opened (:class:`~ark_batch.errors.ConnectError`) or
  the request was throttled (429 ``FlowLimitExceeded`` is answered before the action
  runs; switch this off with ``RetryPolicy(retry_throttled_create=False)``). Never
  after a 5xx or a timeout once the request may have been sent. Separately, the facade
  turns ``OperationDenied.ActiveJobExists`` into the Id of the job already running.

Each retry is logged on the ``ark_batch`` logger (action, attempt, wait, error; the
error text never holds a credential). Every attempt goes through ``httpx`` again,
so :class:`~ark_batch.auth.VolcengineAuth` signs it afresh with a new ``X-Date``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace

from ark_batch._api import IDEMPOTENT_ACTIONS
from ark_batch.errors import (
    ConnectError,
    ServerError,
    ThrottledError,
    TransportError,
    UnexpectedResponseError,
)

__all__ = [
    "DEFAULT_RETRY",
    "IDEMPOTENT_ACTIONS",
    "NO_RETRY",
    "RetryPolicy",
    "is_retryable",
    "next_delay",
]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry.

    The wait before retry ``n`` (1-based) is uniform in ``[0, min(max_backoff,
    initial_backoff * multiplier ** (n - 1))]`` (full jitter), or the server's
    ``Retry-After`` when present (a longer ``Retry-After`` than ``max_retry_after`` fails
    at once). No retry starts past ``total_timeout`` seconds after the first attempt
    began; without a per-call ``deadline``, ``total_timeout`` is also the call's deadline.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    multiplier: float = 2.0
    total_timeout: float | None = 60.0
    respect_retry_after: bool = True
    max_retry_after: float = 30.0
    #: Retry a Create answered 429. A throttled request is rejected before the action
    #: runs, so it cannot have created a job; set False to retry Create only after a
    #: refused connection.
    retry_throttled_create: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("backoffs must be >= 0 and multiplier >= 1")

    def with_(
        self,
        *,
        max_attempts: int | None = None,
        initial_backoff: float | None = None,
        max_backoff: float | None = None,
        total_timeout: float | None = None,
    ) -> RetryPolicy:
        """A copy with the given fields changed."""
        changes: dict[str, float | int] = {}
        if max_attempts is not None:
            changes["max_attempts"] = max_attempts
        if initial_backoff is not None:
            changes["initial_backoff"] = initial_backoff
        if max_backoff is not None:
            changes["max_backoff"] = max_backoff
        if total_timeout is not None:
            changes["total_timeout"] = total_timeout
        return replace(self, **changes)  # type: ignore[arg-type]

    def backoff(self, retry_number: int, rng: Callable[[], float] = random.random) -> float:
        """Full-jitter exponential backoff before retry ``retry_number`` (1-based)."""
        ceiling = min(
            self.max_backoff, self.initial_backoff * self.multiplier ** (retry_number - 1)
        )
        return ceiling * rng()


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(max_attempts=1)


def is_retryable(action: str, error: BaseException, *, throttled_create: bool = True) -> bool:
    """Whether ``error`` from ``action`` may be retried without side effects.

    ``throttled_create`` is :attr:`RetryPolicy.retry_throttled_create`.
    """
    if isinstance(error, ThrottledError):
        return throttled_create or action in IDEMPOTENT_ACTIONS
    if action in IDEMPOTENT_ACTIONS:
        if isinstance(error, ServerError | TransportError):
            return True
        if isinstance(error, UnexpectedResponseError):
            return error.status >= 500 or error.status == 429
        return False
    # Create, Resume (and any unknown action): only when nothing can have been started.
    if isinstance(error, UnexpectedResponseError):
        return throttled_create and error.status == 429
    return isinstance(error, ConnectError) and not error.sent


def next_delay(
    policy: RetryPolicy,
    action: str,
    error: BaseException,
    attempt: int,
    started: float,
    now: float,
    deadline: float | None = None,
) -> float | None:
    """The wait before attempt ``attempt + 1``, or None to give up.

    Gives up when the error is not retryable, the attempts are spent, the server asks
    for a longer pause than ``max_retry_after`` (waiting less would only be refused
    again), or the next attempt would start past ``total_timeout`` or ``deadline``
    (a clock reading).
    """
    if attempt >= policy.max_attempts or not is_retryable(
        action, error, throttled_create=policy.retry_throttled_create
    ):
        return None
    hint = getattr(error, "retry_after", None)
    if policy.respect_retry_after and isinstance(hint, int | float):
        if hint > policy.max_retry_after:
            return None
        delay = float(hint)
    else:
        delay = policy.backoff(attempt)
    if policy.total_timeout is not None and now + delay - started > policy.total_timeout:
        return None
    if deadline is not None and now + delay >= deadline:
        return None
    return delay
