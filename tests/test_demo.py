"""The quick-start job and the embedded emulator it runs on."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from ark_batch import demo
from ark_batch.emulator import DEV_ACCESS_KEY, EmulatorConfig
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch_client.models import ErrorResponse


def test_demo_runs_a_job_to_completed_and_prints_where_results_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = demo.main(
        ["--lines", "40", "--failure-rate", "0.25", "--latency", "0", "--data-dir", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Completed:" in out
    [results_path] = [
        line.strip() for line in out.splitlines() if line.strip().endswith("results.jsonl")
        and line.strip().startswith("/")
    ]  # fmt: skip
    [errors_path] = [
        line.strip() for line in out.splitlines() if line.strip().endswith("errors.jsonl")
        and line.strip().startswith("/")
    ]  # fmt: skip
    results = [json.loads(x) for x in Path(results_path).read_text().splitlines()]
    errors = [json.loads(x) for x in Path(errors_path).read_text().splitlines()]
    ids = [r["custom_id"] for r in results] + [e["custom_id"] for e in errors]
    assert sorted(ids) == [f"request-{n:05d}" for n in range(40)]
    assert errors, "a 25% failure rate over 40 lines fails some"
    assert all(e["response"] is None for e in errors)
    assert Path(results_path).is_relative_to(tmp_path)


def test_lines_must_be_positive() -> None:
    with pytest.raises(SystemExit) as info:
        demo.main(["--lines", "0"])
    assert info.value.code == 2


def test_service_errors_become_one_line_demo_errors() -> None:
    envelope = ErrorResponse.from_dict(
        {
            "ResponseMetadata": {
                "RequestId": "r",
                "Error": {"Code": "OperationDenied.ActiveJobExists", "Message": "bi-1 is active"},
            }
        }
    )
    with pytest.raises(demo.DemoError, match=r"^OperationDenied.ActiveJobExists: bi-1 is active$"):
        demo._ok(envelope)
    with pytest.raises(demo.DemoError, match="undocumented"):
        demo._ok(None)


def test_embedded_emulator_serves_signed_requests_and_cleans_up() -> None:
    with EmbeddedEmulator() as emulator:
        assert emulator.url.startswith("http://127.0.0.1:")
        assert emulator.credentials.access_key == DEV_ACCESS_KEY
        data_dir = emulator.config.data_dir
        assert data_dir.is_dir()
        unsigned = httpx.post(
            f"{emulator.url}/?Action=GetBatchInferenceJob&Version=2024-01-01", json={"Id": "x"}
        )
        assert unsigned.status_code == 401
        assert unsigned.json()["ResponseMetadata"]["Error"]["Code"] == "MissingAuthenticationToken"
    assert not data_dir.exists()
    with pytest.raises(RuntimeError):
        _ = emulator.state


def test_embedded_emulator_keeps_a_given_data_dir(tmp_path: Path) -> None:
    with EmbeddedEmulator(EmulatorConfig(data_dir=tmp_path)) as emulator:
        assert emulator.state.config.data_dir == tmp_path
    assert (tmp_path / "jobs.sqlite3").exists()
