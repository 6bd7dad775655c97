"""The phases the emulator's own logic names, each checked against the spec.

The spec lists the phases a job can be in (``JobPhase``); it does not say what they
mean: which one a new job starts in, which ones hold the one-active-job rule, which ones
end a job, or which ones each lifecycle action accepts. That meaning is the emulator's
behaviour, so it is written once, here (decision 0024). A spec that drops or renames one
of these phases fails :func:`check_phases` (run when a backend is built), naming it,
instead of leaving a phase nothing enters. The check is not run at import: parsing the
spec then made every ``import ark_batch.emulator`` pay for it.
"""

from __future__ import annotations

import functools
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
    "check_phases",
]


QUEUED: Final = "Queued"
RUNNING: Final = "Running"
COMPLETED: Final = "Completed"
FAILED: Final = "Failed"
TERMINATING: Final = "Terminating"
TERMINATED: Final = "Terminated"


def _phase(name: str) -> str:
    if name not in default_registry().document().phases:
        raise RuntimeError(f"the newest spec document's JobPhase has no {name!r} phase")
    return name


@functools.cache
def check_phases() -> None:
    """Raise RuntimeError naming the first phase above the newest spec's JobPhase lacks."""
    for name in (QUEUED, RUNNING, COMPLETED, FAILED, TERMINATING, TERMINATED):
        _phase(name)


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
