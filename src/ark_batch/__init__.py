"""ark-batch: typed, signed client, emulator and contract tests for the Ark batch job API.

Public API (imported lazily, so ``import ark_batch`` and the CLI start fast)::

    from ark_batch import ArkBatch, AsyncArkBatch, RetryPolicy, errors
    from ark_batch import make_client, VolcengineAuth, Credentials

The generated client stays public: ``ark_batch_client`` (``Client``, ``models``,
``api.batch_inference_job.*``); :func:`make_client` returns a signed one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ark_batch import errors
from ark_batch.errors import (
    ActiveJobExistsError,
    ApiError,
    ArkBatchError,
    JobFailedError,
    NotFoundError,
    ThrottledError,
    TransportError,
    UnexpectedResponseError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from ark_batch.auth import VolcengineAuth
    from ark_batch.connect import make_client
    from ark_batch.credentials import Credentials
    from ark_batch.facade import ArkBatch, AsyncArkBatch, create_request, list_request
    from ark_batch.results import ResultRecord
    from ark_batch.retries import RetryPolicy

__all__ = [
    "ActiveJobExistsError",
    "ApiError",
    "ArkBatch",
    "ArkBatchError",
    "AsyncArkBatch",
    "Credentials",
    "JobFailedError",
    "NotFoundError",
    "ResultRecord",
    "RetryPolicy",
    "ThrottledError",
    "TransportError",
    "UnexpectedResponseError",
    "VolcengineAuth",
    "WaitTimeoutError",
    "__version__",
    "create_request",
    "errors",
    "list_request",
    "make_client",
]

_LAZY = {
    "ArkBatch": "ark_batch.facade",
    "AsyncArkBatch": "ark_batch.facade",
    "Credentials": "ark_batch.credentials",
    "ResultRecord": "ark_batch.results",
    "RetryPolicy": "ark_batch.retries",
    "VolcengineAuth": "ark_batch.auth",
    "create_request": "ark_batch.facade",
    "list_request": "ark_batch.facade",
    "make_client": "ark_batch.connect",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415  # ~10 ms, only when asked

        value = globals()["__version__"] = version("ark-batch")
        return value
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ark_batch' has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
