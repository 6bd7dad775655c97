"""Retries: backoff with jitter, Retry-After, per-action rules, a fresh signature per attempt."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ark_batch.errors import (
    ActiveJobExistsError,
    ConnectError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    TransportError,
    UnexpectedResponseError,
)
from ark_batch.facade import ArkBatch, AsyncArkBatch
from ark_batch.retries import DEFAULT_RETRY, NO_RETRY, RetryPolicy, is_retryable, next_delay
from ark_batch.signing import parse_authorization
from client.client_support import DEV, FakeTime, ScriptedService, job_dict, mock_client

CREATE_FIELDS: dict[str, Any] = {
    "name": "nightly",
    "model": "doubao-pro-32k:240615",
    "input": "tos://my-bucket/in/a.jsonl",
    "output": "tos://my-bucket/out/",
}
ACTIVE_MESSAGE = "An active batch inference job bi-20240918194641-abcde already exists."


def _ark(service: ScriptedService, fake_time: FakeTime, **kwargs: Any) -> ArkBatch:
    return ArkBatch(
        client=mock_client(service, clock=fake_time.now),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        **kwargs,
    )


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(initial_backoff=0.5, multiplier=2, max_backoff=3)
    assert policy.backoff(1, rng=lambda: 1.0) == 0.5
    assert policy.backoff(2, rng=lambda: 1.0) == 1.0
    assert policy.backoff(3, rng=lambda: 1.0) == 2.0
    assert policy.backoff(4, rng=lambda: 1.0) == 3.0  # capped
    assert policy.backoff(4, rng=lambda: 0.0) == 0.0
    samples = {policy.backoff(3) for _ in range(200)}
    assert len(samples) > 100  # jittered
    assert all(0 <= s <= 2.0 for s in samples)


def test_retry_after_wins_over_backoff_and_above_the_cap_fails_fast() -> None:
    policy = RetryPolicy(max_retry_after=5)
    get = "GetBatchInferenceJob"
    hint = ThrottledError(429, "FlowLimitExceeded", "m", retry_after=2)
    assert next_delay(policy, get, hint, 1, 0.0, 0.0) == 2
    above = ThrottledError(429, "FlowLimitExceeded", "m", retry_after=60)
    assert next_delay(policy, get, above, 1, 0.0, 0.0) is None
    ignoring = RetryPolicy(respect_retry_after=False, initial_backoff=0.1)
    delay = next_delay(ignoring, get, above, 1, 0.0, 0.0)
    assert delay is not None
    assert delay <= 0.1
    # A retry that would start past the call's deadline is not made, nor a fifth attempt.
    assert next_delay(policy, get, hint, 1, 0.0, 0.0, deadline=1.5) is None
    assert next_delay(policy, get, hint, 4, 0.0, 0.0) is None


@pytest.mark.parametrize(
    ("action", "error", "expected"),
    [
        ("GetBatchInferenceJob", ThrottledError(429, "FlowLimitExceeded", "m"), True),
        ("GetBatchInferenceJob", ServerError(500, "InternalError", "m"), True),
        ("ListBatchInferenceJobs", TransportError("reset"), True),
        ("ListBatchInferenceJobs", UnexpectedResponseError("html", status=502), True),
        ("GetBatchInferenceJob", UnexpectedResponseError("html", status=400), False),
        ("CreateBatchInferenceJob", ThrottledError(429, "FlowLimitExceeded", "m"), True),
        ("CreateBatchInferenceJob", ConnectError("refused", sent=False), True),
        ("CreateBatchInferenceJob", ServerError(500, "InternalError", "m"), False),
        ("CreateBatchInferenceJob", RequestTimeoutError("read timeout"), False),
        ("CreateBatchInferenceJob", TransportError("reset"), False),
        ("CreateBatchInferenceJob", UnexpectedResponseError("html", status=502), False),
    ],
)
def test_retry_decisions_per_action(action: str, error: Exception, expected: bool) -> None:
    assert is_retryable(action, error) is expected


@pytest.mark.parametrize("value", ["-5", "-inf", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_retry_after_that_is_no_wait_falls_back_to_backoff(
    fake_time: FakeTime, value: str
) -> None:
    service = ScriptedService().then_error(429, "FlowLimitExceeded", headers={"Retry-After": value})
    service.jobs.append(job_dict("bi-1"))
    with _ark(service, fake_time) as ark:
        assert ark.get_job("bi-1").id == "bi-1"
    [pause] = fake_time.sleeps
    # Full jitter draws from [0, initial_backoff): exactly 0 only with the old clamp.
    assert 0 < pause <= DEFAULT_RETRY.initial_backoff


def test_get_retries_throttling_honouring_retry_after_and_re_signs(fake_time: FakeTime) -> None:
    service = (
        ScriptedService()
        .then_error(429, "FlowLimitExceeded", headers={"Retry-After": "7"})
        .then_error(503, "ServiceUnavailableTemp")
        .then_raise(httpx.ConnectError)
    )
    service.jobs.append(job_dict("bi-1"))
    with _ark(service, fake_time) as ark:
        job = ark.get_job("bi-1")
    assert job.id == "bi-1"
    assert len(service.requests) == 4
    assert fake_time.sleeps[0] == 7  # exactly the server's Retry-After
    assert all(0 <= s <= 8 for s in fake_time.sleeps[1:])
    dates = [r.headers["X-Date"] for r in service.requests]
    signatures = [
        parse_authorization(r.headers["Authorization"]).signature for r in service.requests
    ]
    assert len(set(dates)) == 4
    assert len(set(signatures)) == 4
    assert all(r.headers["Authorization"].count("Signature=") == 1 for r in service.requests)


def test_retries_stop_at_max_attempts(fake_time: FakeTime) -> None:
    service = ScriptedService()
    for _ in range(5):
        service.then_error(500, "InternalError")
    ark = _ark(service, fake_time, retry=RetryPolicy(max_attempts=3))
    with ark, pytest.raises(ServerError):
        ark.get_job("bi-1")
    assert len(service.requests) == 3


def test_per_call_policy_overrides_the_client_policy(fake_time: FakeTime) -> None:
    service = ScriptedService().then_error(500, "InternalError").then_error(500, "InternalError")
    with _ark(service, fake_time) as ark, pytest.raises(ServerError):
        ark.get_job("bi-1", retry=NO_RETRY)
    assert len(service.requests) == 1
    assert fake_time.sleeps == []


def test_total_timeout_gives_up_before_a_long_retry_after(fake_time: FakeTime) -> None:
    service = ScriptedService().then_error(429, "FlowLimitExceeded", headers={"Retry-After": "20"})
    policy = RetryPolicy(total_timeout=10)
    with _ark(service, fake_time, retry=policy) as ark, pytest.raises(ThrottledError) as caught:
        ark.get_job("bi-1")
    assert caught.value.retry_after == 20
    assert fake_time.sleeps == []


def test_create_is_not_retried_after_a_5xx(fake_time: FakeTime) -> None:
    service = ScriptedService().then_error(500, "InternalError")
    with _ark(service, fake_time) as ark, pytest.raises(ServerError):
        ark.create_job(**CREATE_FIELDS)
    assert len(service.requests) == 1


def test_create_is_not_retried_after_a_timeout_once_sent(fake_time: FakeTime) -> None:
    service = ScriptedService().then_raise(httpx.ReadTimeout)
    with _ark(service, fake_time) as ark, pytest.raises(RequestTimeoutError):
        ark.create_job(**CREATE_FIELDS)
    assert len(service.requests) == 1


def test_create_is_retried_when_the_connection_was_refused(fake_time: FakeTime) -> None:
    service = ScriptedService().then_raise(httpx.ConnectError).then_raise(httpx.ConnectTimeout)
    with _ark(service, fake_time) as ark:
        result = ark.create_job(**CREATE_FIELDS)
    assert result.id.startswith("bi-")
    assert len(service.requests) == 3


def test_throttled_create_is_retried_unless_switched_off(fake_time: FakeTime) -> None:
    service = ScriptedService().then_error(429, "FlowLimitExceeded", headers={"Retry-After": "2"})
    with _ark(service, fake_time) as ark:
        assert ark.create_job(**CREATE_FIELDS).id
    assert len(service.requests) == 2
    assert fake_time.sleeps == [2]
    service = ScriptedService().then_error(429, "FlowLimitExceeded")
    strict = RetryPolicy(retry_throttled_create=False)
    ark = _ark(service, fake_time, retry=strict)
    with ark, pytest.raises(ThrottledError):
        ark.create_job(**CREATE_FIELDS)
    assert len(service.requests) == 1
    assert is_retryable(
        "GetBatchInferenceJob", ThrottledError(429, "F", "m"), throttled_create=False
    )


def test_create_returns_the_active_job_instead_of_an_error(fake_time: FakeTime) -> None:
    service = ScriptedService().then_error(409, "OperationDenied.ActiveJobExists", ACTIVE_MESSAGE)
    with _ark(service, fake_time) as ark:
        result = ark.create_job(**CREATE_FIELDS)
    assert result.id == "bi-20240918194641-abcde"
    service.then_error(409, "OperationDenied.ActiveJobExists", ACTIVE_MESSAGE)
    with _ark(service, fake_time) as ark, pytest.raises(ActiveJobExistsError) as caught:
        ark.create_job(**CREATE_FIELDS, on_active_job="raise")
    assert caught.value.job_id == "bi-20240918194641-abcde"


def test_async_get_retries_with_async_sleep(fake_time: FakeTime) -> None:
    service = ScriptedService().then_error(429, "FlowLimitExceeded", headers={"Retry-After": "1"})
    service.jobs.append(job_dict("bi-1"))

    async def main() -> str:
        async with AsyncArkBatch(
            client=mock_client(service, clock=fake_time.now, asynchronous=True),
            sleep=fake_time.async_sleep,
            clock=fake_time.clock,
        ) as ark:
            job = await ark.get_job("bi-1")
            return job.id

    assert asyncio.run(main()) == "bi-1"
    assert fake_time.sleeps == [1]
    assert service.requests[0].headers["X-Date"] != service.requests[1].headers["X-Date"]


# --- against the emulator: injected throttling, each attempt verified --------------------


def test_emulator_throttling_is_retried_with_fresh_signatures(
    emulator_url: str, emulator_faults: Any, fake_time: FakeTime
) -> None:
    sent: list[httpx.Request] = []
    with ArkBatch(
        emulator_url,
        credentials=DEV,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        httpx_args={"event_hooks": {"request": [sent.append]}},
    ) as ark:
        # A clock per attempt (one second apart) makes X-Date differ across attempts.
        ark.client.get_httpx_client().auth.clock = fake_time.now  # type: ignore[union-attr]
        created = ark.create_job(**CREATE_FIELDS)
        emulator_faults.inject_throttling(2, retry_after=1, actions=["GetBatchInferenceJob"])
        sent.clear()
        job = ark.get_job(created.id)
    assert job.id == created.id
    assert emulator_faults.injected == 2  # faults apply only after a signature verified
    assert len(sent) == 3
    assert fake_time.sleeps == [1, 1]
    assert len({r.headers["X-Date"] for r in sent}) == 3
    assert len({r.headers["Authorization"] for r in sent}) == 3


def test_emulator_server_errors_are_not_retried_for_create(
    emulator_url: str, emulator_faults: Any, fake_time: FakeTime
) -> None:
    emulator_faults.inject_server_errors(1, actions=["CreateBatchInferenceJob"])
    with ArkBatch(emulator_url, credentials=DEV, sleep=fake_time.sleep) as ark:
        with pytest.raises(ServerError) as caught:
            ark.create_job(**CREATE_FIELDS)
        assert caught.value.code == "InternalError"
        assert caught.value.request_id
        # Nothing was created, and the next call succeeds.
        assert ark.list_jobs().total_count == 0
        assert ark.create_job(**CREATE_FIELDS).id
