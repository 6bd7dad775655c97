"""The generation pipeline is pinned, deterministic and follows spec changes."""

from __future__ import annotations

import copy
import difflib
import inspect
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulator_support import spec_as_version

import ark_batch_client
from ark_batch import _api
from ark_batch.spec import default_registry
from ark_batch_client.api.batch_inference_job import get_batch_inference_job
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
    spec: dict[str, Any] = yaml.safe_load(pipeline.select_spec().read_text(encoding="utf-8"))
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


def test_the_generated_package_names_the_version_and_actions_it_was_built_for() -> None:
    registry = default_registry()
    wanted = pipeline.target_version() or registry.newest
    assert ark_batch_client.API_VERSION == _api.API_VERSION == wanted
    assert ark_batch_client.ACTIONS == _api.ACTIONS
    assert sorted(_api.ACTIONS) == sorted(registry.actions(wanted))
    # What every generated function sends is that same Version.
    sent = inspect.signature(get_batch_inference_job._get_kwargs).parameters["version"].default
    assert sent == _api.API_VERSION
    phases = default_registry().document(wanted).document["components"]["schemas"]["JobPhase"]
    assert sorted(_api.PHASES) == sorted(phases["enum"])
    assert (pipeline.TARGET / pipeline.TYPED_MARKER).is_file()


def write_version(directory: Path, name: str, version: str) -> None:
    spec = spec_as_version(version)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [('target = "newest"', None), ('target = "2024-01-01"', "2024-01-01")],
)
def test_the_target_version_is_named_in_generator_config(
    tmp_path: Path, text: str, expected: str | None
) -> None:
    config = tmp_path / "version.toml"
    config.write_text(text + "\n", encoding="utf-8")
    assert pipeline.target_version(config) == expected


@pytest.mark.parametrize("text", ["", 'target = ""', "target = 3", "not toml ["])
def test_a_bad_target_config_fails_naming_the_file(tmp_path: Path, text: str) -> None:
    config = tmp_path / "version.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(pipeline.PipelineError, match=r"version\.toml"):
        pipeline.target_version(config)


def test_the_committed_target_is_newest() -> None:
    assert pipeline.target_version() is None


def test_select_spec_picks_the_newest_or_the_named_version(tmp_path: Path) -> None:
    write_version(tmp_path, "openapi.yaml", "2024-01-01")
    write_version(tmp_path, "openapi-2024-06-01.yaml", "2024-06-01")
    assert pipeline.select_spec(tmp_path).name == "openapi-2024-06-01.yaml"
    assert pipeline.select_spec(tmp_path, "2024-01-01").name == "openapi.yaml"
    with pytest.raises(pipeline.PipelineError, match=r"2023-01-01 \(present: 2024-01-01, 2024-06"):
        pipeline.select_spec(tmp_path, "2023-01-01")
    with pytest.raises(pipeline.PipelineError, match="does not exist"):
        pipeline.select_spec(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(pipeline.PipelineError, match="no OpenAPI document"):
        pipeline.select_spec(tmp_path / "empty")


@pytest.mark.slow
def test_generating_from_a_spec_directory_targets_the_newest_version(tmp_path: Path) -> None:
    write_version(tmp_path / "spec", "openapi.yaml", "2024-01-01")
    write_version(tmp_path / "spec", "openapi-2099-01-01.yaml", "2099-01-01")
    out = pipeline.generate(tmp_path / "out", spec=tmp_path / "spec")
    init = (out / "__init__.py").read_text()
    assert 'API_VERSION = "2099-01-01"' in init
    get_module = (out / "api" / "batch_inference_job" / "get_batch_inference_job.py").read_text()
    assert 'version: Literal["2099-01-01"] = "2099-01-01"' in get_module
    assert (out / pipeline.TYPED_MARKER).is_file()


def test_the_drift_check_covers_the_typed_marker(tmp_path: Path) -> None:
    committed = tmp_path / "committed"
    fresh = tmp_path / "fresh"
    for root in (committed, fresh):
        root.mkdir()
        (root / "__init__.py").write_text("")
    (fresh / pipeline.TYPED_MARKER).write_text("")
    assert pipeline.compare(fresh, committed) == [f"missing: {pipeline.TYPED_MARKER}"]


def test_the_model_template_is_the_pinned_generators_plus_the_null_rule() -> None:
    """generator/templates/model.py.jinja must follow the pinned generator's own template.

    It differs only where it drops null-valued keys in from_dict; after a generator
    upgrade, copy the new template and re-apply that change.
    """
    from openapi_python_client import templates  # noqa: PLC0415  # only in the generate group

    upstream = (Path(templates.__path__[0]) / "model.py.jinja").read_text().splitlines()
    ours = (pipeline.TEMPLATES / "model.py.jinja").read_text().splitlines()
    diff = [line for line in difflib.ndiff(upstream, ours) if line[:1] in "+-"]
    assert diff == [
        "-         d = dict(src_dict)",
        "+         # An explicit JSON null reads as an absent field (docs/decisions/0009).",
        "+         d = {key: value for key, value in src_dict.items() if value is not None}",
    ]
