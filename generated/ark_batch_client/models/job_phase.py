from typing import Literal

JobPhase = Literal[
    "Completed", "Failed", "Queued", "Running", "Terminated", "Terminating"
]

JOB_PHASE_VALUES: set[JobPhase] = {
    "Completed",
    "Failed",
    "Queued",
    "Running",
    "Terminated",
    "Terminating",
}


def check_job_phase(value: str) -> JobPhase:
    if value in JOB_PHASE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {JOB_PHASE_VALUES!r}")
