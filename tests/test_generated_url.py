"""The generated functions send the URL httpx would build, built once per base URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from client.client_support import Recorder, client_for, error_envelope

from ark_batch_client import Client
from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    get_batch_inference_job,
    list_batch_inference_jobs,
)
from ark_batch_client.models import (
    CreateBatchInferenceJobRequest,
    GetBatchInferenceJobRequest,
    ListBatchInferenceJobsRequest,
)

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
QUERY = "?Action=GetBatchInferenceJob&Version=2024-01-01"
ERROR = error_envelope("GetBatchInferenceJob", "InvalidParameter", "m")


def get(client: Client, **kwargs: Any) -> None:
    get_batch_inference_job.sync_detailed(
        client=client, body=GetBatchInferenceJobRequest(id="bi-1"), **kwargs
    )


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://open.volcengineapi.com", "https://open.volcengineapi.com/"),
        ("https://gw.example/ark", "https://gw.example/ark/"),
        ("https://gw.example/ark/", "https://gw.example/ark/"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
    ],
)
def test_the_url_is_the_base_url_joined_with_the_default_query(
    base_url: str, expected: str
) -> None:
    rec = Recorder(400, ERROR)
    client = client_for(rec, base_url)
    get(client)
    get(client)
    assert rec.urls == [expected + QUERY] * 2


def test_every_action_sends_its_own_default_query() -> None:
    rec = Recorder(400, ERROR)
    client = client_for(rec, "https://gw.example")
    create_batch_inference_job.sync_detailed(
        client=client,
        body=CreateBatchInferenceJobRequest.from_dict(
            json.loads((SEEDS / "create_request.json").read_text(encoding="utf-8"))
        ),
    )
    list_batch_inference_jobs.sync_detailed(client=client, body=ListBatchInferenceJobsRequest())
    get(client)
    assert [url.split("?", 1)[1] for url in rec.urls] == [
        "Action=CreateBatchInferenceJob&Version=2024-01-01",
        "Action=ListBatchInferenceJobs&Version=2024-01-01",
        "Action=GetBatchInferenceJob&Version=2024-01-01",
    ]


def test_a_value_other_than_the_default_replaces_it_in_the_query() -> None:
    rec = Recorder(400, ERROR)
    client = client_for(rec, "https://gw.example")
    get(client, version=cast(Any, "2099-01-01"))
    get(client)
    assert rec.urls == [
        "https://gw.example/?Action=GetBatchInferenceJob&Version=2099-01-01",
        "https://gw.example/" + QUERY,
    ]


def test_a_changed_base_url_is_used_at_once() -> None:
    rec = Recorder(400, ERROR)
    client = client_for(rec, "https://one.example")
    get(client)
    client.get_httpx_client().base_url = httpx.URL("https://two.example/v")
    get(client)
    assert rec.urls == ["https://one.example/" + QUERY, "https://two.example/v/" + QUERY]


def test_clients_on_different_base_urls_do_not_share_a_url() -> None:
    rec = Recorder(400, ERROR)
    one, two = client_for(rec, "https://one.example"), client_for(rec, "https://two.example")
    for _ in range(2):
        get(one)
        get(two)
    assert rec.urls == ["https://one.example/" + QUERY, "https://two.example/" + QUERY] * 2


@pytest.mark.asyncio
async def test_a_client_with_its_own_params_keeps_them_and_the_action() -> None:
    rec = Recorder(400, ERROR)
    client = Client(
        base_url="https://gw.example",
        httpx_args={"transport": httpx.MockTransport(rec), "params": {"trace": "1"}},
    )
    get(client)
    await get_batch_inference_job.asyncio_detailed(
        client=client, body=GetBatchInferenceJobRequest(id="bi-1")
    )
    assert rec.urls == ["https://gw.example/?trace=1&" + QUERY[1:]] * 2


@pytest.mark.asyncio
async def test_the_async_functions_send_the_same_url() -> None:
    rec = Recorder(400, ERROR)
    client = client_for(rec, "https://gw.example/ark")
    await get_batch_inference_job.asyncio_detailed(
        client=client, body=GetBatchInferenceJobRequest(id="bi-1")
    )
    get(client)
    assert rec.urls == ["https://gw.example/ark/" + QUERY] * 2
