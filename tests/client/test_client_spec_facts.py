"""The facade takes its API facts from the generated client and reads responses openly."""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any

import httpx
import pytest

from ark_batch import ArkBatch, AsyncArkBatch, create_request, list_request
from ark_batch._api import API_VERSION, CREATE, GET, LIST
from ark_batch.errors import UnexpectedResponseError
from ark_batch_client.api.batch_inference_job import get_batch_inference_job
from ark_batch_client.models import BatchInferenceJob
from ark_batch_client.types import UNSET
from client.client_support import ScriptedService, envelope, job_dict, mock_client

FIELDS: dict[str, Any] = {
    "name": "nightly",
    "model": "doubao-pro-32k:240615",
    "input": "bucket/in.jsonl",
    "output": "bucket/out/",
}


def test_version_and_actions_are_the_generated_clients() -> None:
    parameters = inspect.signature(get_batch_inference_job._get_kwargs).parameters
    assert parameters["version"].default == API_VERSION
    assert (CREATE, GET, LIST) == (
        "CreateBatchInferenceJob",
        "GetBatchInferenceJob",
        "ListBatchInferenceJobs",
    )
    service = ScriptedService()
    with ArkBatch(client=mock_client(service)) as ark:
        ark.list_jobs()
    assert service.requests[0].url.params["Version"] == API_VERSION


@pytest.mark.parametrize(
    "nulls",
    [
        {"Tags": None},
        {"TokenUsage": None},
        {"ErrorFileTosLocation": None},
        {"Description": None, "Status": {"Phase": "Running", "Message": None}},
    ],
)
def test_explicit_nulls_in_optional_job_fields_read_as_absent(nulls: dict[str, Any]) -> None:
    service = ScriptedService().then_ok(job_dict("bi-1", **nulls))
    with ArkBatch(client=mock_client(service)) as ark:
        job = ark.get_job("bi-1")
    for key in nulls:
        if key != "Status":
            assert getattr(job, {"Tags": "tags", "TokenUsage": "token_usage",
                                 "ErrorFileTosLocation": "error_file_tos_location",
                                 "Description": "description"}[key]) is UNSET  # fmt: skip


def test_explicit_null_items_and_nulls_inside_items_read_as_absent() -> None:
    page = {"TotalCount": 0, "PageNumber": 1, "PageSize": 10, "Items": None}
    inner = {"TotalCount": 1, "PageNumber": 1, "PageSize": 10,
             "Items": [job_dict("bi-1", Tags=None, TokenUsage=None)]}  # fmt: skip
    service = ScriptedService().then_ok(page).then_ok(inner)
    with ArkBatch(client=mock_client(service)) as ark:
        empty = ark.list_jobs()
        one = ark.list_jobs()
    assert not empty.items
    assert isinstance(one.items, list)  # Items is optional in the spec (decision 0009)
    assert one.items[0].tags is UNSET


def test_generated_request_models_and_extra_body_are_sent() -> None:
    service = ScriptedService()
    with ArkBatch(client=mock_client(service)) as ark:
        ark.create_job(create_request(**FIELDS), extra_body={"Priority": 5})
        ark.list_jobs(list_request(page_size=5), extra_body={"Filter": {"Phases": ["Paused"]}})
        ark.list_jobs(phases=["Running"], extra_body={"Future": True})
    create, listing, keyword = (json.loads(r.content) for r in service.requests)
    assert create["Priority"] == 5
    assert create["Name"] == "nightly"
    assert listing == {**listing, "PageSize": 5, "Filter": {"Phases": ["Paused"]}}
    assert keyword["Future"] is True
    assert keyword["Filter"] == {"Phases": ["Running"]}


def test_list_defaults_come_from_the_generated_model() -> None:
    service = ScriptedService()
    with ArkBatch(client=mock_client(service)) as ark:
        ark.list_jobs()
    body = json.loads(service.requests[0].content)
    assert (body["PageNumber"], body["PageSize"]) == (1, 10)


def test_validate_job_returns_on_dry_run_operation() -> None:
    service = ScriptedService().then_error(400, "DryRunOperation", "would succeed")
    with ArkBatch(client=mock_client(service)) as ark:
        assert ark.validate_job(**FIELDS) is None
    assert json.loads(service.requests[0].content)["DryRun"] is True


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>Please log in</html>"),
        httpx.Response(200, content=b""),
        httpx.Response(200, json=envelope(CREATE, {})),
    ],
    ids=["html", "empty", "no-id"],
)
@pytest.mark.parametrize("facade", [ArkBatch, AsyncArkBatch])
def test_validate_job_takes_no_2xx_for_a_pass(answer: httpx.Response, facade: type) -> None:
    service = ScriptedService().then(lambda request: answer)
    with pytest.raises(UnexpectedResponseError) as caught:
        _validate(facade, service)
    assert caught.value.status == 200
    assert len(service.requests) == 1


@pytest.mark.parametrize("facade", [ArkBatch, AsyncArkBatch])
def test_validate_job_names_a_job_the_service_created_anyway(facade: type) -> None:
    service = ScriptedService().then_ok({"Id": "bi-really-created"})
    with pytest.raises(UnexpectedResponseError, match="created job bi-really-created"):
        _validate(facade, service)


def _validate(facade: type, service: ScriptedService) -> None:
    if facade is ArkBatch:
        with ArkBatch(client=mock_client(service)) as ark:
            ark.validate_job(**FIELDS)
        return

    async def main() -> None:
        async with AsyncArkBatch(client=mock_client(service, asynchronous=True)) as ark:
            await ark.validate_job(**FIELDS)

    asyncio.run(main())


def test_async_reads_nulls_and_sends_extra_body_too() -> None:
    service = ScriptedService().then_ok({"Id": "bi-1"}).then_ok(job_dict("bi-1", Tags=None))

    async def main() -> BatchInferenceJob:
        async with AsyncArkBatch(client=mock_client(service, asynchronous=True)) as ark:
            await ark.create_job(**FIELDS, extra_body={"Priority": 1})
            return await ark.get_job("bi-1")

    job = asyncio.run(main())
    assert job.tags is UNSET
    assert json.loads(service.requests[0].content)["Priority"] == 1


def test_reprs_show_unset_plainly() -> None:
    job = BatchInferenceJob.from_dict(job_dict("bi-1"))
    assert "Unset object at" not in repr(job)
    assert "tags=UNSET" in repr(job)


def test_async_facade_has_a_docstring_and_methods_keep_theirs() -> None:
    assert AsyncArkBatch.__doc__
    assert "asyncio" in AsyncArkBatch.__doc__
    assert ArkBatch.get_job.__doc__ == AsyncArkBatch.get_job.__doc__
    assert "Id" in (ArkBatch.get_job.__doc__ or "")
    assert inspect.iscoroutinefunction(AsyncArkBatch.get_job)
    # help() shows what the methods return, not the core's flows.
    assert inspect.signature(ArkBatch.get_job).return_annotation == "BatchInferenceJob"
    returned = inspect.signature(AsyncArkBatch.results).return_annotation
    assert returned == "AsyncIterator[ResultRecord]"


def test_access_key_and_secret_key_may_be_passed_directly() -> None:
    ark = ArkBatch("http://127.0.0.1:9", access_key="AKLTDIRECT", secret_key="direct-secret")
    auth = ark.client.get_httpx_client().auth
    assert auth.credentials.access_key == "AKLTDIRECT"  # type: ignore[union-attr]
    assert "direct-secret" not in repr(ark)
    assert "direct-secret" not in repr(auth)
    with pytest.raises(TypeError, match="either credentials"):
        ArkBatch(access_key="a", secret_key="b", credentials=auth.credentials)  # type: ignore[union-attr]
