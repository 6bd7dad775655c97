"""Execution wired into the emulator app: jobs seen through the HTTP API, flags."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest

from ark_batch.emulator import EmulatorConfig, create_app
from ark_batch.emulator.cli import build_parser
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.emulator.execution import ExecutionConfig, object_store_for
from ark_batch.emulator.execution.cli import (
    OPENAI_API_KEY_ENV,
    describe_execution,
    execution_config_from_args,
)
from ark_batch.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from execution.execution_helpers import (
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
    ApiClient,
    chat_line,
    fresh_bucket,
    read_jsonl,
    write_jsonl,
)

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(params=["local", "s3"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None (the default: <data_dir>/objects) or an S3 URL for the moto server."""
    if request.param == "local":
        return None
    endpoint: str = request.getfixturevalue("moto_endpoint")
    return f"s3+http://{S3_ACCESS_KEY}:{S3_SECRET_KEY}@{endpoint.removeprefix('http://')}"


def test_job_completes_through_the_api(tmp_path: Path, storage_url: str | None) -> None:
    execution = ExecutionConfig(poll_interval=0.02, failure_rate=0.1, storage_url=storage_url)
    config = EmulatorConfig(data_dir=tmp_path / "emulator", execution=execution)
    objects = object_store_for(execution, config.data_dir)
    assert isinstance(objects, S3ObjectStore if storage_url else LocalObjectStore)
    bucket = fresh_bucket(objects, "api")
    write_jsonl(objects, bucket, "in/api.jsonl", [chat_line(f"a{i}") for i in range(300)])

    app = create_app(config)
    try:
        with EmbeddedEmulator(app=app) as server:
            api = ApiClient(server.url)
            job_id = api.create(bucket, "in/api.jsonl")
            phases: list[str] = []

            def finished(job: dict[str, Any]) -> bool:
                phases.append(job["Status"]["Phase"])
                return job["Status"]["Phase"] in ("Completed", "Failed")

            job = api.wait(job_id, finished, interval=0.005)
            api.close()
    finally:
        app.state.emulator.close()

    assert set(phases) <= {"Queued", "Running", "Completed"}
    assert job["Status"]["Phase"] == "Completed"
    assert RFC3339.match(job["Status"]["PhaseTime"])
    assert job["Status"]["PhaseTime"] == job["UpdateTime"]
    counts = job["RequestCounts"]
    assert counts["Total"] == 300
    assert counts["Completed"] + counts["Failed"] == 300
    assert counts["Failed"] > 0
    assert job["TokenUsage"]["TotalTokens"] == 6 * counts["Completed"]
    errors_key = f"out/{job_id}/output/errors.jsonl"
    assert job["ErrorFileTosLocation"] == {"BucketName": bucket, "ObjectKey": errors_key}
    results = read_jsonl(objects, bucket, f"out/{job_id}/output/results.jsonl")
    errors = read_jsonl(objects, bucket, errors_key)
    assert len(results) == counts["Completed"]
    assert len(errors) == counts["Failed"]
    assert len({line["custom_id"] for line in results + errors}) == 300


def test_without_execution_config_jobs_stay_queued(tmp_path: Path) -> None:
    for execution in (None, ExecutionConfig(enabled=False)):
        data_dir = tmp_path / f"emulator-{execution is None}"
        objects: ObjectStore = LocalObjectStore(data_dir / "objects")
        write_jsonl(objects, "bkt", "in/q.jsonl", [chat_line("q")])
        app = create_app(EmulatorConfig(data_dir=data_dir, execution=execution))
        try:
            with EmbeddedEmulator(app=app) as server:
                api = ApiClient(server.url)
                job_id = api.create("bkt", "in/q.jsonl")
                # Nothing was installed that could move a job: no lifespan hook, no
                # dispatcher thread, so "Queued" below is not a race against a worker.
                assert app.state.emulator.startup_hooks == []
                assert not any(t.name == "ark-batch-dispatcher" for t in threading.enumerate())
                assert api.get(job_id)["Status"]["Phase"] == "Queued"
                api.close()
        finally:
            app.state.emulator.close()


def test_cli_flags_build_the_execution_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = execution_config_from_args(build_parser().parse_args([]))
    assert defaults == ExecutionConfig()
    monkeypatch.setenv(OPENAI_API_KEY_ENV, "sk-from-env")
    args = build_parser().parse_args(
        [
            "--max-concurrent-jobs", "3",
            "--line-concurrency", "9",
            "--model-backend", "openai",
            "--openai-base-url", "http://127.0.0.1:8000/v1",
            "--openai-model", "qwen",
            "--failure-rate", "0.1",
            "--failure-seed", "s",
            "--latency", "0.5",
            "--time-speed", "86400",
            "--storage", "file:///tmp/objs",
            "--chunk-lines", "50",
        ]
    )  # fmt: skip
    config = execution_config_from_args(args)
    assert config == ExecutionConfig(
        max_concurrent_jobs=3,
        line_concurrency=9,
        backend="openai",
        openai_base_url="http://127.0.0.1:8000/v1",
        openai_api_key="sk-from-env",
        openai_model="qwen",
        failure_rate=0.1,
        failure_seed="s",
        latency=0.5,
        time_speed=86400,
        storage_url="file:///tmp/objs",
        chunk_lines=50,
    )
    line = describe_execution(config, tmp_path)
    assert "openai backend at http://127.0.0.1:8000/v1" in line
    assert "sk-from-env" not in line
    assert (
        describe_execution(ExecutionConfig(enabled=False), tmp_path)
        .strip()
        .startswith("job execution is OFF")
    )
    assert (
        execution_config_from_args(build_parser().parse_args(["--no-execution"])).enabled is False
    )
    with pytest.raises(ValueError, match="failure_rate"):
        execution_config_from_args(build_parser().parse_args(["--failure-rate", "2"]))
