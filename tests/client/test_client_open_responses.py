"""Open responses: an explicit JSON null in an optional response field reads as absent."""

from __future__ import annotations

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
