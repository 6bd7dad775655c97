"""The ObjectStore contract on both backends: lines, atomic writes, listing, key safety."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from ark_batch.emulator.execution.progress import JobSpool
from ark_batch.storage import (
    InvalidObjectKeyError,
    LocalObjectStore,
    ObjectNotFoundError,
    ObjectStore,
    S3ObjectStore,
    StorageError,
    open_store,
)
from ark_batch.storage.base import split_lines
from execution.execution_helpers import S3_ACCESS_KEY, S3_SECRET_KEY, fresh_bucket

UNSAFE_KEYS = [
    "../escape.jsonl",
    "a/../../escape.jsonl",
    "a/../b.jsonl",
    "/etc/passwd",
    "a\\..\\b",
    "a\x00b",
    "",
    "a//b",
    "./a",
    "folder/",
    "line\nbreak",
]


def _put(store: ObjectStore, bucket: str, key: str, data: bytes) -> None:
    with store.open_writer(bucket, key) as writer:
        writer.write(data)


def test_round_trip_lines(any_store: ObjectStore) -> None:
    bucket = fresh_bucket(any_store)
    _put(any_store, bucket, "in/a.jsonl", b'{"a": 1}\r\n\n{"b": 2}\nlast')
    assert list(any_store.iter_lines(bucket, "in/a.jsonl")) == [
        b'{"a": 1}',
        b"",
        b'{"b": 2}',
        b"last",
    ]
    assert any_store.exists(bucket, "in/a.jsonl")
    assert not any_store.exists(bucket, "in/b.jsonl")


def test_missing_object_raises_not_found(any_store: ObjectStore) -> None:
    bucket = fresh_bucket(any_store)
    with pytest.raises(ObjectNotFoundError) as info:
        any_store.iter_lines(bucket, "nope.jsonl")
    assert "tos://" in str(info.value)
    with pytest.raises(ObjectNotFoundError):
        any_store.iter_lines("no-such-bucket-xyz", "nope.jsonl")
    with pytest.raises(ObjectNotFoundError):
        any_store.download_file(bucket, "nope.jsonl", Path(os.devnull))


def test_writer_is_atomic_on_error(any_store: ObjectStore) -> None:
    bucket = fresh_bucket(any_store)

    class Boom(Exception):
        pass

    def write_then_fail() -> None:
        with any_store.open_writer(bucket, "out/partial.jsonl") as writer:
            writer.write(b"half a line")
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    assert not any_store.exists(bucket, "out/partial.jsonl")
    assert list(any_store.list_keys(bucket)) == []


def test_writer_replaces_existing_object(any_store: ObjectStore) -> None:
    bucket = fresh_bucket(any_store)
    _put(any_store, bucket, "k", b"old\n")
    _put(any_store, bucket, "k", b"new\n")
    assert list(any_store.iter_lines(bucket, "k")) == [b"new"]


def test_list_keys_by_prefix(any_store: ObjectStore) -> None:
    bucket = fresh_bucket(any_store)
    for key in ["p/job/output/results.jsonl", "p/job/error/errors.jsonl", "p/other", "q"]:
        _put(any_store, bucket, key, b"x\n")
    assert list(any_store.list_keys(bucket, "p/job/")) == [
        "p/job/error/errors.jsonl",
        "p/job/output/results.jsonl",
    ]
    assert list(any_store.list_keys(bucket, "p/o")) == ["p/other"]
    assert len(list(any_store.list_keys(bucket))) == 4


def test_upload_and_download_file(any_store: ObjectStore, tmp_path: Path) -> None:
    bucket = fresh_bucket(any_store)
    source = tmp_path / "src.jsonl"
    source.write_bytes(b"".join(b'{"n": %d}\n' % i for i in range(1000)))
    any_store.upload_file(bucket, "up/src.jsonl", source)
    target = tmp_path / "dst.jsonl"
    any_store.download_file(bucket, "up/src.jsonl", target)
    assert target.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_rejected_for_read_and_write(any_store: ObjectStore, key: str) -> None:
    bucket = fresh_bucket(any_store)
    with pytest.raises(InvalidObjectKeyError):
        any_store.iter_lines(bucket, key)
    with pytest.raises(InvalidObjectKeyError), any_store.open_writer(bucket, key) as writer:
        writer.write(b"x")
    with pytest.raises(InvalidObjectKeyError):
        any_store.exists(bucket, key)


@pytest.mark.parametrize("bucket", ["..", ".", "", "a/b", "../x", ".staging", "a\\b", "-x"])
def test_unsafe_buckets_rejected(any_store: ObjectStore, bucket: str) -> None:
    with pytest.raises(InvalidObjectKeyError):
        any_store.iter_lines(bucket, "k")
    with pytest.raises(InvalidObjectKeyError), any_store.open_writer(bucket, "k") as writer:
        writer.write(b"x")


def test_local_store_never_touches_outside_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    store = LocalObjectStore(tmp_path / "root")
    (tmp_path / "root" / "bkt").mkdir()
    # A symlink planted inside the bucket must not be a way out, for reads or writes.
    (tmp_path / "root" / "bkt" / "link").symlink_to(outside)
    with pytest.raises(InvalidObjectKeyError):
        store.iter_lines("bkt", "link/secret.txt")
    with pytest.raises(InvalidObjectKeyError), store.open_writer("bkt", "link/new.txt") as w:
        w.write(b"x")
    # A bucket folder that is itself a symlink elsewhere is refused too.
    (tmp_path / "root" / "evil").symlink_to(outside)
    with pytest.raises(InvalidObjectKeyError):
        store.iter_lines("evil", "secret.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert list(store.list_keys("bkt")) == []


def test_local_folder_object_collision_is_a_storage_error(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    _put(store, "bkt", "a/b", b"x")
    with pytest.raises(StorageError), store.open_writer("bkt", "a/b/c") as writer:
        writer.write(b"y")


def test_split_lines_across_chunks() -> None:
    chunks = [b"ab", b"c\nd", b"", b"e\r", b"\nf", b"g"]
    assert list(split_lines(iter(chunks))) == [b"abc", b"de", b"fg"]
    assert list(split_lines(iter([b"x\n"]))) == [b"x"]


def _write_big(store: ObjectStore, bucket: str, key: str, lines: int) -> int:
    line = b'{"custom_id": "%08d", "body": {"messages": [{"role": "user", "content": "hi"}]}}\n'
    size = 0
    with store.open_writer(bucket, key) as writer:
        for i in range(lines):
            data = line % i
            size += len(data)
            writer.write(data)
    return size


@pytest.mark.slow
def test_iter_lines_memory_is_flat(any_store: ObjectStore) -> None:
    """Peak traced memory while streaming a ~20 MB object stays far below its size."""
    bucket = fresh_bucket(any_store)
    size = _write_big(any_store, bucket, "big.jsonl", 250_000)
    assert size > 20_000_000
    tracemalloc.start()
    try:
        count = 0
        for _line in any_store.iter_lines(bucket, "big.jsonl"):
            count += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 250_000
    assert peak < 4_000_000, f"peak {peak} bytes while streaming {size} bytes"


@pytest.mark.slow
def test_s3_multipart_writer(s3_store: S3ObjectStore) -> None:
    """Objects larger than one part go up as a multipart upload and read back intact."""
    bucket = fresh_bucket(s3_store)
    store = S3ObjectStore(None, None, None, client=s3_store.client, part_size=5 * 1024 * 1024)
    size = _write_big(store, bucket, "multi.jsonl", 150_000)
    assert size > 10 * 1024 * 1024
    head = s3_store.client.head_object(Bucket=bucket, Key="multi.jsonl")
    assert head["ContentLength"] == size
    assert "-" in head["ETag"]  # a multipart ETag is "<md5>-<parts>"
    assert sum(1 for _ in store.iter_lines(bucket, "multi.jsonl")) == 150_000


def test_open_store_grammar(tmp_path: Path, moto_endpoint: str) -> None:
    local = open_store(f"file://{tmp_path}/objs")
    assert isinstance(local, LocalObjectStore)
    assert local.root == tmp_path / "objs"
    assert isinstance(open_store(str(tmp_path / "plain")), LocalObjectStore)
    host_port = moto_endpoint.removeprefix("http://")
    s3 = open_store(f"s3+http://{S3_ACCESS_KEY}:{S3_SECRET_KEY}@{host_port}?region=cn-beijing")
    assert isinstance(s3, S3ObjectStore)
    assert s3.endpoint_url == moto_endpoint
    bucket = fresh_bucket(s3)
    _put(s3, bucket, "k", b"v\n")
    assert list(s3.iter_lines(bucket, "k")) == [b"v"]
    with pytest.raises(StorageError):
        open_store("ftp://example.com/x")


@pytest.mark.slow
def test_s3_upload_file_goes_multipart_above_the_part_size(
    s3_store: S3ObjectStore, tmp_path: Path
) -> None:
    bucket = fresh_bucket(s3_store)
    source = tmp_path / "big.jsonl"
    line = b'{"custom_id": "%08d", "body": {"messages": []}}\n'
    with source.open("wb") as handle:
        for start in range(0, 300_000, 10_000):
            handle.write(b"".join(line % i for i in range(start, start + 10_000)))
    size = source.stat().st_size
    assert size > 12 * 1024 * 1024
    s3_store.upload_file(bucket, "up/big.jsonl", source)
    head = s3_store.client.head_object(Bucket=bucket, Key="up/big.jsonl")
    assert head["ContentLength"] == size
    assert "-" in head["ETag"]
    copy = tmp_path / "copy.jsonl"
    s3_store.download_file(bucket, "up/big.jsonl", copy)
    assert copy.read_bytes() == source.read_bytes()


def test_a_new_spool_generation_holds_exactly_the_committed_bytes(tmp_path: Path) -> None:
    job_dir = tmp_path / "spool" / "job"
    first = JobSpool(job_dir, 1)
    first.open(0, 0)
    first.append(b"r1\n", b"e1\n")
    first.append(b"r2-uncommitted\n", b"")
    first.close()
    # A new owner took over after the first chunk was committed (3 and 3 bytes).
    second = JobSpool(job_dir, 2)
    second.open(3, 3)
    # The former owner still writing into its generation changes nothing for the new one.
    (job_dir / "gen-1").mkdir(exist_ok=True)
    (job_dir / "gen-1" / "results.jsonl").write_bytes(b"stale\n")
    second.append(b"r2\n", b"")
    second.close()
    assert second.results_path.read_bytes() == b"r1\nr2\n"
    assert second.errors_path.read_bytes() == b"e1\n"
    assert sorted(p.name for p in job_dir.iterdir()) == ["gen-1", "gen-2"]
    # The next adoption removes every older generation.
    JobSpool(job_dir, 3).adopt(6, 3)
    assert sorted(p.name for p in job_dir.iterdir()) == ["gen-3"]
    assert (job_dir / "gen-3" / "results.jsonl").read_bytes() == b"r1\nr2\n"


def test_a_spool_from_before_leases_is_adopted(tmp_path: Path) -> None:
    job_dir = tmp_path / "spool" / "job"
    job_dir.mkdir(parents=True)
    (job_dir / "results.jsonl").write_bytes(b"old\nuncommitted")
    (job_dir / "errors.jsonl").write_bytes(b"")
    spool = JobSpool(job_dir, 1)
    spool.open(4, 0)
    spool.close()
    assert spool.results_path.read_bytes() == b"old\n"
    assert not (job_dir / "results.jsonl").exists()


def test_a_symlink_loop_is_an_invalid_key_that_names_no_host_path(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "root")
    (tmp_path / "root" / "bkt").mkdir()
    (tmp_path / "root" / "bkt" / "loop1").symlink_to("loop2")
    (tmp_path / "root" / "bkt" / "loop2").symlink_to("loop1")
    (tmp_path / "root" / "round").symlink_to("round")
    with pytest.raises(InvalidObjectKeyError) as read:
        store.iter_lines("bkt", "loop1")
    with pytest.raises(InvalidObjectKeyError) as write, store.open_writer("bkt", "loop1/x") as w:
        w.write(b"x")
    with pytest.raises(InvalidObjectKeyError) as bucket:
        store.iter_lines("round", "k")
    assert str(read.value) == "object key 'loop1' leads into a symlink loop"
    assert str(write.value) == "object key 'loop1/x' leads into a symlink loop"
    assert str(bucket.value) == "bucket 'round' leads into a symlink loop"
