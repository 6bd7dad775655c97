"""The API facts the generated client was built for, never restated by hand.

The facade, the CLI and the demo take the Version they send, the action names and the
known job phases from here. Core dependencies only (no PyYAML): ``ark_batch_client``
carries them because the generator writes them from the spec: the Version and the
actions as the package's ``API_VERSION``/``ACTIONS``, each operation's action name as
the default of its ``_get_kwargs(..., action=...)``, the phases and the List defaults in
the models. The few literals that must stay are listed in
docs/decisions/0013-spec-driven-facade.md.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Final

import httpx

import ark_batch_client
from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    delete_batch_inference_job,
    get_batch_inference_job,
    list_batch_inference_jobs,
    resume_batch_inference_job,
    stop_batch_inference_job,
    update_batch_inference_job,
)
from ark_batch_client.models import ListBatchInferenceJobsRequest
from ark_batch_client.models.job_phase import JOB_PHASE_VALUES
from ark_batch_client.types import Unset

__all__ = [
    "ACTIONS",
    "API_VERSION",
    "CREATE",
    "DEFAULT_PAGE_NUMBER",
    "DELETE",
    "FAILED_PHASES",
    "GET",
    "IDEMPOTENT_ACTIONS",
    "LIST",
    "MAX_PAGE_SIZE",
    "PHASES",
    "RESUME",
    "STOP",
    "TERMINAL_PHASES",
    "UPDATE",
    "action_of",
    "action_url",
]

#: The Version every generated function sends (the spec document's ``info.version``).
API_VERSION: Final[str] = ark_batch_client.API_VERSION
#: The actions the generated client has a function for (the spec's operationIds).
ACTIONS: Final[tuple[str, ...]] = ark_batch_client.ACTIONS


def action_of(module: ModuleType) -> str:
    """The action name a generated operation module sends (its ``action`` default)."""
    value = inspect.signature(module._get_kwargs).parameters["action"].default
    if value not in ACTIONS:
        raise RuntimeError(f"{module.__name__}._get_kwargs has no known action default")
    return str(value)


CREATE: Final = action_of(create_batch_inference_job)
GET: Final = action_of(get_batch_inference_job)
LIST: Final = action_of(list_batch_inference_jobs)
STOP: Final = action_of(stop_batch_inference_job)
RESUME: Final = action_of(resume_batch_inference_job)
UPDATE: Final = action_of(update_batch_inference_job)
DELETE: Final = action_of(delete_batch_inference_job)
#: Actions that may be repeated freely: the reads, and the lifecycle actions whose
#: repeat lands in the same state (decision 0012). Resume is not here: a repeat could
#: start a second run of a job that ended again in between.
IDEMPOTENT_ACTIONS: Final = frozenset({GET, LIST, STOP, UPDATE, DELETE})

#: Every phase the spec names. Responses keep phases open: an unknown one still parses.
PHASES: Final = frozenset(JOB_PHASE_VALUES)
# The spec says which phases exist, not which ones end a job (decision 0013).
TERMINAL_PHASES: Final = frozenset({"Completed", "Failed", "Terminated"})
FAILED_PHASES: Final = frozenset({"Failed", "Terminated"})

_LIST_DEFAULTS = ListBatchInferenceJobsRequest()
DEFAULT_PAGE_NUMBER: Final = (
    _LIST_DEFAULTS.page_number if isinstance(_LIST_DEFAULTS.page_number, int) else 1
)
# The spec's PageSize maximum lives only in the schema, not in the generated code
# (decision 0013); iter_jobs asks for full pages of this size.
MAX_PAGE_SIZE: Final = 100


def action_url(base_url: httpx.URL | str, action: str) -> httpx.URL:
    """The full URL of ``action``, as the generated functions send it."""
    return httpx.URL(f"{str(base_url).rstrip('/')}/?Action={action}&Version={API_VERSION}")


def _unset_repr(self: Unset) -> str:
    return "UNSET"


# Model reprs otherwise show "<ark_batch_client.types.Unset object at 0x...>".
Unset.__repr__ = _unset_repr  # type: ignore[method-assign,assignment]
