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


def _count(value: object) -> int:
    return value if type(value) is int and value >= 0 else 0


def _add(chunk: Chunk, custom_id: str, rid: str, result: ModelResult) -> None:
    if isinstance(result, ModelResponse):
        chunk.results.append(result_line(custom_id, result))
        chunk.completed += 1
        usage = result.body.get("usage")
        if type(usage) is dict:
            chunk.prompt_tokens += _count(usage.get("prompt_tokens"))
            chunk.completion_tokens += _count(usage.get("completion_tokens"))
            chunk.total_tokens += _count(usage.get("total_tokens"))
    else:
        chunk.errors.append(error_line(custom_id, rid, result))
        chunk.failed += 1


def process_chunk(
    job: Job,
    pending: list[tuple[int, bytes]],
    backend: ModelBackend,
    pool: ThreadPoolExecutor | None = None,
) -> Chunk:
    """Answer validated ``(line number, line)`` pairs, in input order.

    Blocking backends run on `pool` (at most its size in flight). Others answer each line
    as it is read, so a line's objects are freed before the next is parsed: holding a
    whole chunk of parsed lines made the garbage collector rescan them over and over.
    """
    stamp = job.create_time.astimezone(UTC8).strftime("%Y%m%d%H%M%S")
    created = int(job.create_time.timestamp())
    model = model_name(job)
    # Job.id walks the document on every read; it is the same for every line.
    job_id = job.id
    chunk = Chunk()
    if pool is None or not backend.blocking:
        complete = backend.complete
        for line_no, raw in pending:
            custom_id, body = parse_line(raw, line_no)
            rid = request_id(stamp, job_id, custom_id)
            if isinstance(body, dict):
                result = complete(ModelRequest(custom_id, body, model, rid, created))
            else:
                result = _NOT_AN_OBJECT
            _add(chunk, custom_id, rid, result)
        return chunk
    # The body is sent on as it is: integers beyond 64 bits must stay exact.
    requests: list[ModelRequest] = []
    outcomes: list[tuple[str, str, ModelResult | None]] = []
    for line_no, raw in pending:
        custom_id, body = parse_line(raw, line_no, exact_numbers=True)
        rid = request_id(stamp, job_id, custom_id)
        if isinstance(body, dict):
            requests.append(ModelRequest(custom_id, body, model, rid, created))
            outcomes.append((custom_id, rid, None))
        else:
            outcomes.append((custom_id, rid, _NOT_AN_OBJECT))
    answers = iter(list(pool.map(backend.complete, requests)))
    for custom_id, rid, known in outcomes:
        _add(chunk, custom_id, rid, known if known is not None else next(answers))
    return chunk
