"""Business rules of Stop, Resume, Update and Delete, on top of :class:`JobStore`.

Input is a body already validated against the spec; output is the API-shaped ``Result``.
The choices the service's documents leave open are recorded in docs/decisions/0011.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ark_batch.emulator.config import AccountCredential, Clock
from ark_batch.emulator.phases import (
    DELETABLE_PHASES,
    QUEUED,
    RESUMABLE_PHASES,
    STOPPABLE_PHASES,
    STOPPED_PHASES,
    TERMINATING,
)
from ark_batch.emulator.protocol import (
    EnvelopeError,
    active_job_error,
    dry_run_error,
    not_found_error,
)
from ark_batch.emulator.store import DuplicateActiveJobError, Job, JobStore

__all__ = [
    "DELETABLE_PHASES",
    "RESUMABLE_PHASES",
    "RESUMED_MESSAGE",
    "STOPPABLE_PHASES",
    "STOPPING_MESSAGE",
    "Lifecycle",
]


STOPPING_MESSAGE = "The job was stopped by StopBatchInferenceJob and is stopping."
RESUMED_MESSAGE = "The job was resumed by ResumeBatchInferenceJob and is queued."
# A phase that changes between our read and our conditional write (the worker moving the
# job on) is read again; a few rounds are plenty, since every phase move is one-way.
_ROUNDS = 4


def _phase_error(job: Job, allowed: tuple[str, ...], verb: str) -> EnvelopeError:
    return EnvelopeError(
        "OperationDenied.InvalidJobPhase",
        f"The batch inference job {job.id} is {job.phase}; only a "
        f"{_either(allowed)} job can be {verb}.",
    )


def _either(phases: tuple[str, ...]) -> str:
    return phases[0] if len(phases) == 1 else f"{', '.join(phases[:-1])} or {phases[-1]}"


class Lifecycle:
    """The four lifecycle actions for one store. Methods raise :class:`EnvelopeError`."""

    def __init__(self, store: JobStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        #: When a job's CompletionWindow ends; job execution replaces it with one that
        #: applies ``--time-speed`` (`execution.runner.deadline`).
        self.window_end: Callable[[Job], datetime] = lambda job: job.expire_time

    def handlers(self) -> dict[str, Any]:
        """Action name -> handler, for :attr:`Backend.handlers`."""
        return {
            "StopBatchInferenceJob": self.stop,
            "ResumeBatchInferenceJob": self.resume,
            "UpdateBatchInferenceJob": self.update,
            "DeleteBatchInferenceJob": self.delete,
        }

    def _job(self, account: AccountCredential, job_id: str) -> Job:
        job = self.store.get(account.account_id, job_id)
        if job is None:
            raise not_found_error(job_id)
        return job

    def stop(self, account: AccountCredential, body: dict[str, Any]) -> dict[str, Any]:
        """StopBatchInferenceJob: Queued/Running -> Terminating; ``{}``."""
        dry_run = bool(body.get("DryRun", False))
        for _ in range(_ROUNDS):
            job = self._job(account, body["Id"])
            if job.phase in STOPPED_PHASES:
                if dry_run:
                    raise dry_run_error()
                return {}
            if job.phase not in STOPPABLE_PHASES:
                raise _phase_error(job, STOPPABLE_PHASES, "stopped")
            if dry_run:
                raise dry_run_error()
            if self.store.transition_from(
                job.id,
                STOPPABLE_PHASES,
                TERMINATING,
                STOPPING_MESSAGE,
                self.clock(),
                account_id=account.account_id,
            ):
                return {}
        raise EnvelopeError("InternalError", "The job's phase kept changing; try again.")

    def resume(self, account: AccountCredential, body: dict[str, Any]) -> dict[str, Any]:
        """ResumeBatchInferenceJob: Terminated/Failed -> Queued; ``{"Id": ...}``."""
        for _ in range(_ROUNDS):
            job = self._job(account, body["Id"])
            if job.phase not in RESUMABLE_PHASES:
                raise _phase_error(job, RESUMABLE_PHASES, "resumed")
            now = self.clock()
            if now >= self.window_end(job):
                raise EnvelopeError(
                    "OperationDenied.CompletionWindowExpired",
                    f"The batch inference job {job.id} cannot be resumed: its "
                    f"CompletionWindow ({job.completion_window}) ended at its ExpireTime.",
                )
            try:
                moved = self.store.transition_from(
                    job.id,
                    RESUMABLE_PHASES,
                    QUEUED,
                    RESUMED_MESSAGE,
                    now,
                    account_id=account.account_id,
                )
            except DuplicateActiveJobError as exc:
                raise active_job_error(exc.job_id) from None
            if moved:
                return {"Id": job.id}
        raise EnvelopeError("InternalError", "The job's phase kept changing; try again.")

    def update(self, account: AccountCredential, body: dict[str, Any]) -> dict[str, Any]:
        """UpdateBatchInferenceJob: Name and/or Description; ``{}``."""
        # The job first: the spec cannot require "Name or Description" without breaking
        # the generated client (decision 0011), so an unknown Id is the first answer.
        job = self._job(account, body["Id"])
        name = body.get("Name")
        description = body.get("Description")
        if name is None and description is None:
            raise EnvelopeError(
                "MissingParameter", "The parameter Name or Description is required."
            )
        if body.get("DryRun", False):
            raise dry_run_error()
        if not self.store.rename(
            account.account_id, job.id, self.clock(), name=name, description=description
        ):
            raise not_found_error(job.id)  # deleted between the read and the write
        return {}

    def delete(self, account: AccountCredential, body: dict[str, Any]) -> dict[str, Any]:
        """DeleteBatchInferenceJob: an ended job disappears; its output objects stay; ``{}``."""
        for _ in range(_ROUNDS):
            job = self._job(account, body["Id"])
            if job.phase not in DELETABLE_PHASES:
                raise _phase_error(job, DELETABLE_PHASES, "deleted")
            if body.get("DryRun", False):
                raise dry_run_error()
            if self.store.delete(account.account_id, job.id, DELETABLE_PHASES):
                return {}
        raise EnvelopeError("InternalError", "The job's phase kept changing; try again.")
