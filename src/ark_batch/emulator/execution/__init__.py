"""Job execution for the emulator: jobs run from object storage, through a model
backend, to results and errors files (issue 4; decisions in docs/decisions/0006).

Enable it with ``EmulatorConfig(execution=ExecutionConfig(...))``: ``create_app`` calls
``ExecutionConfig.install``, which starts an `ExecutionWorker` with the server.
"""

from ark_batch.emulator.execution.config import BackendKind, ExecutionConfig
from ark_batch.emulator.execution.locations import output_keys
from ark_batch.emulator.execution.model_backends import (
    EchoBackend,
    FaultyBackend,
    ModelBackend,
    ModelError,
    ModelRequest,
    ModelResponse,
    OpenAIBackend,
    build_backend,
)
from ark_batch.emulator.execution.runner import JobRunner, deadline
from ark_batch.emulator.execution.worker import ExecutionWorker, install, object_store_for

__all__ = [
    "BackendKind",
    "EchoBackend",
    "ExecutionConfig",
    "ExecutionWorker",
    "FaultyBackend",
    "JobRunner",
    "ModelBackend",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "OpenAIBackend",
    "build_backend",
    "deadline",
    "install",
    "object_store_for",
    "output_keys",
]
