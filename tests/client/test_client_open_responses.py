"""Open responses: an explicit JSON null in an optional response field reads as absent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ark_batch import ArkBatch
from ark_batch.errors import UnexpectedResponseError
from ark_batch.retries import NO_RETRY
from ark_batch_client.models import (
    BatchInferenceJob,
    GetBatchInferenceJobResponse,
    ListBatchInferenceJobsResult,
)
from ark_batch_client.types import UNSET
from client.client_support import ScriptedService, envelope, job_dict, mock_client

NULLED_JOB_FIELDS = ["Tags", "TokenUsage", "ErrorFileTosLocation", "Description"]


def nulled_job(job_id: str) -> dict[str, Any]:
    job = job_dict(job_id, "Completed", **dict.fromkeys(NULLED_JOB_FIELDS))
    job["Status"]["Message"] = None
    job["Status"]["PhaseTime"] = None
    job["ModelReference"]["CustomModelId"] = None
    return job


def test_null_optional_job_fields_read_as_absent() -> None:
    job = BatchInferenceJob.from_dict(nulled_job("bi-1"))
    assert job.tags is UNSET
    assert job.token_usage is UNSET
    assert job.error_file_tos_location is UNSET
    assert job.description is UNSET
    assert job.status.message is UNSET
    assert job.status.phase_time is UNSET
    assert job.model_reference.custom_model_id is UNSET
    assert job.additional_properties == {}
    assert job.to_dict() == BatchInferenceJob.from_dict(job.to_dict()).to_dict()


def test_null_items_read_as_an_absent_page() -> None:
    page = ListBatchInferenceJobsResult.from_dict(
        {"TotalCount": 0, "PageNumber": 1, "PageSize": 10, "Items": None}
    )
    assert page.items is UNSET


def test_unknown_null_fields_are_dropped_and_unknown_values_kept() -> None:
    raw = envelope("GetBatchInferenceJob", {**nulled_job("bi-1"), "Later": None, "New": 1})
    response = GetBatchInferenceJobResponse.from_dict(raw)
    assert response.result.additional_properties == {"New": 1}


def test_get_job_reads_a_job_with_null_fields() -> None:
    ark = ArkBatch(
        client=mock_client(ScriptedService().then_ok(nulled_job("bi-1"))), retry=NO_RETRY
    )
    job = ark.get_job("bi-1")
    assert job.id == "bi-1"
    assert job.tags is UNSET
    assert job.token_usage is UNSET
    assert job.error_file_tos_location is UNSET


@pytest.mark.parametrize("items", [None, "absent"])
def test_list_jobs_reads_null_or_absent_items_as_an_empty_page(items: Any) -> None:
    result: dict[str, Any] = {"TotalCount": 0, "PageNumber": 1, "PageSize": 10}
    if items != "absent":
        result["Items"] = items
    ark = ArkBatch(client=mock_client(ScriptedService().then_ok(result)), retry=NO_RETRY)
    assert ark.list_jobs().total_count == 0
    ark = ArkBatch(client=mock_client(ScriptedService().then_ok(result)), retry=NO_RETRY)
    assert list(ark.iter_jobs()) == []


@pytest.mark.parametrize("field", ["Id", "Name", "Status", "CreateTime"])
def test_a_null_required_job_field_is_a_typed_error_naming_it(field: str) -> None:
    job = job_dict("bi-1", "Completed")
    job[field] = None
    ark = ArkBatch(client=mock_client(ScriptedService().then_ok(job)), retry=NO_RETRY)
    with pytest.raises(UnexpectedResponseError, match=f"'{field}'"):
        ark.get_job("bi-1")


def test_a_null_job_id_from_create_is_a_typed_error_not_a_job() -> None:
    ark = ArkBatch(client=mock_client(ScriptedService().then_ok({"Id": None})), retry=NO_RETRY)
    with pytest.raises(UnexpectedResponseError, match="'Id'"):
        ark.create_job(name="n", model="m:1", input="bucket/in.jsonl", output="bucket/out/")


def _page(**overrides: Any) -> dict[str, Any]:
    return {
        "TotalCount": 1,
        "PageNumber": 1,
        "PageSize": 10,
        "Items": [job_dict("bi-1")],
    } | overrides


def _job(**overrides: Any) -> dict[str, Any]:
    job = job_dict("bi-1", "Completed")
    for path, value in overrides.items():
        *parents, last = path.split("__")
        target = job
        for parent in parents:
            target = target[parent]
        target[last] = value
    return job


@pytest.mark.parametrize(
    ("result", "field", "kind"),
    [
        (_job(Status__Phase=["Running"]), "Result.Status.Phase", "an array, expected a string"),
        (_job(Id=5), "Result.Id", "an integer, expected a string"),
        (_job(RequestCounts__Total="2"), "Result.RequestCounts.Total", "a string, expected an"),
        (_job(RequestCounts__Completed=True), "Result.RequestCounts.Completed", "true or false"),
        (_job(OutputDirTosLocation__ObjectKey=5), "Result.OutputDirTosLocation.ObjectKey", "an"),
        (_job(Tags=[{"Key": "k", "Value": 1}]), r"Result.Tags\[0\].Value", "an integer"),
        (_job(Status="Running"), "Result.Status", "a string, expected an object"),
        (_page(TotalCount="9"), "Result.TotalCount", "a string, expected an integer"),
        (_page(Items={}), "Result.Items", "an object, expected an array"),
        (_page(Items=[job_dict("bi-1"), _job(Name=[])]), r"Result.Items\[1\].Name", "an array"),
        ([], "Result", "an array, expected an object"),
        (_job(RequestCounts__Total=2.5), "Result.RequestCounts.Total", "a number, expected an"),
    ],
)  # fmt: skip
def test_a_wrongly_typed_field_is_a_typed_error_naming_it(
    result: Any, field: str, kind: str
) -> None:
    service = ScriptedService().then_ok(result)
    ark = ArkBatch(client=mock_client(service), retry=NO_RETRY)
    listing = isinstance(result, dict) and "TotalCount" in result
    call: Callable[[], object] = ark.list_jobs if listing else lambda: ark.get_job("bi-1")
    with pytest.raises(UnexpectedResponseError, match=f"{field} is {kind}"):
        call()


def test_an_integer_written_as_a_float_reads_as_an_integer() -> None:
    """JSON Schema's integer admits 10.0; a gateway writing float64 numbers sends it."""
    job = _job(RequestCounts__Total=10.0, RequestCounts__Completed=4.0)
    page = _page(TotalCount=1.0, Items=[job])
    ark = ArkBatch(client=mock_client(ScriptedService().then_ok(page)), retry=NO_RETRY)
    read = ark.list_jobs()
    assert read.total_count == 1
    assert type(read.total_count) is int
    assert isinstance(read.items, list)
    counts = read.items[0].request_counts
    assert counts.total == 10
    assert type(counts.total) is int


def test_open_values_still_read_with_the_type_checks() -> None:
    job = _job(Status__Phase="Paused", Later={"x": [1]})
    job["Status"]["Message"] = None
    ark = ArkBatch(client=mock_client(ScriptedService().then_ok(job)), retry=NO_RETRY)
    read = ark.get_job("bi-1")
    assert read.status.phase == "Paused"
    assert read.additional_properties == {"Later": {"x": [1]}}


def test_the_checked_json_names_are_the_generated_models_keys() -> None:
    import inspect  # noqa: PLC0415
    import re  # noqa: PLC0415

    import attrs  # noqa: PLC0415

    import ark_batch_client.models as models  # noqa: PLC0415
    from ark_batch._json_types import json_name  # noqa: PLC0415

    for name in models.__all__:
        model = getattr(models, name)
        if not attrs.has(model):
            continue
        source = inspect.getsource(model.from_dict)  # type: ignore[attr-defined]
        popped = re.findall(r'd\.pop\("([^"]+)"', source)
        names = [json_name(f.name) for f in attrs.fields(model)]
        assert names[: len(popped)] == popped, name
