"""The generation pipeline is pinned, deterministic and follows spec changes."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import pipeline


def test_the_pinned_generator_is_the_one_in_the_dependency_groups() -> None:
    pyproject = tomllib.loads((pipeline.ROOT / "pyproject.toml").read_text())
    assert (
        f"openapi-python-client=={pipeline.GENERATOR_VERSION}"
        in (pyproject["dependency-groups"]["generate"])
    )


def test_compare_reports_missing_unexpected_and_changed_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "pkg").mkdir(parents=True)
        (root / "pkg" / "same.py").write_text("x = 1\n")
    (a / "pkg" / "changed.py").write_text("y = 1\n")
    (b / "pkg" / "changed.py").write_text("y = 2\n")
    (a / "only_expected.py").write_text("")
    (b / "only_actual.py").write_text("")
    problems = pipeline.compare(a, b)
    assert problems[0] == "missing: only_expected.py"
    assert problems[1] == "unexpected: only_actual.py"
    assert problems[2].startswith("differs: pkg/changed.py")
    assert "-y = 2" in problems[2]
    assert "+y = 1" in problems[2]
    assert len(problems) == 3
    assert pipeline.compare(a, a) == []


@pytest.mark.slow
def test_committed_client_matches_a_fresh_generation(tmp_path: Path) -> None:
    fresh = pipeline.generate(tmp_path)
    assert pipeline.compare(fresh, pipeline.TARGET) == []


def bumped_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(pipeline.SPEC.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    schemas["BatchInferenceJob"]["properties"]["Priority"] = {
        "type": "integer",
        "description": "A field added in a later API version.",
    }
    get_path = spec["paths"]["/#Action=GetBatchInferenceJob"]
    stop = copy.deepcopy(get_path)
    op = stop["post"]
    op["operationId"] = "StopBatchInferenceJob"
    op["summary"] = "Stop a batch inference job"
    action = next(p for p in op["parameters"] if p.get("name") == "Action")
    action["schema"] = {
        "type": "string",
        "const": "StopBatchInferenceJob",
        "default": "StopBatchInferenceJob",
    }
    op["requestBody"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/StopBatchInferenceJobRequest"
    }
    del op["requestBody"]["content"]["application/json"]["examples"]
    del op["responses"]["200"]["content"]["application/json"]["examples"]
    schemas["StopBatchInferenceJobRequest"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["Id"],
        "properties": {"Id": {"type": "string"}, "DryRun": {"type": "boolean"}},
    }
    spec["paths"]["/#Action=StopBatchInferenceJob"] = stop
    return spec


@pytest.mark.slow
def test_an_api_version_bump_regenerates_with_the_new_names(tmp_path: Path) -> None:
    spec_file = tmp_path / "openapi.yaml"
    spec_file.write_text(yaml.safe_dump(bumped_spec(), allow_unicode=True), encoding="utf-8")
    out = pipeline.generate(tmp_path / "out", spec=spec_file)

    stop_module = out / "api" / "batch_inference_job" / "stop_batch_inference_job.py"
    assert stop_module.is_file()
    stop_source = stop_module.read_text()
    assert 'action: Literal["StopBatchInferenceJob"] = "StopBatchInferenceJob"' in stop_source
    assert '_PATH = "/#Action=StopBatchInferenceJob"' in stop_source
    assert (out / "models" / "stop_batch_inference_job_request.py").is_file()
    job_model = (out / "models" / "batch_inference_job.py").read_text()
    assert "priority: int | Unset = UNSET" in job_model
    assert 'd.pop("Priority", UNSET)' in job_model
    # The committed client has none of it: the bump only touched the temporary copy.
    committed = (pipeline.TARGET / "models" / "batch_inference_job.py").read_text()
    assert "priority" not in committed
