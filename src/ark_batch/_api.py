"""API facts read from the generated client, never restated by hand.

The Version and each action name are the defaults of the generated ``_get_kwargs``
(``action: Literal[...] = ...``, ``version: Literal[...] = ...``); the phases and the
List defaults come from the generated models. The few literals that must stay are listed
in docs/decisions/0013-spec-driven-facade.md.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Final

import httpx

from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    get_batch_inference_job,
    list_batch_inference_jobs,
)
from ark_batch_client.models import ListBatchInferenceJobsRequest
from ark_batch_client.models.job_phase import JOB_PHASE_VALUES
from ark_batch_client.types import Unset

__all__ = [
    "CREATE",
    "DEFAULT_PAGE_NUMBER",
    "DEFAULT_PAGE_SIZE",
    "FAILED_PHASES",
    "GET",
    "IDEMPOTENT_ACTIONS",
    "LIST",
    "MAX_PAGE_SIZE",
    "PHASES",
    "TERMINAL_PHASES",
    "VERSION",
    "action_of",
    "action_url",
]


def _literal_default(module: ModuleType, parameter: str) -> str:
    value = inspect.signature(module._get_kwargs).parameters[parameter].default
    if not isinstance(value, str):
        raise RuntimeError(f"{module.__name__}._get_kwargs has no {parameter} default")
    return value


def action_of(module: ModuleType) -> str:
    """The action name a generated operation module sends (its ``Action`` default)."""
    return _literal_default(module, "action")


#: The API Version the generated client was built for, sent with every facade call.
VERSION: Final = _literal_default(get_batch_inference_job, "version")
CREATE: Final = action_of(create_batch_inference_job)
GET: Final = action_of(get_batch_inference_job)
LIST: Final = action_of(list_batch_inference_jobs)
#: Actions that may be repeated freely (reads).
IDEMPOTENT_ACTIONS: Final = frozenset({GET, LIST})

#: Every phase the spec names. Responses keep phases open: an unknown one still parses.
PHASES: Final = frozenset(JOB_PHASE_VALUES)
# The spec says which phases exist, not which ones end a job (decision 0013).
TERMINAL_PHASES: Final = frozenset({"Completed", "Failed", "Terminated"})
FAILED_PHASES: Final = frozenset({"Failed", "Terminated"})

_LIST_DEFAULTS = ListBatchInferenceJobsRequest()
DEFAULT_PAGE_NUMBER: Final = (
    _LIST_DEFAULTS.page_number if isinstance(_LIST_DEFAULTS.page_number, int) else 1
)
DEFAULT_PAGE_SIZE: Final = (
    _LIST_DEFAULTS.page_size if isinstance(_LIST_DEFAULTS.page_size, int) else 10
)
# The spec's PageSize maximum lives only in the schema, not in the generated code
# (decision 0013); iter_jobs asks for full pages of this size.
MAX_PAGE_SIZE: Final = 100


def action_url(base_url: httpx.URL | str, action: str) -> httpx.URL:
    """The full URL of ``action``, as the generated functions send it."""
    return httpx.URL(f"{str(base_url).rstrip('/')}/?Action={action}&Version={VERSION}")


def _unset_repr(self: Unset) -> str:
    return "UNSET"


# Model reprs otherwise show "<ark_batch_client.types.Unset object at 0x...>".
Unset.__repr__ = _unset_repr  # type: ignore[method-assign,assignment]
