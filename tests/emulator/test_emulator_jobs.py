"""Create and Get: Ids, times, tags, DryRun, validation, idempotency, isolation, restarts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from emulator_support import (
    CREATE,
    GET,
    LIST,
    OTHER_CREDENTIALS,
    call,
    create,
    create_body,
    error_code,
    get,
    input_at,
    make_job,
    query_for,
    result,
    signed_headers,
)

from ark_batch.emulator import EmulatorConfig, EmulatorState, create_app
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.emulator.store import Job, JobStore, ListQuery
from ark_batch_client import Client
from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    get_batch_inference_job,
)
from ark_batch_client.models import (
    CreateBatchInferenceJobRequest,
    CreateBatchInferenceJobResponse,
    ErrorResponse,
    GetBatchInferenceJobRequest,
    GetBatchInferenceJobResponse,
)

ID = re.compile(r"^bi-(\d{14})-[a-z0-9]{5}$")


def parse_time(text: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


async def test_create_then_get_round_trip(emulator_http: httpx.AsyncClient) -> None:
    body = create_body(
        Description="weekly",
        ProjectName="research",
        CompletionWindow="2d",
        Tags=[{"Key": "team", "Value": "eval"}, {"Key": "empty", "Value": ""}],
    )
    job_id = result(await call(emulator_http, CREATE, body))["Id"]
    job = await get(emulator_http, job_id)
    assert job["Id"] == job_id
    assert job["Name"] == body["Name"]
    assert job["Description"] == "weekly"
    assert job["ProjectName"] == "research"
    assert job["ModelReference"] == body["ModelReference"]
    assert job["InputFileTosLocation"] == body["InputFileTosLocation"]
    assert job["OutputDirTosLocation"] == body["OutputDirTosLocation"]
    assert job["CompletionWindow"] == "2d"
    assert job["Status"]["Phase"] == "Queued"
    assert job["RequestCounts"] == {"Total": 0, "Completed": 0, "Failed": 0}
    assert job["Tags"] == [
        {"Key": "sys:ark:createdBy", "Value": "IAMUser/2100000000/developer"},
        {"Key": "team", "Value": "eval"},
        {"Key": "empty", "Value": ""},
    ]
    assert "ErrorFileTosLocation" not in job


async def test_id_embeds_the_creation_time_in_utc8(
    emulator_http: httpx.AsyncClient,
) -> None:
    job_id = await create(emulator_http)
    match = ID.match(job_id)
    assert match, job_id
    job = await get(emulator_http, job_id)
    created = parse_time(job["CreateTime"])
    assert match.group(1) == (created + timedelta(hours=8)).strftime("%Y%m%d%H%M%S")
    assert job["UpdateTime"] == job["CreateTime"]
    assert job["Status"]["PhaseTime"] == job["CreateTime"]


@pytest.mark.parametrize(("window", "days"), [("1d", 1), ("28d", 28), (None, 28)])
async def test_expire_time_is_create_time_plus_window(
    emulator_http: httpx.AsyncClient, window: str | None, days: int
) -> None:
    job = await get(emulator_http, await create(emulator_http, CompletionWindow=window))
    assert job["CompletionWindow"] == (window or "28d")
    assert parse_time(job["ExpireTime"]) - parse_time(job["CreateTime"]) == timedelta(days=days)


async def test_defaults_project_and_created_by_of_the_signing_user(
    emulator_http: httpx.AsyncClient,
) -> None:
    response = await call(emulator_http, CREATE, create_body(), credentials=OTHER_CREDENTIALS)
    job_id = result(response)["Id"]
    job = result(await call(emulator_http, GET, {"Id": job_id}, credentials=OTHER_CREDENTIALS))
    assert job["ProjectName"] == "default"
    assert job["Tags"] == [{"Key": "sys:ark:createdBy", "Value": "IAMUser/2100000001/alice"}]


async def test_custom_model_reference(emulator_http: httpx.AsyncClient) -> None:
    job_id = await create(emulator_http, ModelReference={"CustomModelId": "cm-123"})
    assert (await get(emulator_http, job_id))["ModelReference"] == {"CustomModelId": "cm-123"}


async def test_dry_run_validates_and_creates_nothing(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    response = await call(emulator_http, CREATE, create_body(DryRun=True))
    assert response.status_code == 400
    assert error_code(response) == "DryRunOperation"
    assert emulator_state.store.count() == 0
    invalid = await call(emulator_http, CREATE, create_body(DryRun=True, Name=None))
    assert error_code(invalid) == "MissingParameter"
    job_id = await create(emulator_http, DryRun=False)
    conflict = await call(emulator_http, CREATE, create_body(DryRun=True))
    assert conflict.status_code == 409
    assert job_id in conflict.json()["ResponseMetadata"]["Error"]["Message"]
    assert emulator_state.store.count() == 1


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"Name": None}, "MissingParameter", "The parameter Name is required."),
        (
            {"InputFileTosLocation": {"BucketName": "my-bucket"}},
            "MissingParameter",
            "The parameter InputFileTosLocation.ObjectKey is required.",
        ),
        ({"Nmae": "typo"}, "InvalidParameter", "The parameter Nmae is not supported."),
        (
            {"ModelReference": {"FoundationModel": {"Name": "m", "ModelVersion": "1"}, "X": 1}},
            "InvalidParameter",
            "The parameter ModelReference.X is not supported.",
        ),
        (
            {"ModelReference": {}},
            "InvalidParameter",
            "The parameter ModelReference is invalid: exactly one of CustomModelId or "
            "FoundationModel is required.",
        ),
        (
            {"CompletionWindow": "29d"},
            "InvalidParameter",
            'The parameter CompletionWindow is invalid: "29d" does not match '
            "^([1-9]|1[0-9]|2[0-8])d$.",
        ),
        (
            {"Name": "x" * 201},
            "InvalidParameter",
            "The parameter Name is invalid: it is longer than 200 characters.",
        ),
        (
            {"Tags": [{"Key": "sys:ark:createdBy", "Value": "me"}]},
            "InvalidParameter",
            "The parameter Tags[0].Key is invalid: keys starting with sys: are reserved.",
        ),
        (
            {"OutputDirTosLocation": {"BucketName": "Bad_Bucket", "ObjectKey": "o/"}},
            "InvalidParameter",
            None,
        ),
        ({"DryRun": "yes"}, "InvalidParameter", None),
    ],
)
async def test_create_validation_names_the_field(
    emulator_http: httpx.AsyncClient,
    emulator_state: EmulatorState,
    overrides: dict[str, Any],
    code: str,
    message: str | None,
) -> None:
    response = await call(emulator_http, CREATE, create_body(**overrides))
    assert response.status_code == 400
    error = response.json()["ResponseMetadata"]["Error"]
    assert error["Code"] == code
    if message is not None:
        assert error["Message"] == message
    assert emulator_state.store.count() == 0


async def test_get_validation(emulator_http: httpx.AsyncClient) -> None:
    missing = await call(emulator_http, GET, {})
    assert missing.json()["ResponseMetadata"]["Error"]["Message"] == "The parameter Id is required."
    wrong = await call(emulator_http, GET, {"Id": 5})
    assert error_code(wrong) == "InvalidParameter"
    assert "The parameter Id is invalid" in wrong.json()["ResponseMetadata"]["Error"]["Message"]


async def test_get_unknown_id_is_not_found(emulator_http: httpx.AsyncClient) -> None:
    response = await call(emulator_http, GET, {"Id": "bi-20240101000000-abcde"})
    assert response.status_code == 404
    error = response.json()["ResponseMetadata"]["Error"]
    assert error["Code"] == "InvalidBatchInferenceJob.NotFound"
    assert "CodeN" not in error
    assert "bi-20240101000000-abcde" in error["Message"]


async def test_duplicate_active_job_is_409_naming_it(emulator_http: httpx.AsyncClient) -> None:
    job_id = await create(emulator_http)
    # Model, output location and name are not part of the idempotency key.
    response = await call(
        emulator_http,
        CREATE,
        create_body(
            Name="other",
            ModelReference={"CustomModelId": "cm-1"},
            OutputDirTosLocation=input_at("elsewhere/"),
        ),
    )
    assert response.status_code == 409
    error = response.json()["ResponseMetadata"]["Error"]
    assert error["Code"] == "OperationDenied.ActiveJobExists"
    assert job_id in error["Message"]
    assert "CodeN" not in error


@pytest.mark.parametrize(
    "overrides",
    [
        {"ProjectName": "another"},
        {"InputFileTosLocation": input_at("in/job.jsonl", bucket="other-bucket")},
        {"InputFileTosLocation": input_at("in/other.jsonl")},
    ],
)
async def test_a_different_key_part_is_not_a_duplicate(
    emulator_http: httpx.AsyncClient, overrides: dict[str, Any]
) -> None:
    await create(emulator_http)
    await create(emulator_http, **overrides)


async def test_other_accounts_do_not_collide(emulator_http: httpx.AsyncClient) -> None:
    await create(emulator_http)
    response = await call(emulator_http, CREATE, create_body(), credentials=OTHER_CREDENTIALS)
    assert response.status_code == 200


@pytest.mark.parametrize("phase", ["Completed", "Failed", "Terminated", "Terminating"])
async def test_inactive_job_does_not_block(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState, phase: str
) -> None:
    first = await create(emulator_http)
    emulator_state.store.transition(first, "Running", "running", datetime.now(UTC))
    assert (await call(emulator_http, CREATE, create_body())).status_code == 409
    emulator_state.store.transition(first, phase, "done", datetime.now(UTC))
    second = await create(emulator_http)
    assert second != first


async def test_concurrent_identical_creates_make_exactly_one_job_in_process(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    responses = await asyncio.gather(
        *(call(emulator_http, CREATE, create_body()) for _ in range(40))
    )
    created = [r for r in responses if r.status_code == 200]
    assert len(created) == 1
    job_id = created[0].json()["Result"]["Id"]
    for response in responses:
        if response.status_code != 200:
            assert response.status_code == 409
            assert job_id in response.json()["ResponseMetadata"]["Error"]["Message"]
    assert emulator_state.store.count() == 1


def test_concurrent_identical_creates_across_servers_make_exactly_one_job(
    emulator_config: EmulatorConfig,
) -> None:
    # Two apps (two connections) on one data dir, each behind its own uvicorn server,
    # hit by 40 threads released at once: only the database can arbitrate.
    apps = [create_app(emulator_config) for _ in range(2)]
    raw = json.dumps(create_body()).encode()
    query = query_for(CREATE)
    barrier = threading.Barrier(40)
    outcomes: list[httpx.Response] = []
    lock = threading.Lock()
    try:
        with EmbeddedEmulator(app=apps[0]) as one, EmbeddedEmulator(app=apps[1]) as two:

            def worker(index: int) -> None:
                url = (one if index % 2 else two).url
                headers = signed_headers(query, raw, host=url.removeprefix("http://"))
                with httpx.Client(base_url=url) as client:
                    barrier.wait()
                    response = client.post(f"/?{query}", content=raw, headers=headers)
                with lock:
                    outcomes.append(response)

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        for app in apps:
            app.state.emulator.close()
    statuses = sorted(r.status_code for r in outcomes)
    assert statuses == [200] + [409] * 39
    [winner] = [r for r in outcomes if r.status_code == 200]
    job_id = winner.json()["Result"]["Id"]
    assert all(job_id in r.text for r in outcomes if r.status_code == 409)


async def test_jobs_survive_a_restart(emulator_config: EmulatorConfig) -> None:
    first = create_app(emulator_config)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first), base_url="http://emulator.local"
    ) as client:
        job_id = await create(client)
        before = await get(client, job_id)
    first.state.emulator.close()

    second = create_app(emulator_config)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=second), base_url="http://emulator.local"
        ) as client:
            assert await get(client, job_id) == before
            listed = result(await call(client, LIST, {}))
            assert [item["Id"] for item in listed["Items"]] == [job_id]
            # The idempotency rule survives too.
            assert (await call(client, CREATE, create_body())).status_code == 409
    finally:
        second.state.emulator.close()
    assert (emulator_config.data_dir / "jobs.sqlite3").exists()


async def test_another_account_cannot_see_the_job(emulator_http: httpx.AsyncClient) -> None:
    job_id = await create(emulator_http)
    response = await call(emulator_http, GET, {"Id": job_id}, credentials=OTHER_CREDENTIALS)
    assert response.status_code == 404
    assert error_code(response) == "InvalidBatchInferenceJob.NotFound"
    listed = result(await call(emulator_http, LIST, {}, credentials=OTHER_CREDENTIALS))
    assert listed["TotalCount"] == 0
    assert listed["Items"] == []
    by_id = {"Filter": {"Ids": [job_id]}}
    assert (
        result(await call(emulator_http, LIST, by_id, credentials=OTHER_CREDENTIALS))["TotalCount"]
        == 0
    )


def test_generated_sync_client_against_live_server(emulator_client: Client) -> None:
    request = CreateBatchInferenceJobRequest.from_dict(create_body())
    with emulator_client as client:
        created = create_batch_inference_job.sync(client=client, body=request)
        assert isinstance(created, CreateBatchInferenceJobResponse)
        job_id = created.result.id
        fetched = get_batch_inference_job.sync(
            client=client, body=GetBatchInferenceJobRequest(id=job_id)
        )
        assert isinstance(fetched, GetBatchInferenceJobResponse)
        assert fetched.result.status.phase == "Queued"
        duplicate = create_batch_inference_job.sync(client=client, body=request)
        assert isinstance(duplicate, ErrorResponse)
        assert duplicate.response_metadata.error.code == "OperationDenied.ActiveJobExists"


async def test_generated_async_client_in_process(emulator_asgi_client: Client) -> None:
    request = CreateBatchInferenceJobRequest.from_dict(create_body())
    created = await create_batch_inference_job.asyncio(client=emulator_asgi_client, body=request)
    assert isinstance(created, CreateBatchInferenceJobResponse)
    missing = await get_batch_inference_job.asyncio(
        client=emulator_asgi_client, body=GetBatchInferenceJobRequest(id="bi-nope")
    )
    assert isinstance(missing, ErrorResponse)
    assert missing.response_metadata.error.code == "InvalidBatchInferenceJob.NotFound"


async def test_generated_async_client_against_live_server(emulator_client: Client) -> None:
    request = CreateBatchInferenceJobRequest.from_dict(create_body())
    async with emulator_client as client:
        created = await create_batch_inference_job.asyncio(client=client, body=request)
        assert isinstance(created, CreateBatchInferenceJobResponse)


async def test_a_get_completes_while_a_list_holds_the_database(
    emulator_http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = await create(emulator_http)
    entered, release = threading.Event(), threading.Event()
    original = JobStore.list

    threads: dict[str, str] = {}
    niceness: dict[str, int] = {}
    original_get = JobStore.get

    def recorded_get(self: JobStore, account_id: str, job_id: str) -> Job | None:
        threads["get"] = threading.current_thread().name
        return original_get(self, account_id, job_id)

    def held_list(self: JobStore, account_id: str, query: ListQuery) -> tuple[int, list[Job]]:
        threads["list"] = threading.current_thread().name
        niceness["list"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        entered.set()
        # Bounded, so that on a server that runs List on the event loop the test fails
        # below instead of hanging.
        release.wait(timeout=10)
        return original(self, account_id, query)

    monkeypatch.setattr(JobStore, "list", held_list)
    monkeypatch.setattr(JobStore, "get", recorded_get)
    listing = asyncio.create_task(call(emulator_http, LIST, {"Filter": {"Name": "nightly"}}))
    assert await asyncio.to_thread(entered.wait, 10)
    job = await get(emulator_http, job_id)
    assert job["Id"] == job_id
    assert not listing.done()  # the Get was answered while the List still ran
    release.set()
    page = result(await listing)
    assert [item["Id"] for item in page["Items"]] == [job_id]
    # Lists run on the lower-priority threads, so on a busy core a Get is not queued
    # behind them.
    assert threads["list"].startswith("ark-batch-db-bulk")
    assert threads["get"].startswith("ark-batch-db_")
    process_niceness = os.getpriority(os.PRIO_PROCESS, 0)
    if sys.platform.startswith("linux") and process_niceness < 19:
        assert niceness["list"] > process_niceness


async def test_get_answers_in_the_shape_of_the_requested_version(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    # A field stored from a Version whose job schema has it is not shown to a Version
    # whose job schema does not.
    emulator_state.store.create(make_job(1, extra={"Priority": 3}))
    job = await get(emulator_http, "bi-job-0001")
    assert "Priority" not in job
    assert job["Name"] == "job 1"
    stored = emulator_state.store.get_any("bi-job-0001")
    assert stored is not None
    assert stored.document["Priority"] == 3


async def test_a_deleted_data_dir_answers_503_rather_than_losing_writes(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    # SQLite keeps writing to a deleted database file: a Create would answer 200 and the
    # job would be gone at the next start.
    assert result(await call(emulator_http, CREATE, create_body()))["Id"]
    data_dir = emulator_state.config.data_dir
    shutil.rmtree(data_dir)
    for action, body in (
        (CREATE, create_body(InputFileTosLocation=input_at("b.jsonl"))),
        (LIST, {}),
    ):
        response = await call(emulator_http, action, body)
        assert response.status_code == 503, response.text
        assert error_code(response) == "ServiceUnavailableTemp"
        message = response.json()["ResponseMetadata"]["Error"]["Message"]
        assert "jobs database file was deleted or replaced" in message
        assert str(data_dir) not in message
    # A database put back at the path is another file: still refused, never mixed.
    data_dir.mkdir()
    JobStore.open(data_dir, emulator_state.config.clock).close()
    assert (await call(emulator_http, LIST, {})).status_code == 503
