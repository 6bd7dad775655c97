"""The phases the emulator's own logic names, each checked against the spec at import.

The spec lists the phases a job can be in (``JobPhase``); it does not say what they
mean: which one a new job starts in, which ones hold the one-active-job rule, which ones
end a job, or which ones each lifecycle action accepts. That meaning is the emulator's
behaviour, so it is written once, here (decision 0024). A spec that drops or renames one
of these phases fails the import, naming it, instead of leaving a phase nothing enters.
"""

from __future__ import annotations

from typing import Final

from ark_batch.spec import default_registry

__all__ = [
    "ACTIVE_PHASES",
    "COMPLETED",
    "DELETABLE_PHASES",
    "ENDED_PHASES",
    "FAILED",
    "QUEUED",
    "RESUMABLE_PHASES",
    "RUNNING",
    "STOPPABLE_PHASES",
    "STOPPED_PHASES",
    "TERMINATED",
    "TERMINATING",
]


_KNOWN = default_registry().document().phases


def _phase(name: str) -> str:
    if name not in _KNOWN:
        raise RuntimeError(f"the newest spec document's JobPhase has no {name!r} phase")
    return name


QUEUED: Final = _phase("Queued")
RUNNING: Final = _phase("Running")
COMPLETED: Final = _phase("Completed")
FAILED: Final = _phase("Failed")
TERMINATING: Final = _phase("Terminating")
TERMINATED: Final = _phase("Terminated")

#: One job per (account, project, input) may be in these (the idempotency rule).
ACTIVE_PHASES: Final = (QUEUED, RUNNING)
#: Phases that end a job: nothing runs it until a Resume.
ENDED_PHASES: Final = (COMPLETED, FAILED, TERMINATED)
#: Phases Stop moves to Terminating.
STOPPABLE_PHASES: Final = ACTIVE_PHASES
#: Phases where a Stop has nothing left to do (answered as a success: Stop is retried).
STOPPED_PHASES: Final = (TERMINATING, TERMINATED)
#: Phases Resume moves back to Queued.
RESUMABLE_PHASES: Final = (TERMINATED, FAILED)
#: Phases Delete accepts: the job has ended and nothing will write to it again.
DELETABLE_PHASES: Final = ENDED_PHASES
