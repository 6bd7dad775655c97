"""The spec is valid, complete, and its examples are the seeds' examples and valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from ark_batch.spec import ACTIONS, load_spec, operation, schema_validator

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


def test_spec_is_valid_openapi_3_1() -> None:
    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


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
