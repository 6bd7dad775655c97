"""Waiting: terminal phases, timeout on a fake clock, the update callback, failures."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ark_batch.emulator import EmulatorState
from ark_batch.errors import JobFailedError, NotFoundError, WaitTimeoutError
from ark_batch.facade import ArkBatch, AsyncArkBatch
from ark_batch_client.models import BatchInferenceJob, JobStatus, RequestCounts
from client.client_support import DEV, FakeTime, job_dict, wait_for_job


def _job(phase: str, completed: int = 0, failed: int = 0, message: str = "") -> BatchInferenceJob:
    data = job_dict("bi-1", phase)
    data["RequestCounts"] = {"Total": 10, "Completed": completed, "Failed": failed}
    data["Status"]["Message"] = message
    return BatchInferenceJob.from_dict(data)


class Sequence:
    """``get`` returning the given states in turn (the last one repeats)."""

    def __init__(self, *states: BatchInferenceJob) -> None:
        self.states = list(states)
        self.calls = 0

    def __call__(self, job_id: str) -> BatchInferenceJob:
        assert job_id == "bi-1"
        self.calls += 1
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


def test_waits_until_completed_reporting_each_change(fake_time: FakeTime) -> None:
    get = Sequence(
        _job("Queued"),
        _job("Queued"),
        _job("Running", 2),
        _job("Running", 2),
        _job("Running", 7, 1),
        _job("Completed", 9, 1),
    )
    updates: list[tuple[str, int, int, int]] = []

    def on_update(status: JobStatus, counts: RequestCounts) -> None:
        updates.append((status.phase, counts.completed, counts.failed, counts.total))

    job = wait_for_job(
        get,
        "bi-1",
        poll_interval=2,
        on_update=on_update,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    assert job.status.phase == "Completed"
    assert get.calls == 6
    assert fake_time.sleeps == [2, 2, 2, 2, 2]
    assert updates == [
        ("Queued", 0, 0, 10),
        ("Running", 2, 0, 10),
        ("Running", 7, 1, 10),
        ("Completed", 9, 1, 10),
    ]


def test_timeout_raises_with_the_last_state_and_polls_at_the_deadline(
    fake_time: FakeTime,
) -> None:
    get = Sequence(_job("Running", 3))
    with pytest.raises(WaitTimeoutError) as caught:
        wait_for_job(
            get, "bi-1", poll_interval=4, timeout=10, sleep=fake_time.sleep, clock=fake_time.clock
        )
    assert fake_time.sleeps == [4, 4, 2]  # the last sleep ends exactly at the deadline
    assert get.calls == 4
    assert caught.value.job is not None
    assert caught.value.job.status.phase == "Running"
    assert caught.value.timeout == 10
    assert "still Running after 10s (3/10 requests done)" in str(caught.value)


@pytest.mark.parametrize("phase", ["Failed", "Terminated"])
def test_failed_and_terminated_raise_with_the_server_message(
    phase: str, fake_time: FakeTime
) -> None:
    get = Sequence(_job("Running"), _job(phase, 1, 2, message="input line 3 is not JSON"))
    with pytest.raises(JobFailedError) as caught:
        wait_for_job(get, "bi-1", poll_interval=1, sleep=fake_time.sleep, clock=fake_time.clock)
    assert caught.value.phase == phase
    assert caught.value.message == "input line 3 is not JSON"
    assert str(caught.value) == f"job bi-1 ended {phase}: input line 3 is not JSON"
    get = Sequence(_job(phase, message="stopped"))
    job = wait_for_job(get, "bi-1", raise_on_failure=False, sleep=fake_time.sleep)
    assert job.status.phase == phase


def test_unknown_phases_are_not_terminal(fake_time: FakeTime) -> None:
    get = Sequence(_job("Initializing"), _job("Terminating"), _job("Completed", 10))
    job = wait_for_job(get, "bi-1", poll_interval=1, sleep=fake_time.sleep, clock=fake_time.clock)
    assert job.status.phase == "Completed"
    assert get.calls == 3


def test_waiter_timeout_and_callback_with_the_job(fake_time: FakeTime) -> None:
    get = Sequence(_job("Queued"), _job("Running", 1))
    seen: list[tuple[str, str]] = []
    with pytest.raises(WaitTimeoutError):
        wait_for_job(
            get,
            "bi-1",
            poll_interval=3,
            timeout=5,
            on_update=lambda job: seen.append((job.id, job.status.phase)),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
        )
    assert seen == [("bi-1", "Queued"), ("bi-1", "Running")]
    assert fake_time.sleeps == [3, 2]


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        wait_for_job(Sequence(_job("Running")), "bi-1", poll_interval=0)
    with pytest.raises(ValueError, match="timeout"):
        wait_for_job(Sequence(_job("Running")), "bi-1", timeout=-1)


# --- against the emulator: phases driven through its store ---------------------------------


class Driver:
    """A fake sleep that moves an emulator job one step on each call."""

    def __init__(self, state: EmulatorState, steps: list[dict[str, Any]]) -> None:
        self.state = state
        self.steps = steps
        self.job_id = ""
        self.sleeps: list[float] = []

    def step(self) -> None:
        if self.steps:
            values = self.steps.pop(0)
            self.state.store.update_job(self.job_id, now=datetime.now(UTC), **values)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.step()

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


RUN_STEPS: list[dict[str, Any]] = [
    {"phase": "Running", "total": 4},
    {"completed": 2},
    {"completed": 3, "failed": 1, "phase": "Completed", "status_message": "done"},
]


@pytest.fixture
def created(ark: ArkBatch) -> str:
    result = ark.create_job(
        name="wait-me", model="m:1", input="my-bucket/in/w.jsonl", output="my-bucket/out/"
    )
    return result.id


def test_emulator_wait_until_completed(
    emulator: tuple[Any, EmulatorState], emulator_url: str, created: str
) -> None:
    driver = Driver(emulator[1], list(RUN_STEPS))
    driver.job_id = created
    updates: list[tuple[str, int, int, int]] = []
    with ArkBatch(emulator_url, credentials=DEV, sleep=driver.sleep) as ark:
        job = ark.wait(
            created,
            poll_interval=0.5,
            on_update=lambda s, c: updates.append((s.phase, c.completed, c.failed, c.total)),
        )
    assert job.status.phase == "Completed"
    assert updates == [
        ("Queued", 0, 0, 0),
        ("Running", 0, 0, 4),
        ("Running", 2, 0, 4),
        ("Completed", 3, 1, 4),
    ]
    assert driver.sleeps == [0.5, 0.5, 0.5]


def test_emulator_wait_failed_raises(
    emulator: tuple[Any, EmulatorState], emulator_url: str, created: str
) -> None:
    driver = Driver(
        emulator[1], [{"phase": "Failed", "status_message": "the input file is malformed"}]
    )
    driver.job_id = created
    ark = ArkBatch(emulator_url, credentials=DEV, sleep=driver.sleep)
    with ark, pytest.raises(JobFailedError, match="the input file is malformed"):
        ark.wait(created, poll_interval=0.1)


def test_emulator_async_wait_and_timeout(
    emulator: tuple[Any, EmulatorState], emulator_url: str, created: str, fake_time: FakeTime
) -> None:
    driver = Driver(emulator[1], list(RUN_STEPS))
    driver.job_id = created

    async def main() -> str:
        async with AsyncArkBatch(emulator_url, credentials=DEV, sleep=driver.async_sleep) as ark:
            job = await ark.wait(created, poll_interval=0.1)
            return job.status.phase

    assert asyncio.run(main()) == "Completed"
    with ArkBatch(
        emulator_url, credentials=DEV, sleep=fake_time.sleep, clock=fake_time.clock
    ) as ark:
        other = ark.create_job(
            name="stuck", model="m:1", input="my-bucket/in/x.jsonl", output="my-bucket/out/"
        )
        with pytest.raises(WaitTimeoutError) as caught:
            ark.wait(other.id, poll_interval=1, timeout=3)
        assert caught.value.job is not None
        assert caught.value.job.id == other.id
        assert caught.value.job.status.phase == "Queued"
        with pytest.raises(NotFoundError):
            ark.wait("bi-20000101000000-nopex", poll_interval=1)


# --- with real job execution -------------------------------------------------------------


def _upload(objects: Path, key: str, count: int) -> None:
    from ark_batch.storage import LocalObjectStore  # noqa: PLC0415

    lines = [
        json.dumps(
            {"custom_id": f"r-{n}", "body": {"messages": [{"role": "user", "content": "hi"}]}}
        )
        for n in range(count)
    ]
    with LocalObjectStore(objects).open_writer("my-bucket", key) as writer:
        writer.write(("\n".join(lines) + "\n").encode())


def test_executed_job_wait_and_results(
    running_emulator: tuple[str, Path, EmulatorState],
) -> None:
    from ark_batch.storage import LocalObjectStore  # noqa: PLC0415

    url, objects, _ = running_emulator
    _upload(objects, "in/real.jsonl", 30)
    seen: list[tuple[str, int, int]] = []
    with ArkBatch(url, credentials=DEV, store=LocalObjectStore(objects)) as ark:
        created = ark.create_job(
            name="real", model="m:1", input="my-bucket/in/real.jsonl", output="my-bucket/out/"
        )
        job = ark.wait(
            created.id,
            poll_interval=0.05,
            timeout=30,
            on_update=lambda s, c: seen.append((s.phase, c.completed, c.failed)),
        )
        results = list(ark.results(job))
        failures = list(ark.errors(job))
    counts = job.request_counts
    assert job.status.phase == "Completed"
    assert seen[-1] == ("Completed", counts.completed, counts.failed)
    assert counts.total == 30
    assert len(results) == counts.completed
    assert len(failures) == counts.failed > 0
    assert {r.custom_id for r in results + failures} == {f"r-{n}" for n in range(30)}
    assert all(r.ok and r.response is not None for r in results)
    assert all(not r.ok and r.error is not None for r in failures)


def test_executed_job_async_wait_and_failed_input(
    running_emulator: tuple[str, Path, EmulatorState],
) -> None:
    from ark_batch.storage import LocalObjectStore  # noqa: PLC0415

    url, objects, _ = running_emulator
    _upload(objects, "in/async.jsonl", 10)

    async def main() -> tuple[str, str, int]:
        async with AsyncArkBatch(url, credentials=DEV, store=LocalObjectStore(objects)) as ark:
            good = await ark.create_job(
                name="ok", model="m:1", input="my-bucket/in/async.jsonl", output="my-bucket/o/"
            )
            missing = await ark.create_job(
                name="bad", model="m:1", input="my-bucket/in/missing.jsonl", output="my-bucket/o/"
            )
            job = await ark.wait(good.id, poll_interval=0.05, timeout=30)
            records = [r async for r in ark.records(job)]
            try:
                await ark.wait(missing.id, poll_interval=0.05, timeout=30)
            except JobFailedError as exc:
                return job.status.phase, exc.message, len(records)
            raise AssertionError("a job over a missing input must fail")

    phase, message, count = asyncio.run(main())
    assert phase == "Completed"
    assert message  # the server's reason
    assert count == 10


@pytest.mark.parametrize("asynchronous", [False, True])
def test_wait_rides_out_an_outage_longer_than_one_polls_retries(
    asynchronous: bool, fake_time: FakeTime
) -> None:
    from client.client_support import ScriptedService, mock_client  # noqa: PLC0415

    service = ScriptedService()
    service.jobs.append(job_dict("bi-1", "Completed"))
    for _ in range(12):  # three polls' worth of retries
        service.then_error(500, "InternalError", "outage")
    client = mock_client(service, asynchronous=asynchronous)
    options: dict[str, Any] = {"poll_interval": 5, "timeout": 600}
    if asynchronous:

        async def main() -> BatchInferenceJob:
            async with AsyncArkBatch(
                client=client, sleep=fake_time.async_sleep, clock=fake_time.clock
            ) as ark:
                return await ark.wait("bi-1", **options)

        job = asyncio.run(main())
    else:
        with ArkBatch(client=client, sleep=fake_time.sleep, clock=fake_time.clock) as ark:
            job = ark.wait("bi-1", **options)
    assert job.status.phase == "Completed"
    assert len(service.requests) == 13
    assert sum(fake_time.sleeps) < 600


def test_wait_gives_up_at_its_deadline_during_an_outage(fake_time: FakeTime) -> None:
    from ark_batch.errors import ServerError  # noqa: PLC0415
    from client.client_support import ScriptedService, mock_client  # noqa: PLC0415

    service = ScriptedService()
    for _ in range(1000):
        service.then_error(500, "InternalError", "outage")
    with (
        ArkBatch(client=mock_client(service), sleep=fake_time.sleep, clock=fake_time.clock) as ark,
        pytest.raises(WaitTimeoutError) as caught,
    ):
        ark.wait("bi-1", poll_interval=5, timeout=30)
    assert caught.value.job is None
    assert isinstance(caught.value.last_error, ServerError)
    assert 30 <= sum(fake_time.sleeps) <= 31  # the poll at the deadline gets its second


def test_update_every_reports_phase_changes_at_once_and_otherwise_on_a_beat(
    fake_time: FakeTime,
) -> None:
    started = fake_time.clock()
    get = Sequence(
        _job("Queued"),  # t=0: first state
        _job("Running", 1),  # t=3: a new phase, at once
        _job("Running", 2),  # t=6: counts moved, but only 3 s since the last report
        _job("Running", 2),  # t=9
        _job("Running", 2),  # t=12: nothing changed, 9 s since the last report
        _job("Running", 2),  # t=15: 12 s: reported although nothing changed
        _job("Running", 2),  # t=18
        _job("Completed", 10),  # t=21: a new phase, at once
    )
    seen: list[tuple[float, str, int]] = []
    wait_for_job(
        get,
        "bi-1",
        poll_interval=3,
        update_every=10,
        on_update=lambda job: seen.append(
            (fake_time.clock() - started, job.status.phase, job.request_counts.completed)
        ),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    assert seen == [(0, "Queued", 0), (3, "Running", 1), (15, "Running", 2), (21, "Completed", 10)]


def test_update_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="update_every"):
        wait_for_job(Sequence(_job("Running")), "bi-1", update_every=0)
