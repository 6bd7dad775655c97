"""Settings of job execution: concurrency, model backend, fault injection, timing, storage."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ark_batch.emulator.execution.worker import install
from ark_batch.redaction import REDACTED, redact_url
from ark_batch.storage import ObjectStore

if TYPE_CHECKING:
    from ark_batch.emulator.app import EmulatorState

__all__ = ["BackendKind", "ExecutionConfig"]

BackendKind = Literal["echo", "openai"]


@dataclass(frozen=True, slots=True, repr=False)
class ExecutionConfig:
    """How the emulator executes batch jobs. The defaults run jobs out of the box.

    - ``enabled``: run a worker at all (False leaves jobs Queued, as a pure API emulator).
    - ``max_concurrent_jobs``: jobs Running at once; the rest wait in Queued.
    - ``line_concurrency``: requests in flight per job when the backend blocks (HTTP, or
      any backend with injected latency).
    - ``backend``: ``"echo"`` (built in, deterministic, no network) or ``"openai"`` (an
      OpenAI-compatible ``/chat/completions`` endpoint at ``openai_base_url``, sent
      ``openai_api_key`` as a Bearer token; ``openai_model`` overrides the job's model).
    - ``failure_rate``: fraction of lines failed on purpose, chosen by a hash of
      ``failure_seed`` + custom_id, so the same ids fail on every run.
    - ``latency``: seconds added to every request (makes jobs slow enough to observe).
    - ``time_speed``: emulated seconds per real second for the CompletionWindow: 86400
      makes a ``1d`` window last one real second. ``math.inf`` expires a job as soon as
      the worker looks at it.
    - ``storage_url``: where job inputs and outputs live (``ark_batch.storage.open_store``
      grammar); None means ``<data_dir>/objects``. ``object_store`` (a ready store)
      takes precedence over both.
    - ``poll_interval``: seconds between scans for new work.
    - ``chunk_lines``: lines per durable progress step (resume granularity).
    - ``lease_seconds``: how long a job's lease outlives its owner's last renewal; after
      that, another emulator process on the same data dir takes the job over (at once
      if the owner was a process on this host that is gone).
    """

    enabled: bool = True
    max_concurrent_jobs: int = 2
    line_concurrency: int = 16
    backend: BackendKind = "echo"
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_model: str | None = None
    openai_timeout: float = 120.0
    failure_rate: float = 0.0
    failure_seed: str = ""
    latency: float = 0.0
    time_speed: float = 1.0
    storage_url: str | None = None
    object_store: ObjectStore | None = None
    poll_interval: float = 0.1
    chunk_lines: int = 1000
    lease_seconds: float = 15.0

    def __post_init__(self) -> None:
        if self.max_concurrent_jobs < 1 or self.line_concurrency < 1:
            raise ValueError("max_concurrent_jobs and line_concurrency must be at least 1")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        if self.latency < 0 or math.isnan(self.latency):
            raise ValueError("latency must be a non-negative number of seconds")
        if not self.time_speed > 0:
            raise ValueError("time_speed must be positive")
        if self.backend == "openai" and not self.openai_base_url:
            raise ValueError("the openai backend needs openai_base_url")
        if self.backend not in ("echo", "openai"):
            raise ValueError(f"unknown backend {self.backend!r}")
        if not self.lease_seconds > 0 or math.isinf(self.lease_seconds):
            raise ValueError("lease_seconds must be a positive number of seconds")
        if self.poll_interval <= 0 or self.chunk_lines < 1:
            raise ValueError("poll_interval must be positive and chunk_lines at least 1")

    def __repr__(self) -> str:
        # The upstream key and credentials in a storage URL never reach a log or traceback.
        shown = []
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "openai_api_key" and value is not None:
                value = REDACTED
            elif item.name in ("storage_url", "openai_base_url") and value is not None:
                value = redact_url(value)
            shown.append(f"{item.name}={value!r}")
        return f"ExecutionConfig({', '.join(shown)})"

    def install(self, state: EmulatorState) -> None:
        """Hook execution into an emulator app (called by ``create_app``)."""
        install(state, self)
