"""The emulator serves every Version present, each against its own document."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from emulator_support import (
    CREATE,
    DEV_CREDENTIALS,
    GET,
    LIST,
    VERSION,
    call,
    create_body,
    error_code,
    result,
)
from starlette.applications import Starlette

from ark_batch.connect import make_client
from ark_batch.emulator import EmulatorConfig, create_app
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.spec import spec_dir
from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    get_batch_inference_job,
    list_batch_inference_jobs,
)
from ark_batch_client.models import (
    CreateBatchInferenceJobRequest,
    GetBatchInferenceJobRequest,
    GetBatchInferenceJobResponse,
    ListBatchInferenceJobsRequest,
    ListBatchInferenceJobsResponse,
)

FIXTURE_VERSIONS = Path(__file__).parent.parent / "fixtures" / "versions"
FIXTURE_VERSION = "2099-01-01"


@pytest.fixture
def two_version_app(emulator_config: EmulatorConfig) -> Iterator[Starlette]:
    """An emulator serving the shipped spec/ and the fixture Version side by side."""
    app = create_app(replace(emulator_config, spec_dirs=(spec_dir(), FIXTURE_VERSIONS)))
    yield app
    app.state.emulator.close()


@pytest.fixture
async def http(two_version_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=two_version_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.local") as client:
        yield client


async def test_both_versions_are_served_by_one_emulator(http: httpx.AsyncClient) -> None:
    job_id = result(await call(http, CREATE, create_body()))["Id"]
    old = await call(http, GET, {"Id": job_id}, version=VERSION)
    new = await call(http, GET, {"Id": job_id}, version=FIXTURE_VERSION)
    assert result(old)["Id"] == result(new)["Id"] == job_id
    assert old.json()["ResponseMetadata"]["Version"] == VERSION
    assert new.json()["ResponseMetadata"]["Version"] == FIXTURE_VERSION


async def test_each_version_validates_against_its_own_document(http: httpx.AsyncClient) -> None:
    job_id = result(await call(http, CREATE, create_body()))["Id"]
    body = {"Id": job_id, "IncludeFixtureField": True}
    accepted = await call(http, GET, body, version=FIXTURE_VERSION)
    assert result(accepted)["Id"] == job_id
    rejected = await call(http, GET, body, version=VERSION)
    assert rejected.status_code == 400
    assert error_code(rejected) == "InvalidParameter"
    assert "IncludeFixtureField" in rejected.json()["ResponseMetadata"]["Error"]["Message"]
    wrong_type = await call(
        http, GET, {"Id": job_id, "IncludeFixtureField": "yes"}, version=FIXTURE_VERSION
    )
    assert error_code(wrong_type) == "InvalidParameter"


@pytest.mark.parametrize(
    ("action", "version"),
    [
        (CREATE, FIXTURE_VERSION),  # an action the fixture Version does not define
        (LIST, FIXTURE_VERSION),
        (GET, "2023-01-01"),  # a Version no document defines
        (GET, "2024-01-01 "),
    ],
)
async def test_pairs_no_document_defines_are_invalid_action_or_version(
    http: httpx.AsyncClient, action: str, version: str
) -> None:
    response = await call(http, action, create_body(), version=version)
    assert response.status_code == 404
    assert error_code(response) == "InvalidActionOrVersion"
    assert response.json()["ResponseMetadata"]["Version"] == version


async def test_without_spec_dirs_only_the_shipped_versions_are_served(
    emulator_http: httpx.AsyncClient,
) -> None:
    response = await call(emulator_http, GET, {"Id": "bi-x"}, version=FIXTURE_VERSION)
    assert error_code(response) == "InvalidActionOrVersion"


def test_the_generated_client_keeps_working_while_a_newer_version_is_served(
    two_version_app: Starlette,
) -> None:
    with EmbeddedEmulator(app=two_version_app) as server:
        client = make_client(server.url, credentials=DEV_CREDENTIALS)
        body = CreateBatchInferenceJobRequest.from_dict(create_body())
        created = create_batch_inference_job.sync_detailed(client=client, body=body)
        assert created.status_code == 200, created.content
        job_id = result_id(created.content)
        got = get_batch_inference_job.sync(
            client=client, body=GetBatchInferenceJobRequest(id=job_id)
        )
        assert isinstance(got, GetBatchInferenceJobResponse)
        assert got.result.id == job_id
        assert got.response_metadata.version == VERSION
        page = list_batch_inference_jobs.sync(client=client, body=ListBatchInferenceJobsRequest())
        assert isinstance(page, ListBatchInferenceJobsResponse)
        assert page.result.total_count == 1


def result_id(content: bytes) -> str:
    return str(httpx.Response(200, content=content).json()["Result"]["Id"])
