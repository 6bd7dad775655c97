"""Object keys whose segments are longer than a file name may be, in the local store.

Keys go to 1024 bytes; most filesystems allow 255 per name. The local store maps such a
segment to a short on-disk name and gives the real key back when listing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ark_batch.storage import LocalObjectStore, ObjectNotFoundError
from execution.execution_helpers import ExecEnv, chat_line, read_jsonl, write_jsonl

LONG = "s" * 300
LONG_UNICODE = "é" * 200  # 400 UTF-8 bytes in 200 characters


def test_a_long_segment_round_trips_and_lists_as_written(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    keys = [f"in/{LONG}/{LONG_UNICODE}.jsonl", f"in/{LONG}/short.jsonl", f"{LONG}.jsonl"]
    for key in keys:
        write_jsonl(store, "bkt", key, [chat_line(key[-20:])])
    for key in keys:
        assert store.exists("bkt", key)
        assert read_jsonl(store, "bkt", key)[0]["custom_id"] == key[-20:]
    assert list(store.list_keys("bkt")) == sorted(keys)
    assert list(store.list_keys("bkt", f"in/{LONG}/")) == sorted(keys[:2])
    download = tmp_path / "copy.jsonl"
    store.download_file("bkt", keys[0], download)
    assert download.read_bytes().startswith(b'{"custom_id"')
    for path in (tmp_path / "objects").rglob("*"):
        assert len(path.name.encode()) <= 255


def test_a_missing_long_key_is_an_ordinary_missing_object(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    write_jsonl(store, "bkt", "in/a.jsonl", [chat_line("a")])
    assert not store.exists("bkt", f"in/{LONG}.jsonl")
    with pytest.raises(ObjectNotFoundError) as info:
        store.iter_lines("bkt", f"in/{LONG}/x.jsonl")
    assert str(tmp_path) not in str(info.value)


def test_a_job_whose_long_input_is_missing_fails_like_any_missing_input(
    local_env: ExecEnv, tmp_path: Path
) -> None:
    key = f"in/{LONG}.jsonl"
    local_env.worker()
    job = local_env.wait(local_env.create(key))
    assert job.phase == "Failed"
    assert job.status_message == (f"The input file tos://{local_env.bucket}/{key} does not exist.")
    assert str(tmp_path) not in job.status_message


def test_a_job_with_a_long_output_prefix_completes(local_env: ExecEnv) -> None:
    write_jsonl(local_env.objects, local_env.bucket, "in/a.jsonl", [chat_line("a")])
    local_env.worker()
    job = local_env.wait(local_env.create("in/a.jsonl", output_prefix=f"out/{LONG}/"))
    assert job.phase == "Completed", job.status_message
    results, errors = local_env.outputs(job)
    assert [line["custom_id"] for line in results] == ["a"]
    assert errors == []
    listed = list(local_env.objects.list_keys(local_env.bucket, f"out/{LONG}/"))
    assert listed
    assert all(key.startswith(f"out/{LONG}/{job.id}/") for key in listed)
