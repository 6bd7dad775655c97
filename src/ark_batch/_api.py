"""The API facts the generated client was built for, read from the generated package.

The facade, the CLI and the demo take the Version they send, the action names and the
known job phases from here, never from a literal. Core dependencies only (no PyYAML):
``ark_batch_client`` carries them because the generator writes them from the spec.
"""

from __future__ import annotations

from typing import Final, get_args

import ark_batch_client
from ark_batch_client.models.job_phase import JobPhase

__all__ = ["ACTIONS", "API_VERSION", "PHASES"]

#: The Version every generated function sends (the spec document's ``info.version``).
API_VERSION: Final[str] = ark_batch_client.API_VERSION
#: The actions the generated client has a function for (the spec's operationIds).
ACTIONS: Final[tuple[str, ...]] = ark_batch_client.ACTIONS
#: The job phases a request may name (``Filter.Phases``); responses may carry others.
PHASES: Final[tuple[str, ...]] = get_args(JobPhase)
