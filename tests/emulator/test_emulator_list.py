"""ListBatchInferenceJobs: scope, every filter, TagFilters, paging, sorting, TotalCount."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from emulator_support import JOB_BASE_TIME, LIST, OTHER, call, error_code, make_job, result

from ark_batch.emulator import EmulatorState

BASE = JOB_BASE_TIME


async def ids(client: httpx.AsyncClient, body: dict[str, Any]) -> list[str]:
    page = result(await call(client, LIST, body))
    return [item["Id"] for item in page["Items"]]


@pytest.fixture
def seeded(emulator_state: EmulatorState) -> EmulatorState:
    emulator_state.store.insert_many(
        [
            make_job(1, name="Nightly EVAL", tags=[("team", "eval"), ("env", "prod")]),
            make_job(2, phase="Running", project="research", tags=[("team", "eval")]),
            make_job(3, phase="Queued", model=("doubao-lite", "1"), tags=[("team", "ops")]),
            make_job(4, phase="Failed", custom="cm-7", name="custom nightly"),
            make_job(5, phase="Running", model=("doubao-pro-32k", "241215"), tags=[("env", "")]),
            make_job(6, account=OTHER.account_id, name="nightly other"),
        ]
    )
    return emulator_state


async def test_default_order_is_create_time_desc(
    emulator_http: httpx.AsyncClient, seeded: EmulatorState
) -> None:
    page = result(await call(emulator_http, LIST, {}))
    assert page["TotalCount"] == 5
    assert page["PageNumber"] == 1
    assert page["PageSize"] == 10
    assert [item["Id"] for item in page["Items"]] == [f"bi-job-{i:04d}" for i in (5, 4, 3, 2, 1)]


async def test_sort_by_update_time_asc(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    emulator_state.store.insert_many(
        [
            make_job(1, updated=BASE + timedelta(hours=3)),
            make_job(2, updated=BASE + timedelta(hours=1)),
            make_job(3, updated=BASE + timedelta(hours=2)),
        ]
    )
    body = {"SortBy": "UpdateTime", "SortOrder": "Asc"}
    assert await ids(emulator_http, body) == ["bi-job-0002", "bi-job-0003", "bi-job-0001"]
    body["SortOrder"] = "Desc"
    assert await ids(emulator_http, body) == ["bi-job-0001", "bi-job-0003", "bi-job-0002"]
    assert await ids(emulator_http, {"SortOrder": "Asc"}) == [
        "bi-job-0001",
        "bi-job-0002",
        "bi-job-0003",
    ]


async def test_ties_are_broken_by_id_in_the_same_direction(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    emulator_state.store.insert_many([make_job(i, created=BASE) for i in (2, 3, 1)])
    assert await ids(emulator_http, {}) == ["bi-job-0003", "bi-job-0002", "bi-job-0001"]
    assert await ids(emulator_http, {"SortOrder": "Asc"}) == [
        "bi-job-0001",
        "bi-job-0002",
        "bi-job-0003",
    ]


async def test_paging_and_total_count(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    emulator_state.store.insert_many([make_job(i) for i in range(25)])
    seen: list[str] = []
    for number in (1, 2, 3):
        page = result(await call(emulator_http, LIST, {"PageNumber": number, "PageSize": 10}))
        assert page["TotalCount"] == 25
        assert page["PageNumber"] == number
        assert page["PageSize"] == 10
        seen.extend(item["Id"] for item in page["Items"])
    assert len(seen) == 25
    assert len(set(seen)) == 25
    past = result(await call(emulator_http, LIST, {"PageNumber": 9, "PageSize": 10}))
    assert past["Items"] == []
    assert past["TotalCount"] == 25
    floats = result(await call(emulator_http, LIST, {"PageNumber": 2.0, "PageSize": 5.0}))
    assert (floats["PageNumber"], floats["PageSize"], len(floats["Items"])) == (2, 5, 5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"PageSize": 101},
            "The parameter PageSize is invalid: 101 is greater than the maximum of 100.",
        ),
        ({"PageSize": 0}, "The parameter PageSize is invalid: 0 is less than the minimum of 1."),
        (
            {"PageNumber": 0},
            "The parameter PageNumber is invalid: 0 is less than the minimum of 1.",
        ),
        ({"PageNumber": 1.5}, None),
        ({"SortBy": "Name"}, None),
        ({"SortOrder": "desc"}, None),
        ({"Filter": {"Phases": ["Initializing"]}}, None),
        ({"Filter": {"Phase": ["Running"]}}, "The parameter Filter.Phase is not supported."),
        ({"TagFilters": [{"Values": ["x"]}]}, "The parameter TagFilters[0].Key is required."),
    ],
)
async def test_invalid_list_requests(
    emulator_http: httpx.AsyncClient, body: dict[str, Any], message: str | None
) -> None:
    response = await call(emulator_http, LIST, body)
    assert response.status_code == 400
    assert error_code(response) in ("InvalidParameter", "MissingParameter")
    if message:
        assert response.json()["ResponseMetadata"]["Error"]["Message"] == message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"ProjectName": "research"}, [2]),
        ({"ProjectName": "nope"}, []),
        ({"Filter": {"Ids": ["bi-job-0001", "bi-job-0003", "bi-job-0006"]}}, [3, 1]),
        ({"Filter": {"Name": "nightly"}}, [4, 1]),
        ({"Filter": {"Name": "EVAL"}}, [1]),
        ({"Filter": {"Phases": ["Running"]}}, [5, 2]),
        ({"Filter": {"Phases": ["Running", "Queued"]}}, [5, 3, 2]),
        ({"Filter": {"CustomModelIds": ["cm-7"]}}, [4]),
        ({"Filter": {"FoundationModels": [{"Name": "doubao-pro-32k"}]}}, [5, 2, 1]),
        (
            {
                "Filter": {
                    "FoundationModels": [{"Name": "doubao-pro-32k", "ModelVersions": ["241215"]}]
                }
            },
            [5],
        ),
        (
            {
                "Filter": {
                    "FoundationModels": [
                        {"Name": "doubao-lite", "ModelVersions": []},
                        {"Name": "doubao-pro-32k", "ModelVersions": ["240615"]},
                    ]
                }
            },
            [3, 2, 1],
        ),
        ({"TagFilters": [{"Key": "team"}]}, [3, 2, 1]),
        ({"TagFilters": [{"Key": "team", "Values": []}]}, [3, 2, 1]),
        ({"TagFilters": [{"Key": "team", "Values": ["eval"]}]}, [2, 1]),
        ({"TagFilters": [{"Key": "team", "Values": ["eval", "ops"]}]}, [3, 2, 1]),
        ({"TagFilters": [{"Key": "team", "Values": ["eval"]}, {"Key": "env"}]}, [1]),
        ({"TagFilters": [{"Key": "env", "Values": [""]}]}, [5]),
        ({"TagFilters": [{"Key": "missing"}]}, []),
        ({"TagFilters": [{"Key": "sys:ark:createdBy"}]}, [5, 4, 3, 2, 1]),
        ({"Filter": {"Phases": ["Running"], "Name": "job"}, "TagFilters": [{"Key": "team"}]}, [2]),
    ],
)
async def test_filters(
    emulator_http: httpx.AsyncClient,
    seeded: EmulatorState,
    body: dict[str, Any],
    expected: list[int],
) -> None:
    page = result(await call(emulator_http, LIST, body))
    assert [item["Id"] for item in page["Items"]] == [f"bi-job-{i:04d}" for i in expected]
    assert page["TotalCount"] == len(expected)


async def test_name_filter_folds_unicode_case(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    emulator_state.store.insert_many(
        [make_job(1, name="STRASSE Über"), make_job(2, name="批量推理任务")]
    )
    assert await ids(emulator_http, {"Filter": {"Name": "straße über"}}) == ["bi-job-0001"]
    assert await ids(emulator_http, {"Filter": {"Name": "über"}}) == ["bi-job-0001"]
    assert await ids(emulator_http, {"Filter": {"Name": "推理"}}) == ["bi-job-0002"]
    assert await ids(emulator_http, {"Filter": {"Name": "%"}}) == []


async def test_name_filter_takes_quotes_and_search_syntax_literally(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    emulator_state.store.insert_many(
        [make_job(1, name='say "hi" NEAR me*'), make_job(2, name="say hi near me")]
    )
    assert await ids(emulator_http, {"Filter": {"Name": '"hi"'}}) == ["bi-job-0001"]
    assert await ids(emulator_http, {"Filter": {"Name": "near me*"}}) == ["bi-job-0001"]
    assert await ids(emulator_http, {"Filter": {"Name": "hi OR x"}}) == []
    assert await ids(emulator_http, {"Filter": {"Name": '"'}}) == ["bi-job-0001"]


async def test_name_filter_matches_names_with_a_nul_character(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    # SQLite's JSON functions and FTS5 end a text at a NUL: the whole name must match.
    emulator_state.store.insert_many(
        [make_job(1, name="a\x00bcd"), make_job(2, name="a\ufffdbcd"), make_job(3, name="xyz")]
    )
    for needle in ("a\x00b", "\x00", "\x00b", "\x00bcd", "A\x00BCD", "bcd", "b"):
        page = result(await call(emulator_http, LIST, {"Filter": {"Name": needle}}))
        expected = ["bi-job-0002", "bi-job-0001"] if needle in ("bcd", "b") else ["bi-job-0001"]
        assert [item["Id"] for item in page["Items"]] == expected, needle
        assert page["TotalCount"] == len(expected)
    assert await ids(emulator_http, {"Filter": {"Name": "a\ufffdb"}}) == ["bi-job-0002"]
    assert await ids(emulator_http, {"Filter": {"Name": "\ufffd"}}) == ["bi-job-0002"]
    body = {"Filter": {"Name": "\x00b", "Phases": ["Completed"]}, "TagFilters": [{"Key": "k"}]}
    assert await ids(emulator_http, body) == []


async def test_a_rename_between_names_with_a_nul_moves_the_match(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    # json_extract reads both names as "a": the index must still follow the rename.
    store = emulator_state.store
    store.insert_many([make_job(1, name="a\x00b"), make_job(2, name="plain")])
    account = store.get_any("bi-job-0001")
    assert account is not None
    now = JOB_BASE_TIME + timedelta(days=1)
    assert store.rename(account.account_id, "bi-job-0001", now, name="a\x00c")
    assert await ids(emulator_http, {"Filter": {"Name": "\x00c"}}) == ["bi-job-0001"]
    assert await ids(emulator_http, {"Filter": {"Name": "\x00b"}}) == []
    assert store.rename(account.account_id, "bi-job-0002", now, name="other")
    assert await ids(emulator_http, {"Filter": {"Name": "other"}}) == ["bi-job-0002"]
    assert await ids(emulator_http, {"Filter": {"Name": "plain"}}) == []


async def test_items_have_the_job_shape(
    emulator_http: httpx.AsyncClient, seeded: EmulatorState
) -> None:
    [item] = result(await call(emulator_http, LIST, {"Filter": {"Ids": ["bi-job-0001"]}}))["Items"]
    assert item["CreateTime"] == "2025-03-01T12:01:00Z"
    assert item["ExpireTime"] == "2025-03-02T12:01:00Z"
    assert item["Tags"][0]["Key"] == "sys:ark:createdBy"
    assert item["Status"]["Phase"] == "Completed"


async def test_filters_matching_many_jobs_page_in_order(
    emulator_http: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    # Over a thousand matches: the page is read in time order from the account's index.
    emulator_state.store.insert_many(
        make_job(i, name=f"bulk {i}" if i % 2 else f"other {i}", tags=[("half", str(i % 2))])
        for i in range(2400)
    )
    odd = [f"bi-job-{i:04d}" for i in range(2399, 0, -2)]
    for body in (
        {"TagFilters": [{"Key": "half", "Values": ["1"]}]},
        {"Filter": {"Name": "bulk"}},
        {"Filter": {"Name": "bulk"}, "TagFilters": [{"Key": "half"}]},
    ):
        first = result(await call(emulator_http, LIST, {**body, "PageSize": 100}))
        assert first["TotalCount"] == 1200
        assert [item["Id"] for item in first["Items"]] == odd[:100]
        last = result(
            await call(
                emulator_http,
                LIST,
                {**body, "PageSize": 100, "PageNumber": 12, "SortBy": "UpdateTime"},
            )
        )
        assert [item["Id"] for item in last["Items"]] == odd[1100:]
        ascending = result(await call(emulator_http, LIST, {**body, "SortOrder": "Asc"}))
        assert [item["Id"] for item in ascending["Items"]] == odd[::-1][:10]
