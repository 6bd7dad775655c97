"""Stop, Resume, Update and Delete through the API: phases, DryRun, isolation, errors."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_support import (
    GET,
    LIST,
    OTHER_CREDENTIALS,
    LiveClock,
    call,
    create,
    create_body,
    error_code,
    get,
    input_at,
    put_in_phase,
    result,
)

from ark_batch.emulator import EmulatorConfig, EmulatorState, create_app
from ark_batch.emulator.config import dev_credential
from ark_batch.emulator.execution import ExecutionConfig
from ark_batch.emulator.lifecycle import (
    DELETABLE_PHASES,
    RESUMABLE_PHASES,
    RESUMED_MESSAGE,
    STOPPABLE_PHASES,
    STOPPING_MESSAGE,
)
from ark_batch.emulator.protocol import EnvelopeError
from ark_batch.spec import load_spec
from ark_batch_client import Client
from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    delete_batch_inference_job,
    get_batch_inference_job,
    resume_batch_inference_job,
    stop_batch_inference_job,
    update_batch_inference_job,
)
from ark_batch_client.models import (
    CreateBatchInferenceJobRequest,
    CreateBatchInferenceJobResponse,
    DeleteBatchInferenceJobRequest,
    DeleteBatchInferenceJobResponse,
    ErrorResponse,
    FoundationModelInput,
    GetBatchInferenceJobRequest,
    GetBatchInferenceJobResponse,
    ModelReferenceInput,
    ResumeBatchInferenceJobRequest,
    ResumeBatchInferenceJobResponse,
    StopBatchInferenceJobRequest,
    StopBatchInferenceJobResponse,
    TosLocationInput,
    UpdateBatchInferenceJobRequest,
    UpdateBatchInferenceJobResponse,
)

STOP = "StopBatchInferenceJob"
RESUME = "ResumeBatchInferenceJob"
UPDATE = "UpdateBatchInferenceJob"
DELETE = "DeleteBatchInferenceJob"
ALL_PHASES = tuple(load_spec()["components"]["schemas"]["JobPhase"]["enum"])


def test_phase_groups_are_spec_phases() -> None:
    for group in (STOPPABLE_PHASES, RESUMABLE_PHASES, DELETABLE_PHASES):
        assert set(group) <= set(ALL_PHASES)


# --- Stop ------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["Queued", "Running"])
async def test_stop_moves_an_active_job_to_terminating(
    emulator_http: httpx.AsyncClient,
    emulator_state: EmulatorState,
    emulator_clock: LiveClock,
    phase: str,
) -> None:
    job_id = await create(emulator_http)
    put_in_phase(emulator_state, job_id, phase)
    before = await get(emulator_http, job_id)
    emulator_clock.advance(timedelta(seconds=5))
    assert result(await call(emulator_http, STOP, {"Id": job_id})) == {}
    job = await get(emulator_http, job_id)
    assert job["Status"]["Phase"] == "Terminating"
    assert job["Status"]["Message"] == STOPPING_MESSAGE
    assert job["UpdateTime"] > before["UpdateTime"]
    assert job["Status"]["PhaseTime"] == job["UpdateTime"]


@pytest.mark.parametrize("phase", ["Terminating", "Terminated"])
async def test_stop_of_a_stopped_job_is_a_no_op(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState, phase: str
) -> None:
    job_id = await create(emulator_http)
    put_in_phase(emulator_state, job_id, phase)
    before = await get(emulator_http, job_id)
    assert result(await call(emulator_http, STOP, {"Id": job_id})) == {}
    assert await get(emulator_http, job_id) == before


@pytest.mark.parametrize("phase", ["Completed", "Failed"])
async def test_stop_of_an_ended_job_is_refused(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState, phase: str
) -> None:
    job_id = await create(emulator_http)
    put_in_phase(emulator_state, job_id, phase)
    response = await call(emulator_http, STOP, {"Id": job_id})
    assert response.status_code == 409
    assert error_code(response) == "OperationDenied.InvalidJobPhase"
    message = response.json()["ResponseMetadata"]["Error"]["Message"]
    assert job_id in message
    assert phase in message


async def test_stop_releases_the_idempotency_key(emulator_http: httpx.AsyncClient) -> None:
    job_id = await create(emulator_http)
    result(await call(emulator_http, STOP, {"Id": job_id}))
    assert await create(emulator_http) != job_id


# --- Resume ----------------------------------------------------------------------------


@pytest.mark.parametrize("phase", RESUMABLE_PHASES)
async def test_resume_queues_the_job_again(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState, phase: str
) -> None:
    job_id = await create(emulator_http)
    put_in_phase(emulator_state, job_id, phase)
    assert result(await call(emulator_http, RESUME, {"Id": job_id})) == {"Id": job_id}
    job = await get(emulator_http, job_id)
    assert (job["Status"]["Phase"], job["Status"]["Message"]) == ("Queued", RESUMED_MESSAGE)


@pytest.mark.parametrize("phase", ["Queued", "Running", "Terminating", "Completed"])
async def test_resume_in_other_phases_is_refused(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState, phase: str
) -> None:
    job_id = await create(emulator_http)
    put_in_phase(emulator_state, job_id, phase)
    response = await call(emulator_http, RESUME, {"Id": job_id})
    assert response.status_code == 409
    assert error_code(response) == "OperationDenied.InvalidJobPhase"
    assert (await get(emulator_http, job_id))["Status"]["Phase"] == phase


async def test_resume_follows_the_idempotency_rule(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    first = await create(emulator_http)
    result(await call(emulator_http, STOP, {"Id": first}))
    put_in_phase(emulator_state, first, "Terminated")
    second = await create(emulator_http)  # same input: allowed, the first is not active
    response = await call(emulator_http, RESUME, {"Id": first})
    assert response.status_code == 409
    assert error_code(response) == "OperationDenied.ActiveJobExists"
    assert second in response.json()["ResponseMetadata"]["Error"]["Message"]
    assert (await get(emulator_http, first))["Status"]["Phase"] == "Terminated"


async def test_resume_after_the_completion_window_is_refused(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    job_id = await create(emulator_http, CompletionWindow="1d")
    put_in_phase(emulator_state, job_id, "Terminated")
    # Moving the server clock a day would put signatures out of range; end the window.
    now = emulator_state.config.clock()
    emulator_state.store.update_job(job_id, expire_time=now - timedelta(seconds=1))
    response = await call(emulator_http, RESUME, {"Id": job_id})
    assert response.status_code == 409
    assert error_code(response) == "OperationDenied.CompletionWindowExpired"
    assert job_id in response.json()["ResponseMetadata"]["Error"]["Message"]


@pytest.mark.parametrize("execution", [True, False])
def test_resume_refuses_a_window_ended_in_emulated_time(tmp_path: Path, execution: bool) -> None:
    # --time-speed ends windows early (an infinite speed: at once), for Resume too.
    config = ExecutionConfig(enabled=execution, time_speed=math.inf)
    state: EmulatorState = create_app(
        EmulatorConfig(data_dir=tmp_path, execution=config)
    ).state.emulator
    try:
        job_id = state.backend.create(dev_credential(), create_body(CompletionWindow="1d"))["Id"]
        put_in_phase(state, job_id, "Terminated")
        with pytest.raises(EnvelopeError) as info:
            state.backend.handlers[RESUME](dev_credential(), {"Id": job_id})
        assert info.value.code == "OperationDenied.CompletionWindowExpired"
    finally:
        state.close()


async def test_resume_has_no_dry_run(emulator_http: httpx.AsyncClient) -> None:
    job_id = await create(emulator_http)
    response = await call(emulator_http, RESUME, {"Id": job_id, "DryRun": True})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameter"


# --- Update ----------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ALL_PHASES)
async def test_update_changes_name_and_description_in_any_phase(
    emulator_http: httpx.AsyncClient,
    emulator_state: EmulatorState,
    emulator_clock: LiveClock,
    phase: str,
) -> None:
    job_id = await create(emulator_http, Description="old")
    put_in_phase(emulator_state, job_id, phase)
    before = await get(emulator_http, job_id)
    emulator_clock.advance(timedelta(seconds=3))
    body = {"Id": job_id, "Name": "renamed", "Description": "new"}
    assert result(await call(emulator_http, UPDATE, body)) == {}
    after = await get(emulator_http, job_id)
    assert (after["Name"], after["Description"]) == ("renamed", "new")
    assert after["UpdateTime"] > before["UpdateTime"]
    # Nothing else moves: not the phase, its time, or any other field.
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"Name", "Description", "UpdateTime"}


async def test_update_one_field_keeps_the_other(emulator_http: httpx.AsyncClient) -> None:
    job_id = await create(emulator_http, Description="kept")
    result(await call(emulator_http, UPDATE, {"Id": job_id, "Name": "only-name"}))
    job = await get(emulator_http, job_id)
    assert (job["Name"], job["Description"]) == ("only-name", "kept")
    result(await call(emulator_http, UPDATE, {"Id": job_id, "Description": ""}))
    job = await get(emulator_http, job_id)
    assert (job["Name"], job["Description"]) == ("only-name", "")


async def test_update_without_a_field_is_refused(emulator_http: httpx.AsyncClient) -> None:
    job_id = await create(emulator_http)
    response = await call(emulator_http, UPDATE, {"Id": job_id})
    assert response.status_code == 400
    assert error_code(response) == "MissingParameter"


@pytest.mark.parametrize(
    "extra", [{"Tags": []}, {"CompletionWindow": "2d"}, {"ProjectName": "other"}]
)
async def test_update_cannot_change_other_fields(
    emulator_http: httpx.AsyncClient, extra: dict[str, Any]
) -> None:
    job_id = await create(emulator_http)
    response = await call(emulator_http, UPDATE, {"Id": job_id, "Name": "x", **extra})
    assert response.status_code == 400
    assert error_code(response) == "InvalidParameter"
    assert (await get(emulator_http, job_id))["Name"] == "nightly-eval"


# --- Delete ----------------------------------------------------------------------------


@pytest.mark.parametrize("phase", DELETABLE_PHASES)
async def test_delete_removes_an_ended_job_from_get_and_list(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState, phase: str
) -> None:
    job_id = await create(emulator_http)
    kept = await create(emulator_http, InputFileTosLocation=input_at("in/other.jsonl"))
    put_in_phase(emulator_state, job_id, phase)
    assert result(await call(emulator_http, DELETE, {"Id": job_id})) == {}
    response = await call(emulator_http, GET, {"Id": job_id})
    assert response.status_code == 404
    assert error_code(response) == "InvalidBatchInferenceJob.NotFound"
    page = result(await call(emulator_http, LIST, {}))
    assert [item["Id"] for item in page["Items"]] == [kept]
    assert page["TotalCount"] == 1
    # Deleting again: the job is gone.
    again = await call(emulator_http, DELETE, {"Id": job_id})
    assert error_code(again) == "InvalidBatchInferenceJob.NotFound"


@pytest.mark.parametrize("phase", ["Queued", "Running", "Terminating"])
async def test_delete_of_an_active_job_is_refused(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState, phase: str
) -> None:
    job_id = await create(emulator_http)
    put_in_phase(emulator_state, job_id, phase)
    response = await call(emulator_http, DELETE, {"Id": job_id})
    assert response.status_code == 409
    assert error_code(response) == "OperationDenied.InvalidJobPhase"
    assert (await get(emulator_http, job_id))["Status"]["Phase"] == phase


# --- every action: unknown Ids, other accounts, DryRun ---------------------------------


def _bodies(job_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (STOP, {"Id": job_id}),
        (RESUME, {"Id": job_id}),
        (UPDATE, {"Id": job_id, "Name": "stolen"}),
        (DELETE, {"Id": job_id}),
    ]


async def test_unknown_and_foreign_ids_are_not_found(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    job_id = await create(emulator_http)
    put_in_phase(emulator_state, job_id, "Terminated")
    before = await get(emulator_http, job_id)
    for action, body in _bodies(job_id):
        foreign = await call(emulator_http, action, body, credentials=OTHER_CREDENTIALS)
        assert (foreign.status_code, error_code(foreign)) == (
            404,
            "InvalidBatchInferenceJob.NotFound",
        ), action
        missing = await call(emulator_http, action, {**body, "Id": "bi-20240101000000-nope0"})
        assert error_code(missing) == "InvalidBatchInferenceJob.NotFound", action
    assert await get(emulator_http, job_id) == before


@pytest.mark.parametrize(
    ("action", "phase", "extra"),
    [(STOP, "Running", {}), (UPDATE, "Running", {"Name": "x"}), (DELETE, "Completed", {})],
)
async def test_dry_run_checks_and_changes_nothing(
    emulator_http: httpx.AsyncClient,
    emulator_state: EmulatorState,
    action: str,
    phase: str,
    extra: dict[str, Any],
) -> None:
    job_id = await create(emulator_http)
    put_in_phase(emulator_state, job_id, phase)
    before = await get(emulator_http, job_id)
    response = await call(emulator_http, action, {"Id": job_id, "DryRun": True, **extra})
    assert (response.status_code, error_code(response)) == (400, "DryRunOperation")
    assert await get(emulator_http, job_id) == before
    # A dry run that would fail gets the real error.
    missing = await call(emulator_http, action, {"Id": "bi-x", "DryRun": True, **extra})
    assert error_code(missing) == "InvalidBatchInferenceJob.NotFound"


async def test_dry_run_stop_of_an_ended_job_gets_the_phase_error(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    job_id = await create(emulator_http)
    put_in_phase(emulator_state, job_id, "Completed")
    response = await call(emulator_http, STOP, {"Id": job_id, "DryRun": True})
    assert error_code(response) == "OperationDenied.InvalidJobPhase"


# --- end to end through the generated client --------------------------------------------


def test_generated_client_runs_the_whole_lifecycle(
    emulator_client: Client, emulator_state: EmulatorState
) -> None:
    created = create_batch_inference_job.sync(
        client=emulator_client,
        body=CreateBatchInferenceJobRequest(
            name="lifecycle",
            model_reference=ModelReferenceInput(
                foundation_model=FoundationModelInput(name="doubao-pro-32k", model_version="1")
            ),
            input_file_tos_location=TosLocationInput(
                bucket_name="my-bucket", object_key="in.jsonl"
            ),
            output_dir_tos_location=TosLocationInput(bucket_name="my-bucket", object_key="out/"),
        ),
    )
    assert isinstance(created, CreateBatchInferenceJobResponse)
    job_id = created.result.id

    updated = update_batch_inference_job.sync(
        client=emulator_client, body=UpdateBatchInferenceJobRequest(id=job_id, name="renamed")
    )
    assert isinstance(updated, UpdateBatchInferenceJobResponse)
    stopped = stop_batch_inference_job.sync(
        client=emulator_client, body=StopBatchInferenceJobRequest(id=job_id)
    )
    assert isinstance(stopped, StopBatchInferenceJobResponse)
    assert stopped.result.additional_properties == {}
    put_in_phase(emulator_state, job_id, "Terminated")  # what the worker does
    resumed = resume_batch_inference_job.sync(
        client=emulator_client, body=ResumeBatchInferenceJobRequest(id=job_id)
    )
    assert isinstance(resumed, ResumeBatchInferenceJobResponse)
    assert resumed.result.id == job_id
    got = get_batch_inference_job.sync(
        client=emulator_client, body=GetBatchInferenceJobRequest(id=job_id)
    )
    assert isinstance(got, GetBatchInferenceJobResponse)
    assert (got.result.name, got.result.status.phase) == ("renamed", "Queued")

    refused = delete_batch_inference_job.sync(
        client=emulator_client, body=DeleteBatchInferenceJobRequest(id=job_id)
    )
    assert isinstance(refused, ErrorResponse)
    assert refused.response_metadata.error.code == "OperationDenied.InvalidJobPhase"
    put_in_phase(emulator_state, job_id, "Completed")
    deleted = delete_batch_inference_job.sync(
        client=emulator_client, body=DeleteBatchInferenceJobRequest(id=job_id)
    )
    assert isinstance(deleted, DeleteBatchInferenceJobResponse)
