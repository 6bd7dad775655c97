"""SIGKILL the emulator in the middle of a large job; the restarted one finishes it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ark_batch.storage import LocalObjectStore
from execution.execution_helpers import (
    ApiClient,
    EmulatorProcess,
    count_custom_ids,
    write_numbered_input,
)

LINES = 200_000


@pytest.mark.slow
def test_sigkill_mid_job_then_restart_finishes_exactly_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    write_numbered_input(LocalObjectStore(data_dir / "objects"), "bkt", "in/big.jsonl", LINES)
    faults = ["--failure-rate", "0.05", "--failure-seed", "crash"]

    # First life: slowed down by per-request latency so that it is surely mid-run.
    first = EmulatorProcess(
        data_dir, "--latency", "0.001", "--line-concurrency", "16", "--chunk-lines", "500", *faults
    )
    try:
        assert "jobs run on the echo backend" in first.banner[2]
        api = ApiClient(first.url)
        job_id = api.create("bkt", "in/big.jsonl")
        before = api.wait(job_id, lambda j: j["RequestCounts"]["Completed"] >= 2_000)
        assert before["Status"]["Phase"] == "Running"
        assert before["RequestCounts"]["Total"] == LINES
        api.close()
        first.kill()
    finally:
        first.stop()

    # Second life on the same data dir, at full speed.
    second = EmulatorProcess(data_dir, *faults)
    try:
        api = ApiClient(second.url)
        resumed = api.get(job_id)
        assert resumed["Status"]["Phase"] == "Running"
        seen: list[int] = []

        def finished(job: dict[str, Any]) -> bool:
            seen.append(job["RequestCounts"]["Completed"])
            return bool(job["Status"]["Phase"] != "Running")

        done = api.wait(job_id, finished, timeout=90)
        api.close()
    finally:
        second.stop()

    assert done["Status"]["Phase"] == "Completed", done["Status"]
    # Resumed, not restarted: counts never went back below what the first life reached.
    assert min(seen) >= before["RequestCounts"]["Completed"]
    counts = done["RequestCounts"]
    assert counts["Total"] == LINES
    assert counts["Completed"] + counts["Failed"] == LINES
    assert 0.03 * LINES < counts["Failed"] < 0.07 * LINES

    out = data_dir / "objects" / "bkt" / "out" / job_id / "output"
    ids: Counter[str] = Counter()
    assert count_custom_ids(out / "results.jsonl", ids) == counts["Completed"]
    assert count_custom_ids(out / "errors.jsonl", ids) == counts["Failed"]
    assert len(ids) == LINES
    assert max(ids.values()) == 1
    error_location = done["ErrorFileTosLocation"]
    assert error_location == {
        "BucketName": "bkt",
        "ObjectKey": f"out/{job_id}/output/errors.jsonl",
    }
    usage = done["TokenUsage"]
    assert usage["PromptTokens"] == usage["CompletionTokens"] == counts["Completed"]
