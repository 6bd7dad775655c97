"""The facade's stop_job, resume_job, update_job, delete_job, stop_on_error and
wait(cancel_on_timeout=True): against the emulator, and retry rules against a script."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from emulator_support import put_in_phase

from ark_batch.emulator import EmulatorState
from ark_batch.errors import (
    ActiveJobExistsError,
    ConflictError,
    NotFoundError,
    ServerError,
    WaitTimeoutError,
)
from ark_batch.facade import ArkBatch, AsyncArkBatch
from client.client_support import DEV, FakeTime, ScriptedService, mock_client

MODEL = "doubao-pro-32k:240615"


def _create(ark: ArkBatch, key: str = "in/a.jsonl") -> str:
    return ark.create_job(
        name="lifecycle", model=MODEL, input=f"tos://bkt/{key}", output="tos://bkt/out/"
    ).id


# --- against the emulator --------------------------------------------------------------


def test_stop_update_resume_delete(ark: ArkBatch, emulator: tuple[Any, EmulatorState]) -> None:
    job_id = _create(ark)
    ark.update_job(job_id, name="renamed", description="about it")
    assert (ark.get_job(job_id).name, ark.get_job(job_id).description) == ("renamed", "about it")

    ark.stop_job(job_id, dry_run=True)
    assert ark.get_job(job_id).status.phase == "Queued"
    ark.cancel_job(job_id)
    assert ark.get_job(job_id).status.phase == "Terminating"
    ark.stop_job(job_id)  # again: nothing to do, no error

    with pytest.raises(ConflictError, match="Terminating"):
        ark.delete_job(job_id)
    put_in_phase(emulator[1], job_id, "Terminated")
    assert ark.resume_job(job_id).id == job_id
    assert ark.get_job(job_id).status.phase == "Queued"

    put_in_phase(emulator[1], job_id, "Completed")
    with pytest.raises(ConflictError, match="Completed"):
        ark.stop_job(job_id)
    ark.delete_job(job_id, dry_run=True)
    ark.delete_job(job_id)
    with pytest.raises(NotFoundError):
        ark.get_job(job_id)
    with pytest.raises(NotFoundError):
        ark.delete_job(job_id)


def test_resume_into_an_active_key_names_the_active_job(
    ark: ArkBatch, emulator: tuple[Any, EmulatorState]
) -> None:
    first = _create(ark)
    ark.stop_job(first)
    put_in_phase(emulator[1], first, "Terminated")
    second = _create(ark)
    with pytest.raises(ActiveJobExistsError) as caught:
        ark.resume_job(first)
    assert caught.value.job_id == second


def test_update_needs_a_field(ark: ArkBatch) -> None:
    with pytest.raises(ValueError, match="name"):
        ark.update_job("bi-x")


def test_wait_can_stop_the_job_on_timeout(ark: ArkBatch) -> None:
    job_id = _create(ark)  # no execution here: it stays Queued
    with pytest.raises(WaitTimeoutError):
        ark.wait(job_id, poll_interval=1, timeout=3, cancel_on_timeout=True)
    assert ark.get_job(job_id).status.phase == "Terminating"

    other = _create(ark, "in/b.jsonl")
    with pytest.raises(WaitTimeoutError):
        ark.wait(other, poll_interval=1, timeout=3)
    assert ark.get_job(other).status.phase == "Queued"


def test_stop_on_error_stops_only_when_the_block_raises(ark: ArkBatch) -> None:
    kept = _create(ark)
    with ark.stop_on_error(kept) as job_id:
        assert job_id == kept
    assert ark.get_job(kept).status.phase == "Queued"

    stopped = _create(ark, "in/b.jsonl")
    with pytest.raises(KeyboardInterrupt), ark.stop_on_error(stopped):
        raise KeyboardInterrupt
    assert ark.get_job(stopped).status.phase == "Terminating"


def test_stop_on_error_keeps_the_blocks_error_when_the_stop_fails(
    ark: ArkBatch, emulator: tuple[Any, EmulatorState]
) -> None:
    job_id = _create(ark)
    put_in_phase(emulator[1], job_id, "Completed")
    with pytest.raises(RuntimeError, match="boom") as caught, ark.stop_on_error(job_id):
        raise RuntimeError("boom")
    assert any(f"stopping job {job_id} failed" in note for note in caught.value.__notes__)


@pytest.fixture
async def aark(emulator_url: str, fake_time: FakeTime) -> AsyncIterator[AsyncArkBatch]:
    async with AsyncArkBatch(
        emulator_url, credentials=DEV, sleep=fake_time.async_sleep, clock=fake_time.clock
    ) as client:
        yield client


async def test_async_lifecycle(aark: AsyncArkBatch, emulator: tuple[Any, EmulatorState]) -> None:
    job_id = (
        await aark.create_job(
            name="async", model=MODEL, input="tos://bkt/in/a.jsonl", output="tos://bkt/out/"
        )
    ).id
    await aark.update_job(job_id, name="async-renamed")
    with pytest.raises(WaitTimeoutError):
        await aark.wait(job_id, poll_interval=1, timeout=2, cancel_on_timeout=True)
    assert (await aark.get_job(job_id)).status.phase == "Terminating"
    put_in_phase(emulator[1], job_id, "Terminated")
    assert (await aark.resume_job(job_id)).id == job_id
    with pytest.raises(RuntimeError):
        async with aark.stop_on_error(job_id):
            raise RuntimeError("boom")
    job = await aark.get_job(job_id)
    assert (job.name, job.status.phase) == ("async-renamed", "Terminating")
    put_in_phase(emulator[1], job_id, "Terminated")
    await aark.cancel_job(job_id)
    await aark.delete_job(job_id)
    with pytest.raises(NotFoundError):
        await aark.get_job(job_id)


# --- retry rules -----------------------------------------------------------------------


def _scripted(service: ScriptedService, fake_time: FakeTime) -> ArkBatch:
    return ArkBatch(
        client=mock_client(service, clock=fake_time.now),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


@pytest.mark.parametrize(
    ("call", "body"),
    [
        (lambda ark: ark.stop_job("bi-1"), {"Id": "bi-1"}),
        (lambda ark: ark.update_job("bi-1", name="n"), {"Id": "bi-1", "Name": "n"}),
        (lambda ark: ark.delete_job("bi-1"), {"Id": "bi-1"}),
    ],
    ids=["stop", "update", "delete"],
)
def test_idempotent_actions_are_retried_after_a_5xx_with_the_same_body(
    fake_time: FakeTime, call: Any, body: dict[str, Any]
) -> None:
    service = ScriptedService().then_error(500, "InternalError").then_ok({})
    call(_scripted(service, fake_time))
    assert [json.loads(r.content) for r in service.requests] == [body] * 2


def test_resume_is_not_retried_after_a_5xx(fake_time: FakeTime) -> None:
    service = ScriptedService().then_error(500, "InternalError")
    with pytest.raises(ServerError):
        _scripted(service, fake_time).resume_job("bi-1")
    assert len(service.requests) == 1


def test_resume_is_not_retried_after_a_timeout(fake_time: FakeTime) -> None:
    service = ScriptedService().then_raise(httpx.ReadTimeout)
    with pytest.raises(Exception, match="timed out"):
        _scripted(service, fake_time).resume_job("bi-1")
    assert len(service.requests) == 1


def test_resume_is_retried_when_throttled(fake_time: FakeTime) -> None:
    service = ScriptedService().then_error(429, "FlowLimitExceeded").then_ok({"Id": "bi-1"})
    assert _scripted(service, fake_time).resume_job("bi-1").id == "bi-1"
    assert len(service.requests) == 2


def test_delete_answered_not_found_after_a_retry_is_done(fake_time: FakeTime) -> None:
    service = (
        ScriptedService()
        .then_error(500, "InternalError")
        .then_error(404, "InvalidBatchInferenceJob.NotFound")
    )
    _scripted(service, fake_time).delete_job("bi-1")
    assert len(service.requests) == 2


def test_delete_of_a_missing_job_raises(fake_time: FakeTime) -> None:
    service = ScriptedService().then_error(404, "InvalidBatchInferenceJob.NotFound")
    with pytest.raises(NotFoundError):
        _scripted(service, fake_time).delete_job("bi-1")


async def test_async_lifecycle_retry_rules(fake_time: FakeTime) -> None:
    """The async facade runs the same flows: Delete's NotFound after a retry, Resume's rule."""
    service = (
        ScriptedService()
        .then_error(500, "InternalError")
        .then_error(404, "InvalidBatchInferenceJob.NotFound")
        .then_error(500, "InternalError")
    )
    async with AsyncArkBatch(
        client=mock_client(service, clock=fake_time.now, asynchronous=True),
        sleep=fake_time.async_sleep,
        clock=fake_time.clock,
    ) as ark:
        await ark.delete_job("bi-1")
        assert len(service.requests) == 2
        with pytest.raises(ServerError):
            await ark.resume_job("bi-1")
    assert len(service.requests) == 3
