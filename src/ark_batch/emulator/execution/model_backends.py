"""Model backends: what each input line's request body is sent to.

`EchoBackend` answers in-process and deterministically; `OpenAIBackend` forwards to an
OpenAI-compatible server (vLLM, llama.cpp, ...); `FaultyBackend` wraps either with
injected latency and per-line failures.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

if TYPE_CHECKING:
    from ark_batch.emulator.execution.config import ExecutionConfig


__all__ = [
    "EchoBackend",
    "FaultyBackend",
    "ModelBackend",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "ModelResult",
    "OpenAIBackend",
    "build_backend",
]


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One input line on its way to the model."""

    custom_id: str
    body: dict[str, Any]
    model: str
    request_id: str
    created: int  # epoch seconds stamped on echo answers (the job's CreateTime)


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """A successful answer: the response body (a chat.completion with usage)."""

    body: dict[str, Any]
    request_id: str


@dataclass(frozen=True, slots=True)
class ModelError:
    """A failed request, in the shape of an errors.jsonl ``error`` object."""

    code: str
    type: str
    message: str


ModelResult = ModelResponse | ModelError


class ModelBackend(Protocol):
    """Turns a request into a result. `blocking` says whether calls wait on I/O, in which
    case the runner keeps several in flight; otherwise it calls them in a plain loop."""

    @property
    def blocking(self) -> bool:
        """Whether `complete` waits (network, sleeps) rather than only computing."""

    def complete(self, request: ModelRequest) -> ModelResult:
        """Answer one request. Must not raise for request-level problems."""

    def close(self) -> None:
        """Release connections."""


def _invalid(message: str) -> ModelError:
    return ModelError("InvalidParameter", "BadRequest", message)


def _text(content: Any) -> str | None:
    """The text of a message's content: a string, or the text parts of a parts array."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return None


class EchoBackend:
    """Replies with the last user message. One token per whitespace-separated word.

    ``max_tokens`` truncates the reply (``finish_reason: "length"``). The answer depends
    only on the request, so reruns produce identical output.
    """

    blocking = False

    def complete(self, request: ModelRequest) -> ModelResult:
        """Echo the last user message back as a chat.completion."""
        messages = request.body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _invalid("body.messages must be a non-empty array")
        prompt_tokens = 0
        reply = ""
        for index, message in enumerate(messages):
            text = _text(message.get("content")) if isinstance(message, dict) else None
            if text is None:
                return _invalid(f"body.messages[{index}] needs a role and a text content")
            prompt_tokens += len(text.split())
            if message.get("role") == "user":
                reply = text
        words = reply.split()
        finish_reason = "stop"
        max_tokens = request.body.get("max_tokens")
        if type(max_tokens) is int and 0 <= max_tokens < len(words):
            words = words[:max_tokens]
            reply = " ".join(words)
            finish_reason = "length"
        completion_tokens = len(words)
        body = {
            "id": f"chatcmpl-{request.request_id[-20:].lower()}",
            "object": "chat.completion",
            "created": request.created,
            "model": request.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return ModelResponse(body, request.request_id)

    def close(self) -> None:
        """Nothing to release."""


_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_JSON = {"Content-Type": "application/json"}


class OpenAIBackend:
    """POSTs each body to ``<base_url>/chat/completions`` with the job's model.

    Throttling, 5xx answers and connection errors are retried twice with backoff; what is
    still failing becomes an error line, never a failed job.
    """

    blocking = True

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str | None,
        *,
        timeout: float = 120.0,
        max_connections: int = 16,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._retries = retries
        self._client = httpx.Client(
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections),
            transport=transport,
        )

    def complete(self, request: ModelRequest) -> ModelResult:
        """Forward one request; map HTTP errors to error lines."""
        payload = {**request.body, "model": self._model or request.model}
        # ASCII escapes, not httpx's json=: a lone surrogate (a valid JSON escape in the
        # input) has no UTF-8 form and would crash the encoding instead of reaching the
        # endpoint, which decides about it like about any other body.
        content = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                response = self._client.post(self._url, content=content, headers=_JSON)
            except httpx.HTTPError as exc:
                if last:
                    return ModelError(
                        "InternalServiceError", "InternalServerError", f"model endpoint: {exc}"
                    )
            else:
                if response.status_code not in _RETRY_STATUSES or last:
                    return self._result(response, request)
            time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _result(response: httpx.Response, request: ModelRequest) -> ModelResult:
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success and isinstance(data, dict):
            request_id = response.headers.get("x-request-id") or request.request_id
            return ModelResponse(data, request_id)
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        return ModelError(
            str(error.get("code") or response.status_code),
            str(error.get("type") or response.reason_phrase or "Error"),
            str(error.get("message") or response.text[:500] or "no response body"),
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


class FaultyBackend:
    """Adds ``latency`` seconds to every call and fails a ``rate`` fraction of custom_ids.

    Which ids fail is a hash of ``seed`` and the custom_id, so it is the same on every
    run and independent of line order or concurrency.
    """

    def __init__(self, inner: ModelBackend, *, rate: float, seed: str, latency: float) -> None:
        self._inner = inner
        self._seed = seed.encode() + b"\0"
        self._threshold = int(rate * 2**64)
        self._latency = latency
        self.rate = rate

    @property
    def blocking(self) -> bool:
        """Blocking when the inner backend is, or when there is latency to wait out."""
        return self._latency > 0 or self._inner.blocking

    def fails(self, custom_id: str) -> bool:
        """Whether injection fails this custom_id."""
        digest = hashlib.blake2b(self._seed + custom_id.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") < self._threshold

    def complete(self, request: ModelRequest) -> ModelResult:
        """Wait, then fail on purpose or pass the request on."""
        if self._latency:
            time.sleep(self._latency)
        if self._threshold and self.fails(request.custom_id):
            return ModelError(
                "InternalServiceError",
                "InternalServerError",
                f"injected failure (failure_rate={self.rate})",
            )
        return self._inner.complete(request)

    def close(self) -> None:
        """Close the inner backend."""
        self._inner.close()


def build_backend(config: ExecutionConfig) -> ModelBackend:
    """The backend `config` asks for, wrapped for fault injection when configured."""
    backend: ModelBackend
    if config.backend == "openai":
        assert config.openai_base_url is not None  # checked by ExecutionConfig
        backend = OpenAIBackend(
            config.openai_base_url,
            config.openai_api_key,
            config.openai_model,
            timeout=config.openai_timeout,
            max_connections=config.line_concurrency,
        )
    else:
        backend = EchoBackend()
    if config.failure_rate or config.latency:
        backend = FaultyBackend(
            backend, rate=config.failure_rate, seed=config.failure_seed, latency=config.latency
        )
    return backend
