"""The per-line formats: the fast JSON path reads and writes what the json module does."""

from __future__ import annotations

import json
import sys
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import pytest

from ark_batch.emulator.execution import ModelRequest, ModelResponse
from ark_batch.emulator.execution.chunks import process_chunk
from ark_batch.emulator.execution.lines import (
    InputError,
    _parse_slowly,
    error_line,
    is_blank,
    parse_line,
    result_line,
)
from ark_batch.emulator.execution.model_backends import ModelError, ModelResult
from execution.execution_helpers import ExecEnv, chat_line, write_jsonl

BIG = 2**70 + 1  # not a float: a rounded read would differ

LINES = [
    b'{"custom_id": "a", "body": {"messages": [{"role": "user", "content": "hi \\u00e9"}]}}',
    b'{"custom_id": "b", "body": [1, 2]}',
    b'{"custom_id": "c"}',
    b'{"custom_id": "d", "body": {"x": NaN}}',
    b'{"custom_id": "e", "body": {"x": 1e400}}',
    b'{"custom_id": "f", "body": {"x": "\\ud800"}}',
    b'{"custom_id": "\\udc00", "body": {}}',
    b'{"custom_id": "", "body": {}}',
    b'{"custom_id": 7, "body": {}}',
    b'{"body": {}}',
    b'["custom_id"]',
    b'{"custom_id": "g", "body": "\xff"}',
    b'{"custom_id": "h", "body": "tab\tinside"}',
    b'{"custom_id": "i", "body": {}',
    b'\xef\xbb\xbf{"custom_id": "j", "body": {}}',
]


def _verdict(parse: object, raw: bytes) -> object:
    try:
        custom_id, body = parse(raw, 1)  # type: ignore[operator]
    except InputError as exc:
        return ("refused", str(exc))
    return ("accepted", custom_id, json.dumps(body, sort_keys=True))


@pytest.mark.parametrize("raw", LINES)
def test_a_line_is_accepted_or_refused_as_the_json_module_does(raw: bytes) -> None:
    slowly = raw.removeprefix(b"\xef\xbb\xbf")
    assert _verdict(parse_line, raw) == _verdict(_parse_slowly, slowly)


@pytest.mark.parametrize("exact_numbers", [False, True])
def test_an_integer_too_long_to_convert_is_named_for_the_user(exact_numbers: bool) -> None:
    raw = b'{"custom_id": "a", "body": {"n": ' + b"7" * 5000 + b"}}"
    with pytest.raises(InputError) as info:
        parse_line(raw, 3, exact_numbers=exact_numbers)
    assert str(info.value) == (
        f"Invalid input file: line 3 has an integer of more than "
        f"{sys.get_int_max_str_digits()} digits."
    )


@pytest.mark.parametrize(
    ("raw", "blank"),
    [
        (b"", True),
        (b"\n", True),
        (b" \t\r\x0b\x0c\n", True),
        (b"\xef\xbb\xbf\n", True),
        (b"{}\n", False),
        (b" x \n", False),
        (b"\xa0\n", False),  # not ASCII whitespace: a malformed line, not a blank one
        (b"\x1c\n", False),
    ],
)
def test_a_blank_line_is_ascii_whitespace_only(raw: bytes, blank: bool) -> None:
    assert is_blank(raw, 1) is blank


def test_exact_numbers_keep_integers_beyond_64_bits() -> None:
    raw = b'{"custom_id": "a", "body": {"seed": %d}}' % BIG
    assert parse_line(raw, 1, exact_numbers=True) == ("a", {"seed": BIG})
    assert parse_line(raw, 1)[0] == "a"  # the fast path only rounds it


class _Recording:
    """A blocking backend that records the bodies it is sent."""

    blocking = True

    def __init__(self) -> None:
        self.bodies: list[object] = []

    def complete(self, request: ModelRequest) -> ModelResult:
        self.bodies.append(request.body)
        return ModelResponse({"ok": True}, request.request_id)

    def close(self) -> None:
        pass


def test_a_forwarded_body_keeps_integers_beyond_64_bits(local_env: ExecEnv) -> None:
    write_jsonl(local_env.objects, local_env.bucket, "in/big.jsonl", [chat_line("a")])
    job = local_env.job(local_env.create("in/big.jsonl"))
    raw = b'{"custom_id": "a", "body": {"messages": [], "seed": %d}}' % BIG
    backend = _Recording()
    with ThreadPoolExecutor(2) as pool:
        chunk = process_chunk(job, [(1, raw)], backend, pool)
    assert backend.bodies == [{"messages": [], "seed": BIG}]
    assert chunk.completed == 1


def test_output_lines_are_the_json_modules_compact_utf8() -> None:
    body = {"text": 'é 中文 "q" \\ \n', "n": [1, -2, None, True], "usage": {"total_tokens": 3}}
    line = result_line("c-1", ModelResponse(body, "rid"))
    expected = {
        "id": "rid",
        "custom_id": "c-1",
        "error": None,
        "response": {"request_id": "rid", "status_code": 200, "body": body},
    }
    assert line == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    error = error_line("c-2", "rid", ModelError("X", "Y", "é"))
    assert json.loads(error)["error"] == {"code": "X", "type": "Y", "message": "é"}


def test_output_lines_write_integers_beyond_64_bits() -> None:
    line = result_line("c", ModelResponse({"seed": BIG}, "rid"))
    assert json.loads(line)["response"]["body"] == {"seed": BIG}


def test_an_output_line_takes_about_its_own_size_in_memory() -> None:
    body = {"text": "word " * 40}
    tracemalloc.start()
    try:
        lines = [result_line(f"c{i}", ModelResponse(body, "rid")) for i in range(200)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 2 * sum(map(len, lines)), (held, len(lines[0]))
