"""The spec is valid, complete, and its examples are the seeds' examples and valid."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from ark_batch.spec import (
    SpecRegistry,
    default_registry,
    discover_documents,
    load_registry,
    load_spec,
    operation,
    schema_validator,
    spec_dir,
    spec_path,
)

ACTIONS = default_registry().actions()

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
SEED_NAMES = {
    "CreateBatchInferenceJob": "create",
    "GetBatchInferenceJob": "get",
    "ListBatchInferenceJobs": "list",
}


def seed(name: str) -> Any:
    return json.loads((SEEDS / name).read_text(encoding="utf-8"))


def schema_name(ref_holder: dict[str, Any]) -> str:
    ref: str = ref_holder["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def errors_of(schema: str, instance: Any) -> list[str]:
    return sorted(
        "/".join(str(p) for p in e.absolute_path) or "<root>"
        for e in schema_validator(schema).iter_errors(instance)
    )


@pytest.mark.parametrize("version", default_registry().versions)
def test_every_shipped_document_is_valid_openapi_3_1(version: str) -> None:
    spec = dict(default_registry().document(version).document)
    assert spec["openapi"].startswith("3.1")
    validate(spec)


@pytest.mark.parametrize("version", default_registry().versions)
def test_every_operation_sends_its_documents_version(version: str) -> None:
    """The Version query parameter of each operation is the document's info.version."""
    document = default_registry().document(version)
    parameters = document.document["components"]["parameters"]
    for action in document.actions:
        for declared in document.operation(action)["parameters"]:
            ref = declared.get("$ref")
            param = parameters[ref.rsplit("/", 1)[-1]] if ref else declared
            if param["name"] == "Version":
                assert param["schema"]["const"] == param["schema"]["default"] == version
                break
        else:
            pytest.fail(f"{action} of {version} has no Version parameter")


def test_the_shipped_spec_is_2024_01_01_in_openapi_yaml() -> None:
    registry = default_registry()
    assert "2024-01-01" in registry.versions
    assert spec_path("2024-01-01") == spec_dir() / "openapi.yaml"
    assert spec_path() == registry.document(registry.newest).path
    assert {"CreateBatchInferenceJob", "GetBatchInferenceJob", "ListBatchInferenceJobs"} <= set(
        registry.actions("2024-01-01")
    )


def write_document(directory: Path, name: str, version: str, actions: list[str]) -> None:
    paths = {
        f"/#Action={action}": {"post": {"operationId": action, "responses": {}}}
        for action in actions
    }
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": version}, "paths": paths}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(json.dumps(document), encoding="utf-8")


def test_documents_are_found_by_info_version_and_the_newest_is_the_latest_date(
    tmp_path: Path,
) -> None:
    write_document(tmp_path / "a", "openapi.yaml", "2024-01-01", ["Get", "List"])
    write_document(tmp_path / "b", "later.json", "2024-06-01", ["Get", "List", "Stop"])
    (tmp_path / "a" / "redocly.yaml").write_text("extends: [recommended]\n", encoding="utf-8")
    (tmp_path / "a" / "notes.txt").write_text("openapi: 3.1.0\n", encoding="utf-8")
    registry = SpecRegistry.from_dirs([tmp_path / "b", tmp_path / "a"])
    assert registry.versions == ("2024-01-01", "2024-06-01")
    assert registry.newest == "2024-06-01"
    assert registry.actions() == ("Get", "List", "Stop")
    assert registry.actions("2024-01-01") == ("Get", "List")
    assert registry.serves("Stop", "2024-06-01")
    assert not registry.serves("Stop", "2024-01-01")
    assert not registry.serves("Get", "2023-01-01")
    with pytest.raises(KeyError, match="2023-01-01"):
        registry.document("2023-01-01")
    with pytest.raises(KeyError, match="Stop"):
        registry.operation("2024-01-01", "Stop")


def test_two_documents_for_one_version_fail_naming_both(tmp_path: Path) -> None:
    write_document(tmp_path, "one.yaml", "2024-01-01", ["Get"])
    write_document(tmp_path, "two.yaml", "2024-01-01", ["Get"])
    with pytest.raises(ValueError, match=r"2024-01-01 is defined twice: one.yaml and two.yaml"):
        discover_documents([tmp_path])


def test_a_document_that_is_not_yaml_fails_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("openapi: [3.1.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.yaml is not valid YAML"):
        discover_documents([tmp_path])


def test_a_directory_without_documents_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no OpenAPI document"):
        SpecRegistry.from_dirs([tmp_path])
    with pytest.raises(FileNotFoundError, match="missing"):
        load_registry([tmp_path / "missing"])


def test_the_wheel_ships_the_whole_spec_directory() -> None:
    pyproject = tomllib.loads((spec_dir().parent / "pyproject.toml").read_text())
    include = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert include["spec"] == "ark_batch/_spec"


def test_every_action_is_a_fragment_path_with_required_const_query_parameters() -> None:
    for action in ACTIONS:
        op = operation(action)
        assert op["operationId"] == action
        params = {p["name"]: p for p in op["parameters"] if "name" in p}
        resolved = [load_spec()["components"]["parameters"]["Version"]]
        params.update({p["name"]: p for p in resolved})
        assert params["Action"]["required"] is True
        assert params["Action"]["schema"]["const"] == action
        assert params["Action"]["schema"]["default"] == action
        assert params["Version"]["required"] is True
        assert params["Version"]["schema"]["const"] == "2024-01-01"


@pytest.mark.parametrize("action", ACTIONS)
def test_every_error_status_uses_the_error_envelope(action: str) -> None:
    responses = operation(action)["responses"]
    components = load_spec()["components"]["responses"]
    error_statuses = [s for s in responses if s != "200"]
    assert "default" in error_statuses
    assert {"400", "401", "403", "404", "405", "429", "500"} <= set(error_statuses)
    for status in error_statuses:
        name = responses[status]["$ref"].rsplit("/", 1)[-1]
        body = components[name]["content"]["application/json"]
        assert schema_name(body) == "ErrorResponse"


def all_media_examples() -> list[tuple[str, str, str, Any]]:
    """(location, schema, example name, value) for every request and response example."""
    found = []
    for action in ACTIONS:
        op = operation(action)
        media = op["requestBody"]["content"]["application/json"]
        for name, ex in media["examples"].items():
            found.append((f"{action} request", schema_name(media), name, ex["value"]))
        media = op["responses"]["200"]["content"]["application/json"]
        for name, ex in media["examples"].items():
            found.append((f"{action} 200", schema_name(media), name, ex["value"]))
    for rname, resp in load_spec()["components"]["responses"].items():
        media = resp["content"]["application/json"]
        for name, ex in media.get("examples", {}).items():
            found.append((f"response {rname}", schema_name(media), name, ex["value"]))
    return found


@pytest.mark.parametrize(
    ("location", "schema", "name", "value"),
    all_media_examples(),
    ids=[f"{loc}:{name}" for loc, _, name, _ in all_media_examples()],
)
def test_every_spec_example_validates_against_its_schema(
    location: str, schema: str, name: str, value: Any
) -> None:
    assert errors_of(schema, value) == []


@pytest.mark.parametrize("action", sorted(SEED_NAMES))
def test_spec_response_example_is_the_seed_response(action: str) -> None:
    example = operation(action)["responses"]["200"]["content"]["application/json"]["examples"]
    spec_value = example["seed"]["value"]
    expected = seed(f"{SEED_NAMES[action]}_response.json")
    if action == "CreateBatchInferenceJob":
        # The seed masks the new Id ("bi-2024091****-****"); the spec shows the Id of the
        # job the Get/List seeds describe, which the same request created.
        assert expected["Result"]["Id"] == "bi-2024091****-****"
        expected["Result"]["Id"] = "bi-20240918194641-r2nwq"
    assert spec_value == expected


@pytest.mark.parametrize("action", ["CreateBatchInferenceJob", "GetBatchInferenceJob"])
def test_spec_request_example_is_the_seed_request(action: str) -> None:
    media = operation(action)["requestBody"]["content"]["application/json"]
    assert media["examples"]["seed"]["value"] == seed(f"{SEED_NAMES[action]}_request.json")


def test_seed_responses_validate_verbatim() -> None:
    # Including the masked Create Id: the response schema does not constrain Id's shape.
    for action, short in SEED_NAMES.items():
        assert errors_of(f"{action}Response", seed(f"{short}_response.json")) == []


def test_list_seed_placeholders_are_rejected_and_the_spec_example_only_replaces_them() -> None:
    """Seed 001's List request holds generated placeholder values, not valid input.

    We treat it as an example of invalid input: verbatim, it must fail validation on exactly
    the placeholder fields. The spec's List example keeps every field of the seed and
    replaces only those placeholders with valid values.
    """
    raw = seed("list_request.json")
    assert errors_of("ListBatchInferenceJobsRequest", raw) == [
        "Filter/Phases/0",
        "PageNumber",
        "SortOrder",
    ]
    media = operation("ListBatchInferenceJobs")["requestBody"]["content"]["application/json"]
    spec_value = media["examples"]["seed"]["value"]
    substitutions = {
        ("PageNumber",): (0, 1),
        ("SortOrder",): ("\\-", "Desc"),
        ("ProjectName",): ("\\-", "default"),
        ("Filter", "Phases"): (["f5yt"], ["Running"]),
    }
    for path, (placeholder, replacement) in substitutions.items():
        seed_holder, spec_holder = raw, spec_value
        for key in path[:-1]:
            seed_holder, spec_holder = seed_holder[key], spec_holder[key]
        assert seed_holder[path[-1]] == placeholder
        assert spec_holder[path[-1]] == replacement
        seed_holder[path[-1]] = replacement
    assert spec_value == raw


@pytest.mark.parametrize(
    ("body", "bad_path"),
    [
        ({"PageSize": 0}, "PageSize"),
        ({"PageSize": 101}, "PageSize"),
        ({"PageNumber": 0}, "PageNumber"),
        ({"SortBy": "Name"}, "SortBy"),
        ({"Filter": {"Phases": ["Initializing"]}}, "Filter/Phases/0"),
        ({"Pagesize": 10}, "<root>"),
    ],
)
def test_list_request_constraints(body: dict[str, Any], bad_path: str) -> None:
    assert errors_of("ListBatchInferenceJobsRequest", body) == [bad_path]


def create_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = seed("create_request.json")
    body.update(overrides)
    return body


@pytest.mark.parametrize("window", ["1d", "9d", "10d", "28d"])
def test_completion_window_accepts_whole_days_1_to_28(window: str) -> None:
    assert errors_of("CreateBatchInferenceJobRequest", create_body(CompletionWindow=window)) == []


@pytest.mark.parametrize("window", ["0d", "29d", "1h", "01d", "1 d", "28 days", "d"])
def test_completion_window_rejects_everything_else(window: str) -> None:
    body = create_body(CompletionWindow=window)
    assert errors_of("CreateBatchInferenceJobRequest", body) == ["CompletionWindow"]


@pytest.mark.parametrize(
    "reference",
    [
        {},
        {"CustomModelId": "m-1", "FoundationModel": {"Name": "n", "ModelVersion": "v"}},
    ],
)
def test_model_reference_needs_exactly_one_model(reference: dict[str, Any]) -> None:
    body = create_body(ModelReference=reference)
    assert errors_of("CreateBatchInferenceJobRequest", body) == ["ModelReference"]


def test_model_reference_accepts_a_custom_model() -> None:
    body = create_body(ModelReference={"CustomModelId": "m-20240101-abc"})
    assert errors_of("CreateBatchInferenceJobRequest", body) == []


@pytest.mark.parametrize("field", ["Name", "ModelReference", "InputFileTosLocation"])
def test_create_required_fields(field: str) -> None:
    body = create_body()
    del body[field]
    assert errors_of("CreateBatchInferenceJobRequest", body) == ["<root>"]


def test_job_object_admits_unknown_phase_and_extra_fields() -> None:
    job = seed("get_response.json")
    job["Result"]["Status"]["Phase"] = "Initializing"
    job["Result"]["SomethingNew"] = {"x": 1}
    job["Result"]["Status"]["Extra"] = True
    assert errors_of("GetBatchInferenceJobResponse", job) == []


@pytest.mark.parametrize(("key", "errors"), [("sys:ark:createdBy", ["Tags/0/Key"]), ("system", [])])
def test_user_tag_keys_starting_with_sys_are_reserved(key: str, errors: list[str]) -> None:
    body = create_body(Tags=[{"Key": key, "Value": "v"}])
    assert errors_of("CreateBatchInferenceJobRequest", body) == errors


def test_a_phase_filter_has_no_invented_length_limit() -> None:
    """A filter naming every phase, however many a later Version adds, is valid."""
    every = load_spec()["components"]["schemas"]["JobPhase"]["enum"]
    body = {"Filter": {"Phases": [*every, *every]}}
    assert errors_of("ListBatchInferenceJobsRequest", body) == []


def test_a_document_gives_its_phases_and_request_defaults() -> None:
    document = default_registry().document("2024-01-01")
    assert document.phases == (
        "Queued", "Running", "Completed", "Terminating", "Terminated", "Failed",
    )  # fmt: skip
    assert document.defaults("CreateBatchInferenceJobRequest") == {
        "CompletionWindow": "28d",
        "DryRun": False,
    }
    assert document.defaults("ListBatchInferenceJobsRequest") == {
        "PageNumber": 1,
        "PageSize": 10,
        "SortBy": "CreateTime",
        "SortOrder": "Desc",
    }
    with pytest.raises(KeyError, match="NoSuchSchema"):
        document.schema("NoSuchSchema")
