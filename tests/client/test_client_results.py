"""Results helpers: typed, streaming records from a local store and from S3."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ark_batch.facade import ArkBatch, AsyncArkBatch
from ark_batch.results import (
    ResultFormatError,
    ResultRecord,
    error_locations,
    iter_errors,
    iter_records,
    iter_results,
    parse_record,
    results_location,
)
from ark_batch.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from ark_batch_client.models import BatchInferenceJob
from client.client_support import ScriptedService, job_dict, mock_client

SUCCESS = {
    "id": "req-1",
    "custom_id": "c-1",
    "error": None,
    "response": {
        "request_id": "r-1",
        "status_code": 200,
        "body": {
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        },
        "something_new": True,
    },
    "extra_top_level": [1, 2],
}
FAILURE = {
    "id": "req-2",
    "custom_id": "c-2",
    "response": None,
    "error": {"code": "AccessDenied", "type": "Forbidden", "message": "no access"},
}


def _job(**overrides: Any) -> BatchInferenceJob:
    return BatchInferenceJob.from_dict(job_dict("bi-7", "Completed", **overrides))


def _write(store: ObjectStore, bucket: str, key: str, lines: list[Any]) -> None:
    with store.open_writer(bucket, key) as writer:
        for line in lines:
            text = line if isinstance(line, str) else json.dumps(line)
            writer.write(text.encode() + b"\n")


def test_parse_success_and_failure_lines_tolerating_unknown_fields() -> None:
    ok = parse_record(json.dumps(SUCCESS))
    assert ok.ok
    assert (ok.id, ok.custom_id) == ("req-1", "c-1")
    assert ok.response is not None
    assert ok.response.status_code == 200
    assert ok.response.request_id == "r-1"
    assert ok.content == "Hello"
    assert ok.usage == {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    assert ok.raw["extra_top_level"] == [1, 2]
    bad = parse_record(json.dumps(FAILURE).encode())
    assert not bad.ok
    assert bad.error is not None
    assert (bad.error.code, bad.error.type, bad.error.message) == (
        "AccessDenied",
        "Forbidden",
        "no access",
    )
    assert bad.content is None
    assert bad.usage is None
    odd = parse_record('{"custom_id": 5, "error": "boom", "response": {"body": []}}')
    assert odd.custom_id is None
    assert odd.error is not None
    assert odd.error.message == "boom"


def test_non_object_lines_raise_with_their_position() -> None:
    with pytest.raises(ResultFormatError, match="line 3 is not JSON"):
        parse_record("{oops", where="line 3")
    with pytest.raises(ResultFormatError, match="not a JSON object"):
        parse_record("[1]")


def test_locations_follow_the_output_layout() -> None:
    job = _job()
    assert results_location(job) == ("bucket", "out/bi-7/output/results.jsonl")
    assert error_locations(job) == [
        ("bucket", "out/bi-7/output/errors.jsonl"),
        ("bucket", "out/bi-7/error/errors.jsonl"),
    ]
    pointed = _job(ErrorFileTosLocation={"BucketName": "errs", "ObjectKey": "x/errors.jsonl"})
    assert error_locations(pointed) == [("errs", "x/errors.jsonl")]
    no_slash = _job(OutputDirTosLocation={"BucketName": "b", "ObjectKey": "out"})
    assert results_location(no_slash) == ("b", "out/bi-7/output/results.jsonl")


def _check_store(store: ObjectStore) -> None:
    job = _job(ErrorFileTosLocation={"BucketName": "bucket", "ObjectKey": "out/bi-7/e.jsonl"})
    assert list(iter_results(store, job)) == []  # nothing written yet
    assert list(iter_errors(store, job)) == []
    _write(store, "bucket", "out/bi-7/output/results.jsonl", [SUCCESS, "", SUCCESS])
    assert [r.custom_id for r in iter_results(store, job)] == ["c-1", "c-1"]
    assert list(iter_errors(store, job)) == []  # tolerant of a missing errors file
    _write(store, "bucket", "out/bi-7/e.jsonl", [FAILURE])
    records = list(iter_records(store, job))
    assert [r.ok for r in records] == [True, True, False]


def test_local_store(tmp_path: Path) -> None:
    _check_store(LocalObjectStore(tmp_path))


def test_results_stream_lazily(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    job = _job()
    _write(store, "bucket", "out/bi-7/output/results.jsonl", [SUCCESS, "{broken"])
    records = iter_results(store, job)
    assert next(records).ok  # the first line parses before the broken one is read
    with pytest.raises(ResultFormatError, match=r"results.jsonl line 2"):
        next(records)


def test_a_line_nested_too_deeply_names_the_file_and_line(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    _write(store, "bucket", "out/bi-7/output/results.jsonl", [SUCCESS, deep])
    with pytest.raises(ResultFormatError, match=r"results.jsonl line 2 is JSON nested too"):
        list(iter_results(store, _job()))


@pytest.fixture
def s3_store() -> Iterator[S3ObjectStore]:
    from emulator_support import free_port  # noqa: PLC0415
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        store = S3ObjectStore(f"http://127.0.0.1:{port}", "testing", "testing", "us-east-1")
        store.client.create_bucket(Bucket="bucket")
        yield store
    finally:
        server.stop()


def test_s3_compatible_store(s3_store: S3ObjectStore) -> None:
    _check_store(s3_store)


def test_facade_results_by_job_id(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    _write(store, "bucket", "out/bi-7/output/results.jsonl", [SUCCESS])
    _write(store, "bucket", "out/bi-7/output/errors.jsonl", [FAILURE, FAILURE])
    service = ScriptedService()
    service.jobs.append(job_dict("bi-7", "Completed"))
    with ArkBatch(client=mock_client(service), store=store) as ark:
        assert [r.content for r in ark.results("bi-7")] == ["Hello"]
        assert [r.custom_id for r in ark.errors("bi-7")] == ["c-2", "c-2"]
        assert len(list(ark.records(_job()))) == 3
    ark = ArkBatch(client=mock_client(service))
    with ark, pytest.raises(ValueError, match="object store"):
        ark.results("bi-7")

    async def main() -> list[ResultRecord]:
        async with AsyncArkBatch(client=mock_client(service, asynchronous=True)) as ark:
            return [r async for r in ark.records("bi-7", store=store)]

    assert [r.ok for r in asyncio.run(main())] == [True, False, False]


def test_async_results_stream_in_batches(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    _write(store, "bucket", "out/bi-7/output/results.jsonl", [SUCCESS] * 1200)
    service = ScriptedService()

    async def main() -> int:
        async with AsyncArkBatch(client=mock_client(service, asynchronous=True)) as ark:
            return len([r async for r in ark.results(_job(), store=store)])

    assert asyncio.run(main()) == 1200
    assert service.requests == []  # a job object needs no Get
