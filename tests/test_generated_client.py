"""The generated client sends the exact wire format and parses responses leniently."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from client.client_support import Recorder, client_for

from ark_batch.errors import ApiError, UnexpectedResponseError, unwrap
from ark_batch_client import Client
from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    get_batch_inference_job,
    list_batch_inference_jobs,
)
from ark_batch_client.models import (
    CreateBatchInferenceJobRequest,
    ErrorResponse,
    GetBatchInferenceJobRequest,
    GetBatchInferenceJobResponse,
    ListBatchInferenceJobsRequest,
    ListBatchInferenceJobsResponse,
    ListFilter,
)

SEEDS = Path(__file__).parent / "fixtures" / "seeds"


def seed(name: str) -> Any:
    return json.loads((SEEDS / name).read_text(encoding="utf-8"))


def test_get_sends_post_to_root_with_action_then_version() -> None:
    rec = Recorder(200, seed("get_response.json"))
    result = get_batch_inference_job.sync(
        client=client_for(rec), body=GetBatchInferenceJobRequest(id="bi-1")
    )
    [req] = rec.requests
    assert req.method == "POST"
    assert str(req.url) == (
        "https://open.volcengineapi.com/?Action=GetBatchInferenceJob&Version=2024-01-01"
    )
    assert req.url.fragment == ""
    assert req.headers["content-type"] == "application/json"
    assert json.loads(req.content) == {"Id": "bi-1"}
    assert isinstance(result, GetBatchInferenceJobResponse)
    assert result.result.status.phase == "Completed"
    assert result.result.request_counts.total == 2


def test_create_round_trips_the_seed_request() -> None:
    rec = Recorder(200, seed("create_response.json"))
    body = CreateBatchInferenceJobRequest.from_dict(seed("create_request.json"))
    create_batch_inference_job.sync(client=client_for(rec), body=body)
    [req] = rec.requests
    assert req.url.params["Action"] == "CreateBatchInferenceJob"
    assert json.loads(req.content) == seed("create_request.json")


def test_list_sends_filters_and_parses_items() -> None:
    rec = Recorder(200, seed("list_response.json"))
    body = ListBatchInferenceJobsRequest(page_size=5, filter_=ListFilter(phases=["Running"]))
    result = list_batch_inference_jobs.sync(client=client_for(rec), body=body)
    [req] = rec.requests
    assert req.url.query == b"Action=ListBatchInferenceJobs&Version=2024-01-01"
    # Schema defaults are sent explicitly, so every target sorts and pages the same way.
    assert json.loads(req.content) == {
        "PageNumber": 1,
        "PageSize": 5,
        "SortBy": "CreateTime",
        "SortOrder": "Desc",
        "Filter": {"Phases": ["Running"]},
    }
    assert isinstance(result, ListBatchInferenceJobsResponse)
    assert [job.id for job in result.result.items or []] == ["bi-20240918194641-r2nwq"]


def test_error_envelope_is_parsed_for_documented_and_undocumented_statuses() -> None:
    envelope = {
        "ResponseMetadata": {
            "RequestId": "20240918194640ECB302768CB287CEDAC6",
            "Action": "GetBatchInferenceJob",
            "Version": "2024-01-01",
            "Service": "ark",
            "Region": "cn-beijing",
            "Error": {"Code": "InvalidBatchInferenceJob.NotFound", "Message": "no such job"},
        }
    }
    for status in (404, 418):
        rec = Recorder(status, envelope)
        result = get_batch_inference_job.sync(
            client=client_for(rec), body=GetBatchInferenceJobRequest(id="x")
        )
        assert isinstance(result, ErrorResponse)
        assert result.response_metadata.error.code == "InvalidBatchInferenceJob.NotFound"


def test_unknown_phase_and_extra_fields_parse() -> None:
    body = seed("get_response.json")
    body["Result"]["Status"]["Phase"] = "Initializing"
    body["Result"]["NewField"] = [1, 2]
    body["Result"]["RequestCounts"]["Cancelled"] = 3
    rec = Recorder(200, body)
    result = get_batch_inference_job.sync(
        client=client_for(rec), body=GetBatchInferenceJobRequest(id="x")
    )
    assert isinstance(result, GetBatchInferenceJobResponse)
    assert result.result.status.phase == "Initializing"
    assert result.result.additional_properties["NewField"] == [1, 2]
    assert result.result.request_counts.additional_properties == {"Cancelled": 3}


@pytest.mark.asyncio
async def test_async_function_sends_the_same_request() -> None:
    rec = Recorder(200, seed("get_response.json"))
    result = await get_batch_inference_job.asyncio(
        client=client_for(rec), body=GetBatchInferenceJobRequest(id="bi-1")
    )
    [req] = rec.requests
    assert str(req.url).endswith("/?Action=GetBatchInferenceJob&Version=2024-01-01")
    assert isinstance(result, GetBatchInferenceJobResponse)


def _odd_answers() -> list[tuple[int, bytes, type[Exception]]]:
    metadata = seed("get_response.json")["ResponseMetadata"]
    error = {"Code": "InternalError", "Message": "boom"}
    no_service = seed("get_response.json")
    del no_service["ResponseMetadata"]["Service"]
    no_request_id = {"ResponseMetadata": {"Error": error}}
    return [
        (502, b"<html>Bad Gateway</html>", UnexpectedResponseError),
        (500, b"", UnexpectedResponseError),
        (404, json.dumps(no_request_id).encode(), ApiError),
        (299, b"{}", UnexpectedResponseError),
        (600, b"{}", UnexpectedResponseError),
        (999, b"", UnexpectedResponseError),
        (200, json.dumps({"ResponseMetadata": {**metadata, "Error": error}}).encode(), ApiError),
        (200, json.dumps(no_service).encode(), UnexpectedResponseError),
        (200, b'{"Result":' + b"[" * 100_000 + b"]" * 100_000 + b"}", UnexpectedResponseError),
    ]


@pytest.mark.parametrize(("status", "body", "error"), _odd_answers())
def test_odd_answers_raise_nothing_and_unwrap_types_them(
    status: int, body: bytes, error: type[Exception]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    client = Client(
        base_url="https://open.volcengineapi.com",
        httpx_args={"transport": httpx.MockTransport(answer)},
    )
    request = GetBatchInferenceJobRequest(id="x")
    response = get_batch_inference_job.sync_detailed(client=client, body=request)
    assert int(response.status_code) == status
    assert response.content == body
    assert response.parsed is None
    assert get_batch_inference_job.sync(client=client, body=request) is None
    with pytest.raises(error):
        unwrap(response)

    async def main() -> Any:
        return await get_batch_inference_job.asyncio_detailed(client=client, body=request)

    assert int(asyncio.run(main()).status_code) == status
