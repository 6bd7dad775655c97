"""Which filter a List starts from (decision 0032), and that every plan answers alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from emulator_support import DEV, JOB_BASE_TIME, OTHER, expected_list, make_job

from ark_batch.emulator.job import Job
from ark_batch.emulator.list_query import (
    SMALL_SET,
    Role,
    count_from_sets,
    name_base,
    needs_plan,
    plan_roles,
    where_clause,
)
from ark_batch.emulator.store import JobStore, ListQuery

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
        f"{'nightly' if index % 3 == 0 else 'weekly'} run {index}",
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


COMBINATIONS = {
    # Only Name and TagFilters, all large: the smallest by exact size drives.
    "every job + weekly": ListQuery(tag_filters=[("all", [])], name="weekly"),
    "old + prod": ListQuery(tag_filters=[("era", ["old"]), ("env", ["prod"])]),
    "three sets": ListQuery(tag_filters=[("all", []), ("era", ["old"])], name="legacy"),
    "prod or both + weekly": ListQuery(tag_filters=[("env", ["prod", "both"])], name="weekly"),
    # One small set: it drives.
    "nightly + every job": ListQuery(tag_filters=[("all", [])], name="Nightly"),
    "rare + weekly": ListQuery(tag_filters=[("rare", [])], name="weekly"),
    "every job + rare": ListQuery(tag_filters=[("all", []), ("rare", ["r"])]),
    # Large sets with a column filter: the column's index drives, the sets are probed.
    "old + Running": ListQuery(tag_filters=[("era", ["old"])], phases=["Running"]),
    "legacy + project": ListQuery(name="legacy", project_name="p1"),
    "every job + model": ListQuery(
        tag_filters=[("all", [])], foundation_models=[("doubao-lite", [])]
    ),
    "old + custom model": ListQuery(tag_filters=[("era", [])], custom_model_ids=["cm-1"]),
    "env + weekly + phases": ListQuery(
        tag_filters=[("env", [])], name="weekly", phases=["Running", "Failed"]
    ),
    # Ids: they drive, everything else is checked.
    "ids + every job": ListQuery(
        ids=["bi-job-0010", "bi-job-0011", "bi-job-4000"], tag_filters=[("all", [])]
    ),
    # Two letters: the plain names.
    "ru + old": ListQuery(tag_filters=[("era", ["old"])], name="ru"),
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
    query = replace(COMBINATIONS[name], **ORDERS[order])
    for account in (DEV.account_id, OTHER.account_id):
        total, page = store.list(account, query)
        assert (total, [job.id for job in page]) == expected_list(jobs, account, query)


def test_the_combinations_reach_every_plan(stored: tuple[JobStore, list[Job]]) -> None:
    store, _ = stored
    seen = set()
    for name, query in COMBINATIONS.items():
        roles = _planned(store, query)
        if query.ids:
            assert not needs_plan(query), name
        seen.add(tuple(sorted(set(roles))))
    assert ("check", "drive") in seen
    assert ("probe",) in seen


def _planned(store: JobStore, query: ListQuery) -> list[str]:
    from ark_batch.emulator.store import _roles  # noqa: PLC0415

    conn = store._conn
    row = conn.execute(
        "SELECT ordinal FROM accounts WHERE account_id = ?", (DEV.account_id,)
    ).fetchone()
    return list(_roles(conn, DEV.account_id, query, name_base(row[0])))


def test_sizes_choose_the_driver() -> None:
    def sizes(*counts: int) -> Any:
        measured: list[tuple[int, int | None]] = []

        def measure(index: int, cap: int | None) -> int:
            measured.append((index, cap))
            count = counts[index]
            return count if cap is None else min(count, cap + 1)

        return measure, measured

    two = ListQuery(tag_filters=[("a", []), ("b", [])], name="n")
    measure, measured = sizes(50_000, 30, 10)
    # The first small one drives; measuring stops there.
    assert plan_roles(two, measure) == ["check", "drive", "check"]
    assert measured == [(0, SMALL_SET), (1, SMALL_SET)]
    # All large, no column filter: the smallest by its exact size.
    measure, measured = sizes(50_000, 9_000, 20_000)
    assert plan_roles(two, measure) == ["check", "drive", "check"]
    assert measured[-3:] == [(0, None), (1, None), (2, None)]
    # All large, with a column filter: the column drives, every set is probed.
    phased = ListQuery(tag_filters=[("a", [])], name="n", phases=["Running"])
    measure, measured = sizes(50_000, 9_000)
    assert plan_roles(phased, measure) == ["probe", "probe"]
    assert all(cap == SMALL_SET for _, cap in measured)
    measure, _ = sizes(SMALL_SET, 9_000)
    assert plan_roles(phased, measure) == ["drive", "check"]


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
