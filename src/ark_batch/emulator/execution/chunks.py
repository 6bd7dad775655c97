"""One chunk of input lines through the model backend, into output lines and counts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ark_batch.emulator.execution.lines import error_line, parse_line, request_id, result_line
from ark_batch.emulator.execution.model_backends import (
    ModelBackend,
    ModelError,
    ModelRequest,
    ModelResponse,
    ModelResult,
)
from ark_batch.emulator.protocol import UTC8
from ark_batch.emulator.store import Job

__all__ = ["Chunk", "model_name", "process_chunk"]

_NOT_AN_OBJECT = ModelError("InvalidParameter", "BadRequest", "body must be a JSON object")


@dataclass(slots=True)
class Chunk:
    """The output lines of a chunk and what they add to the job's counts."""

    results: list[bytes] = field(default_factory=list)
    errors: list[bytes] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


def model_name(job: Job) -> str:
    """The model as answers name it: the custom model, or ``<name>-<version>``."""
    if job.custom_model_id:
        return job.custom_model_id
    if job.model_version:
        return f"{job.model_name}-{job.model_version}"
    return job.model_name or "unknown"


def _usage(body: object) -> tuple[int, int, int]:
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return 0, 0, 0
    values = [usage.get(name) for name in ("prompt_tokens", "completion_tokens", "total_tokens")]
    prompt, completion, total = (v if type(v) is int and v >= 0 else 0 for v in values)
    return prompt, completion, total


def process_chunk(
    job: Job,
    pending: list[tuple[int, bytes]],
    backend: ModelBackend,
    pool: ThreadPoolExecutor | None = None,
) -> Chunk:
    """Answer validated ``(line number, line)`` pairs, in input order.

    Blocking backends run on `pool` (at most its size in flight); others in a plain loop,
    which is what keeps the echo path fast.
    """
    stamp = job.create_time.astimezone(UTC8).strftime("%Y%m%d%H%M%S")
    created = int(job.create_time.timestamp())
    model = model_name(job)
    requests: list[ModelRequest] = []
    outcomes: list[tuple[str, str, ModelResult | None]] = []
    for line_no, raw in pending:
        custom_id, body = parse_line(raw, line_no)
        rid = request_id(stamp, job.id, custom_id)
        if isinstance(body, dict):
            requests.append(ModelRequest(custom_id, body, model, rid, created))
            outcomes.append((custom_id, rid, None))
        else:
            outcomes.append((custom_id, rid, _NOT_AN_OBJECT))
    if pool is not None and backend.blocking:
        answers = iter(list(pool.map(backend.complete, requests)))
    else:
        answers = iter([backend.complete(request) for request in requests])
    chunk = Chunk()
    for custom_id, rid, known in outcomes:
        result = known if known is not None else next(answers)
        if isinstance(result, ModelResponse):
            chunk.results.append(result_line(custom_id, result))
            chunk.completed += 1
            prompt, completion, total = _usage(result.body)
            chunk.prompt_tokens += prompt
            chunk.completion_tokens += completion
            chunk.total_tokens += total
        else:
            chunk.errors.append(error_line(custom_id, rid, result))
            chunk.failed += 1
    return chunk
