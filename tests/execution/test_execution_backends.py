"""Model backends: echo, an OpenAI-compatible server on loopback, fault injection."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from ark_batch.emulator.execution import (
    EchoBackend,
    ExecutionConfig,
    FaultyBackend,
    ModelError,
    ModelRequest,
    ModelResponse,
    OpenAIBackend,
    build_backend,
)
from execution.execution_helpers import ExecEnv, chat_line, write_jsonl


def _request(custom_id: str = "c", **body: Any) -> ModelRequest:
    return ModelRequest(custom_id, body, "m-1", "20240101000000" + "A" * 20, 1700000000)


def test_echo_answers_last_user_message_with_usage() -> None:
    result = EchoBackend().complete(
        _request(
            messages=[
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "first part"}]},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "the real question"},
            ]
        )
    )
    assert isinstance(result, ModelResponse)
    body = result.body
    assert body["choices"][0]["message"]["content"] == "the real question"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 8, "completion_tokens": 3, "total_tokens": 11}
    assert (body["model"], body["created"]) == ("m-1", 1700000000)
    assert EchoBackend().complete(_request(messages=[{"role": "user", "content": "x"}])) == (
        EchoBackend().complete(_request(messages=[{"role": "user", "content": "x"}]))
    )


def test_fault_injection_is_deterministic_and_near_its_rate() -> None:
    faulty = FaultyBackend(EchoBackend(), rate=0.2, seed="a", latency=0)
    again = FaultyBackend(EchoBackend(), rate=0.2, seed="a", latency=0)
    other = FaultyBackend(EchoBackend(), rate=0.2, seed="b", latency=0)
    ids = [f"id-{i}" for i in range(10_000)]
    failing = {i for i in ids if faulty.fails(i)}
    assert failing == {i for i in ids if again.fails(i)}
    assert failing != {i for i in ids if other.fails(i)}
    assert 1800 < len(failing) < 2200
    result = faulty.complete(_request(sorted(failing)[0], messages=[]))
    assert isinstance(result, ModelError)
    assert (result.code, result.type) == ("InternalServiceError", "InternalServerError")
    none = FaultyBackend(EchoBackend(), rate=0.0, seed="", latency=0)
    every = FaultyBackend(EchoBackend(), rate=1.0, seed="", latency=0)
    assert not any(none.fails(i) for i in ids[:1000])
    assert all(every.fails(i) for i in ids[:1000])


def test_build_backend_wraps_only_when_asked() -> None:
    assert isinstance(build_backend(ExecutionConfig()), EchoBackend)
    assert not build_backend(ExecutionConfig()).blocking
    slow = build_backend(ExecutionConfig(latency=0.01))
    assert isinstance(slow, FaultyBackend)
    assert slow.blocking


@pytest.mark.parametrize(
    "settings",
    [
        {"failure_rate": 1.5},
        {"latency": -1},
        {"time_speed": 0},
        {"max_concurrent_jobs": 0},
        {"backend": "openai"},
        {"backend": "gpt"},
    ],
)
def test_invalid_execution_config(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        ExecutionConfig(**settings)


class _FakeOpenAI(BaseHTTPRequestHandler):
    """A minimal OpenAI-compatible /v1/chat/completions."""

    server: _Server
    counted = False

    def log_message(self, *_: Any) -> None:
        pass

    def do_POST(self) -> None:
        state = self.server
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            state.lock.notify_all()
            # Hold the first request until a second one arrives: proves concurrency
            # without depending on how threads happen to be scheduled.
            if state.hold_until_concurrent:
                state.lock.wait_for(lambda: state.max_in_flight >= 2, timeout=10)
        self.counted = True
        try:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.seen.append((self.path, self.headers.get("Authorization"), body))
            text = body["messages"][-1]["content"]
            time.sleep(0.005)
            if text == "reject":
                error = {"code": "InvalidParameter", "type": "BadRequest"}
                self._send(400, {"error": {**error, "message": "rejected upstream"}})
            elif text == "down" or (text == "flaky" and state.flaky_calls == 0):
                if text == "flaky":
                    state.flaky_calls += 1
                self._send(503, {"error": {"message": "overloaded"}})
            else:
                usage = {"prompt_tokens": 2, "completion_tokens": 5, "total_tokens": 7}
                message = {"role": "assistant", "content": text.upper()}
                choice = {"index": 0, "message": message, "finish_reason": "stop"}
                answer = {"id": "x", "model": body["model"], "choices": [choice], "usage": usage}
                self._send(200, answer, {"x-request-id": f"up-{text}"})
        finally:
            self._leave()

    def _leave(self) -> None:
        # Before the response is sent: once the client has it, it may send the next
        # request, which must not find this one still counted.
        if self.counted:
            self.counted = False
            with self.server.lock:
                self.server.in_flight -= 1

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self._leave()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FakeOpenAI)
        self.lock = threading.Condition()
        self.in_flight = 0
        self.max_in_flight = 0
        self.hold_until_concurrent = False
        self.flaky_calls = 0
        self.seen: list[tuple[str, str | None, dict[str, Any]]] = []


@pytest.fixture
def openai_server() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_openai_backend_through_a_job(local_env: ExecEnv, openai_server: _Server) -> None:
    env = local_env
    port = openai_server.server_address[1]
    openai_server.hold_until_concurrent = True
    lines = [chat_line(f"q{i}", f"hello{i}") for i in range(60)]
    lines += [chat_line("rejected", "reject"), chat_line("flaky", "flaky")]
    write_jsonl(env.objects, env.bucket, "in/openai.jsonl", lines)
    job_id = env.create("in/openai.jsonl")
    env.worker(
        backend="openai",
        openai_base_url=f"http://127.0.0.1:{port}/v1/",
        openai_api_key="sk-test",
        line_concurrency=6,
    )
    job = env.wait(job_id)
    assert job.phase == "Completed"
    assert (job.total, job.completed, job.failed) == (62, 61, 1)
    assert (job.prompt_tokens, job.completion_tokens, job.total_tokens) == (122, 305, 427)
    results, errors = env.outputs(job)
    assert errors[0]["custom_id"] == "rejected"
    assert errors[0]["error"] == {
        "code": "InvalidParameter",
        "type": "BadRequest",
        "message": "rejected upstream",
    }
    flaky = next(r for r in results if r["custom_id"] == "flaky")
    assert flaky["response"]["body"]["choices"][0]["message"]["content"] == "FLAKY"
    assert flaky["id"] == flaky["response"]["request_id"] == "up-flaky"
    paths = {path for path, _, _ in openai_server.seen}
    assert paths == {"/v1/chat/completions"}
    assert {auth for _, auth, _ in openai_server.seen} == {"Bearer sk-test"}
    assert {body["model"] for _, _, body in openai_server.seen} == {"doubao-pro-240615"}
    # Bounded, and actually concurrent.
    assert 1 < openai_server.max_in_flight <= 6


def test_openai_backend_errors_and_model_override(openai_server: _Server) -> None:
    port = openai_server.server_address[1]
    backend = OpenAIBackend(f"http://127.0.0.1:{port}/v1", None, "local-model", retries=1)
    try:
        ok = backend.complete(_request(messages=[{"role": "user", "content": "hi"}]))
        assert isinstance(ok, ModelResponse)
        assert openai_server.seen[-1][2]["model"] == "local-model"
        assert openai_server.seen[-1][1] is None
        down = backend.complete(_request(messages=[{"role": "user", "content": "down"}]))
        assert down == ModelError("503", "Service Unavailable", "overloaded")
    finally:
        backend.close()
    unreachable = OpenAIBackend("http://127.0.0.1:9/v1", None, None, retries=0, timeout=2)
    try:
        result = unreachable.complete(_request(messages=[]))
        assert isinstance(result, ModelError)
        assert result.code == "InternalServiceError"
        assert result.message.startswith("model endpoint: ")
    finally:
        unreachable.close()


def test_openai_backend_sends_a_lone_surrogate_as_a_json_escape() -> None:
    sent: list[bytes] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, json={"object": "chat.completion", "choices": []})

    transport = httpx.MockTransport(upstream)
    backend = OpenAIBackend("http://upstream/v1", None, None, transport=transport)
    try:
        result = backend.complete(_request(messages=[{"role": "user", "content": "\ud800 x"}]))
    finally:
        backend.close()
    assert isinstance(result, ModelResponse)
    assert json.loads(sent[0])["messages"] == [{"role": "user", "content": "\ud800 x"}]
