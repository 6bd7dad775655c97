"""Which filter a List starts from (decision 0032), and that every plan answers alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from emulator_support import DEV, JOB_BASE_TIME, OTHER, expected_list, make_job

from ark_batch.emulator import list_query
from ark_batch.emulator.job import Job
from ark_batch.emulator.list_query import (
    COLUMN_RATIO,
    SMALL_SET,
    Role,
    count_from_sets,
    name_base,
    plan_roles,
    where_clause,
)
from ark_batch.emulator.store import JobStore, ListQuery, _roles

NOW = datetime(2025, 6, 1, tzinfo=UTC)
JOBS = 6000
OLD = JOBS // 2


def _job(index: int) -> Job:
    """Jobs whose filters have large and small sets, old-only and spread matches."""
    era = "old" if index <= OLD else "new"
    tags = [
        ("all", "x"),
        ("era", era),
        ("env", "prod" if index % 2 else "dev"),
        *([("env", "both")] if index % 11 == 0 else []),  # a key twice on one job
        *([("rare", "r")] if index % 500 == 0 else []),
    ]
    return make_job(
        index,
        account=OTHER.account_id if index % 7 == 0 else DEV.account_id,
        phase=("Completed", "Running", "Failed")[index % 3],
        project=f"p{index % 4}",
        name=f"{'Legacy' if index <= OLD else 'fresh'} "
        f"{'nightly' if index % 3 == 0 else 'weekly'} run {index}"
        f"{' qz' if index % 600 == 0 else ''}",
        model=("doubao-pro-32k", "240615") if index % 2 else ("doubao-lite", "1"),
        custom=f"cm-{index % 3}" if index % 10 == 0 else None,
        tags=tags,
        # Update times run against creation times, so the two orders differ.
        updated=JOB_BASE_TIME + timedelta(minutes=2 * (JOBS - index)),
    )


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JobStore, list[Job]]]:
    jobs = [_job(index) for index in range(1, JOBS + 1)]
    store = JobStore.open(Path(tmp_path_factory.mktemp("plans")), lambda: NOW)
    store.insert_many(jobs)
    yield store, jobs
    store.close()


# Each combination, and the roles its sizes give its Name and TagFilters (TagFilters
# first) in the DEV account, which holds 5,143 of the jobs.
COMBINATIONS: dict[str, tuple[ListQuery, list[Role]]] = {
    # Only Name and TagFilters, all large: the smallest by exact size drives.
    "every job + weekly": (
        ListQuery(tag_filters=[("all", [])], name="weekly"),  # 5,143 and 3,428
        ["check", "drive"],
    ),
    "old + prod": (
        ListQuery(tag_filters=[("era", ["old"]), ("env", ["prod"])]),  # 2,572 and 2,571
        ["check", "drive"],
    ),
    "three sets": (
        ListQuery(tag_filters=[("all", []), ("era", ["old"])], name="legacy"),
        ["check", "drive", "check"],  # 2,572 twice: the first of them
    ),
    "prod or both + weekly": (
        ListQuery(tag_filters=[("env", ["prod", "both"])], name="weekly"),
        ["drive", "check"],
    ),
    "two letters + old": (
        ListQuery(tag_filters=[("era", ["old"])], name="ru"),  # 2,572 and 5,143
        ["drive", "check"],
    ),
    # One small set: it drives.
    "nightly + every job": (
        ListQuery(tag_filters=[("all", [])], name="Nightly"),  # 1,715 Nightly
        ["check", "drive"],
    ),
    "rare + weekly": (ListQuery(tag_filters=[("rare", [])], name="weekly"), ["drive", "check"]),
    "every job + rare": (
        ListQuery(tag_filters=[("all", []), ("rare", ["r"])]),
        ["check", "drive"],
    ),
    "a rare two-letter Name + every job": (
        ListQuery(tag_filters=[("all", [])], name="QZ"),  # read from the plain names
        ["check", "drive"],
    ),
    # Large sets with a narrower column filter: the column's index drives, sets probed.
    "old + Running": (
        ListQuery(tag_filters=[("era", ["old"])], phases=["Running"]),  # 1,714 Running
        ["probe"],
    ),
    "legacy + project": (ListQuery(name="legacy", project_name="p1"), ["probe"]),
    "every job + model": (
        ListQuery(tag_filters=[("all", [])], foundation_models=[("doubao-lite", [])]),
        ["probe"],
    ),
    "old + custom model": (
        ListQuery(tag_filters=[("era", [])], custom_model_ids=["cm-1"]),
        ["probe"],
    ),
    "env + weekly + phases": (
        ListQuery(tag_filters=[("env", [])], name="weekly", phases=["Running", "Failed"]),
        ["probe", "probe"],
    ),
    # Ids: they drive, everything else is checked.
    "ids + every job": (
        ListQuery(
            ids=["bi-job-0010", "bi-job-0011", "bi-job-4000"],
            tag_filters=[("all", [])],
            name="run",
        ),
        ["check", "check"],
    ),
}
ORDERS: dict[str, dict[str, Any]] = {
    "newest": {},
    "page 40": {"page_number": 40},
    "by update, oldest": {"sort_by": "update_time", "descending": False},
    "oldest, page 3": {"descending": False, "page_number": 3, "page_size": 7},
}


@pytest.mark.parametrize("order", list(ORDERS), ids=str)
@pytest.mark.parametrize("name", list(COMBINATIONS), ids=str)
def test_every_plan_answers_as_the_api_rules_say(
    stored: tuple[JobStore, list[Job]], name: str, order: str
) -> None:
    store, jobs = stored
    query = replace(COMBINATIONS[name][0], **ORDERS[order])
    for account in (DEV.account_id, OTHER.account_id):
        total, page = store.list(account, query)
        assert (total, [job.id for job in page]) == expected_list(jobs, account, query)


def _planned(store: JobStore, query: ListQuery) -> list[Role]:
    conn = store._conn
    row = conn.execute(
        "SELECT ordinal FROM accounts WHERE account_id = ?", (DEV.account_id,)
    ).fetchone()
    return _roles(conn, DEV.account_id, query, name_base(row[0]))


@pytest.mark.parametrize("name", list(COMBINATIONS), ids=str)
def test_the_sizes_give_each_combination_its_roles(
    stored: tuple[JobStore, list[Job]], name: str
) -> None:
    store, _ = stored
    query, roles = COMBINATIONS[name]
    assert _planned(store, query) == roles


def test_a_broad_column_filter_leaves_the_smallest_set_to_drive(
    stored: tuple[JobStore, list[Job]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every set counts as large here. The env=both tag (468 jobs) against every phase
    # (5,143 jobs, over four times as many): the tag drives. Against one project
    # (1,286 jobs): the project's index drives, and the tag is probed.
    store, jobs = stored
    monkeypatch.setattr(list_query, "SMALL_SET", 100)
    broad = ListQuery(tag_filters=[("env", ["both"])], phases=["Completed", "Running", "Failed"])
    narrow = ListQuery(tag_filters=[("env", ["both"])], project_name="p1")
    for query, roles in ((broad, ["drive"]), (narrow, ["probe"])):
        assert _planned(store, query) == roles
        for order in ORDERS.values():
            paged = replace(query, **order)
            total, page = store.list(DEV.account_id, paged)
            assert (total, [job.id for job in page]) == expected_list(jobs, DEV.account_id, paged)


def test_sizes_choose_the_driver() -> None:
    def sizes(*counts: int, columns: int = 0) -> Any:
        measured: list[tuple[int, int | None]] = []

        def measure(index: int, cap: int | None) -> int:
            measured.append((index, cap))
            count = counts[index]
            return count if cap is None else min(count, cap + 1)

        def measure_columns() -> int:
            measured.append((-1, None))
            return columns

        return measure, measure_columns, measured

    two = ListQuery(tag_filters=[("a", []), ("b", [])], name="n")
    measure, columns, measured = sizes(50_000, 30, 10)
    # The first small one drives; measuring stops there.
    assert plan_roles(two, measure, columns) == ["check", "drive", "check"]
    assert measured == [(0, SMALL_SET), (1, SMALL_SET)]
    # All large, no column filter: the smallest by its exact size.
    measure, columns, measured = sizes(50_000, 9_000, 20_000)
    assert plan_roles(two, measure, columns) == ["check", "drive", "check"]
    assert measured[-3:] == [(0, None), (1, 50_000), (2, 9_000)]  # up to the best so far
    # All large, with column filters: a set with at most 1/COLUMN_RATIO of their matches
    # drives; with none, the columns drive and every set is probed.
    phased = ListQuery(tag_filters=[("a", [])], name="n", phases=["Running"])
    measure, columns, measured = sizes(50_000, 9_000, columns=9_000 * COLUMN_RATIO)
    assert plan_roles(phased, measure, columns) == ["check", "drive"]
    assert measured[2:] == [(-1, None), (0, 9_001), (1, 9_001)]
    measure, columns, _ = sizes(50_000, 9_000, columns=9_000 * COLUMN_RATIO - 1)
    assert plan_roles(phased, measure, columns) == ["probe", "probe"]
    measure, columns, measured = sizes(50_000, 9_000, columns=SMALL_SET * COLUMN_RATIO)
    assert plan_roles(phased, measure, columns) == ["probe", "probe"]
    assert measured[-1] == (-1, None)  # no set can be that small: not measured again
    measure, columns, _ = sizes(SMALL_SET, 9_000)
    assert plan_roles(phased, measure, columns) == ["drive", "check"]


def test_the_plans_read_the_indexes_they_are_meant_to(stored: tuple[JobStore, list[Job]]) -> None:
    store, _ = stored
    conn = store._conn

    def plan(sql: str, params: list[Any]) -> str:
        return str(conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())

    base = name_base(1)
    query = ListQuery(tag_filters=[("era", ["old"])], phases=["Running"])
    where, params = where_clause("A", query, roles=["probe"])
    page = f"SELECT id FROM jobs WHERE {where} ORDER BY create_time DESC, id DESC LIMIT 10"
    chosen = plan(page, params)
    # The phase index drives, in order; the tag set is built once to be probed.
    assert "jobs_by_account_phase_created" in chosen
    assert "LIST SUBQUERY" in chosen
    assert "TEMP B-TREE" not in chosen
    # Only Name and TagFilters: counted from their indexes, never the jobs table.
    both = ListQuery(tag_filters=[("all", [])], name="weekly")
    cases: list[tuple[list[Role], str]] = [
        (["drive", "check"], "job_name_text USING INTEGER PRIMARY KEY (rowid=?)"),
        (["check", "drive"], "COVERING INDEX job_tags_by_job"),
    ]
    for roles, check in cases:
        counted = count_from_sets("A", both, roles, base=base)
        assert counted is not None
        assert " jobs " not in f"{counted[0]} "
        assert check in plan(*counted)
    assert count_from_sets("A", query, ["drive"]) is None  # a column filter: the jobs table
