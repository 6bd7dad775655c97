"""Pagination: every job across pages, lazily, sync and async, guarded against bad pages."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from emulator_support import make_job

from ark_batch.emulator import EmulatorState
from ark_batch.errors import InvalidSettingError, UnexpectedResponseError
from ark_batch.facade import ArkBatch, AsyncArkBatch
from ark_batch.pagination import aiter_jobs, iter_jobs
from ark_batch_client.models import (
    BatchInferenceJob,
    ListBatchInferenceJobsRequest,
    ListBatchInferenceJobsResult,
)
from client.client_support import ScriptedService, envelope, job_dict, mock_client


def _service(count: int) -> ScriptedService:
    service = ScriptedService()
    service.jobs = [job_dict(f"bi-{n:04d}") for n in range(count)]
    return service


def _pages(service: ScriptedService) -> list[tuple[int, int]]:
    import json  # noqa: PLC0415

    bodies = [json.loads(r.content) for r in service.requests]
    return [(b["PageNumber"], b["PageSize"]) for b in bodies]


def test_iterates_more_than_three_pages_lazily() -> None:
    service = _service(350)
    with ArkBatch(client=mock_client(service)) as ark:
        jobs = ark.iter_jobs(page_size=100)
        assert service.requests == []  # nothing fetched before iteration
        first = next(jobs)
        assert first.id == "bi-0000"
        assert len(service.requests) == 1
        rest = list(jobs)
    assert [j.id for j in [first, *rest]] == [f"bi-{n:04d}" for n in range(350)]
    assert _pages(service) == [(1, 100), (2, 100), (3, 100), (4, 100)]


def test_exact_multiple_stops_on_total_count_without_an_extra_request() -> None:
    service = _service(300)
    with ArkBatch(client=mock_client(service)) as ark:
        assert len(list(ark.iter_jobs(page_size=100))) == 300
    assert len(service.requests) == 3


def test_filters_are_sent_on_every_page() -> None:
    import json  # noqa: PLC0415

    service = _service(25)
    with ArkBatch(client=mock_client(service)) as ark:
        list(
            ark.iter_jobs(phases=["Running"], project_name="p", tags={"team": ["a"]}, page_size=10)
        )
    bodies = [json.loads(r.content) for r in service.requests]
    assert len(bodies) == 3
    for number, body in enumerate(bodies, 1):
        assert body["PageNumber"] == number
        assert body["Filter"] == {"Phases": ["Running"]}
        assert body["ProjectName"] == "p"
        assert body["TagFilters"] == [{"Key": "team", "Values": ["a"]}]


def test_server_overstating_total_count_stops_on_a_short_page() -> None:
    service = _service(250)
    service.reported_total = 100_000
    with ArkBatch(client=mock_client(service)) as ark:
        assert len(list(ark.iter_jobs(page_size=100))) == 250
    assert len(service.requests) == 3


def test_server_overstating_total_count_stops_on_an_empty_page() -> None:
    service = _service(200)
    service.reported_total = 100_000
    with ArkBatch(client=mock_client(service)) as ark:
        assert len(list(ark.iter_jobs(page_size=100))) == 200
    assert _pages(service) == [(1, 100), (2, 100), (3, 100)]


def test_an_empty_page_mid_way_stops_iteration() -> None:
    service = _service(500)
    service.empty_pages = {2}
    with ArkBatch(client=mock_client(service)) as ark:
        assert len(list(ark.iter_jobs(page_size=100))) == 100
    assert len(service.requests) == 2


def test_server_understating_total_count_stops_at_total_count() -> None:
    service = _service(500)
    service.reported_total = 150
    with ArkBatch(client=mock_client(service)) as ark:
        assert len(list(ark.iter_jobs(page_size=100))) == 200
    assert len(service.requests) == 2


@pytest.mark.parametrize("total", [200, 1000, 10**9])
def test_a_server_that_repeats_its_pages_is_an_error_naming_the_page(total: int) -> None:
    service = _service(100)
    service.reported_total = total
    # Every request gets page 1, whatever PageNumber it asked for.
    for _ in range(3):
        service.then(
            lambda request: httpx.Response(
                200,
                json=envelope(
                    "ListBatchInferenceJobs",
                    {"TotalCount": total, "PageNumber": 1, "PageSize": 100,
                     "Items": service.jobs},
                ),
            )
        )  # fmt: skip
    with ArkBatch(client=mock_client(service)) as ark:
        jobs = ark.iter_jobs(page_size=100)
        assert len([next(jobs) for _ in range(100)]) == 100
        with pytest.raises(UnexpectedResponseError, match="asked for page 2 of the jobs, the "):
            next(jobs)
    assert len(service.requests) == 2


def test_a_page_shifted_by_new_jobs_is_read_on() -> None:
    """Jobs created between two requests push already-seen jobs onto the next page."""
    service = _service(25)
    with ArkBatch(client=mock_client(service)) as ark:
        jobs = ark.iter_jobs(page_size=10)
        first = [next(jobs) for _ in range(10)]
        # Ten newer jobs: page 2 now holds exactly the jobs of page 1.
        service.jobs = [job_dict(f"bi-new-{n}") for n in range(10)] + service.jobs
        rest = list(jobs)
    listed = [job.id for job in [*first, *rest]]
    assert sorted(listed) == sorted(f"bi-{n:04d}" for n in range(25))
    assert len(set(listed)) == 25


def test_reaching_max_pages_with_jobs_left_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def endless(page: int, size: int) -> ListBatchInferenceJobsResult:
        items = [job_dict(f"bi-{page}-{n}") for n in range(size)]
        return ListBatchInferenceJobsResult.from_dict(
            {"TotalCount": 10**9, "PageNumber": page, "PageSize": size, "Items": items}
        )

    with caplog.at_level(logging.WARNING, logger="ark_batch"):
        assert len(list(iter_jobs(endless, page_size=2, max_pages=5))) == 10
    [record] = caplog.records
    assert "max_pages=5 with jobs left (TotalCount 1000000000, 10 listed)" in record.getMessage()


def test_max_pages_guards_against_a_server_that_never_ends() -> None:
    calls: list[int] = []

    def endless(page: int, size: int) -> ListBatchInferenceJobsResult:
        calls.append(page)
        items = [job_dict(f"bi-{page}-{n}") for n in range(size)]
        return ListBatchInferenceJobsResult.from_dict(
            {"TotalCount": 10**9, "PageNumber": page, "PageSize": size, "Items": items}
        )

    assert len(list(iter_jobs(endless, page_size=2, max_pages=5))) == 10
    assert calls == [1, 2, 3, 4, 5]


def test_jobs_repeated_by_a_shifted_page_are_yielded_once() -> None:
    pages = {
        1: [job_dict("a"), job_dict("b")],
        2: [job_dict("b"), job_dict("c")],  # a job created meanwhile shifted "b"
        3: [job_dict("d")],
    }

    def fetch(page: int, size: int) -> ListBatchInferenceJobsResult:
        return ListBatchInferenceJobsResult.from_dict(
            {"TotalCount": 5, "PageNumber": page, "PageSize": size, "Items": pages[page]}
        )

    assert [j.id for j in iter_jobs(fetch, page_size=2)] == ["a", "b", "c", "d"]


def test_async_iteration_over_more_than_three_pages() -> None:
    service = _service(430)
    service.reported_total = 10_000  # must stop on the short last page

    async def main() -> list[BatchInferenceJob]:
        async with AsyncArkBatch(client=mock_client(service, asynchronous=True)) as ark:
            return [job async for job in ark.iter_jobs(page_size=100)]

    jobs = asyncio.run(main())
    assert [j.id for j in jobs] == [f"bi-{n:04d}" for n in range(430)]
    assert len(service.requests) == 5


@pytest.mark.parametrize("bounds", [{"page_size": 0}, {"first_page": 0}, {"max_pages": 0}], ids=str)
def test_invalid_page_arguments_are_rejected_when_called(bounds: dict[str, int]) -> None:
    # At the call, not at the first next(): a caller sees it where the mistake is.
    def fetch(page: int, size: int) -> ListBatchInferenceJobsResult:
        return ListBatchInferenceJobsResult(0, 1, 1, [])

    async def afetch(page: int, size: int) -> ListBatchInferenceJobsResult:
        return fetch(page, size)

    with pytest.raises(ValueError, match="at least 1"):
        iter_jobs(fetch, **bounds)
    with pytest.raises(ValueError, match="at least 1"):
        aiter_jobs(afetch, **bounds)


@pytest.mark.parametrize(
    "body",
    [{"PageNumber": "3"}, {"PageSize": "5"}, {"PageSize": 5.5}, {"PageNumber": True}],
    ids=str,
)
def test_a_page_number_or_size_of_the_wrong_type_is_refused_not_replaced(
    body: dict[str, Any],
) -> None:
    # The generated model keeps any JSON value; replacing it by the default would list
    # every job from page 1, or in pages of another size, without a word.
    request = ListBatchInferenceJobsRequest.from_dict(body)
    service = _service(3)
    wrong = f"{next(iter(body))} must be an integer"
    with (
        ArkBatch(client=mock_client(service)) as ark,
        pytest.raises(InvalidSettingError, match=wrong),
    ):
        ark.iter_jobs(request)
    assert service.requests == []


# --- against the emulator ------------------------------------------------------------------


def _seed(state: EmulatorState, count: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    state.store.insert_many(
        make_job(
            n,
            job_id=f"bi-20260101{n:06d}-seed{n % 10}",
            account=_dev_account(state),
            project="default" if n % 2 else "other",
            name=f"seeded {n}",
            phase="Completed" if n % 3 else "Failed",
            tags=[("team", "a" if n % 4 else "b")],
            created=start + timedelta(minutes=n),
            total=3,
            completed=3,
        )
        for n in range(count)
    )


def _dev_account(state: EmulatorState) -> str:
    account: Any = state.config.accounts[0]
    return str(account.account_id)


def test_emulator_pagination_over_many_pages(
    emulator: tuple[Any, EmulatorState], ark: ArkBatch
) -> None:
    _seed(emulator[1], 45)
    jobs = list(ark.iter_jobs(page_size=7))
    assert len(jobs) == 45
    assert len({j.id for j in jobs}) == 45
    created = [j.create_time for j in jobs]
    assert created == sorted(created, reverse=True)  # default newest first
    failed = list(ark.iter_jobs(phases=["Failed"], page_size=4, sort_order="Asc"))
    assert [j.id for j in failed] == [f"bi-20260101{n:06d}-seed{n % 10}" for n in range(0, 45, 3)]
    project = list(ark.iter_jobs(project_name="other", tags={"team": ["b"]}, page_size=2))
    expected = {f"bi-20260101{n:06d}-seed{n % 10}" for n in range(0, 45, 4)}
    assert len(expected) == 12
    assert {j.id for j in project} == expected


def test_emulator_async_pagination(emulator: tuple[Any, EmulatorState], emulator_url: str) -> None:
    from client.client_support import DEV  # noqa: PLC0415

    _seed(emulator[1], 31)

    async def main() -> list[BatchInferenceJob]:
        async with AsyncArkBatch(emulator_url, credentials=DEV) as ark:
            return [job async for job in ark.iter_jobs(page_size=5)]

    assert len(asyncio.run(main())) == 31
