"""The JobStore API that job execution builds on."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_emulator_list import make_job

from ark_batch.emulator.store import (
    DuplicateActiveJobError,
    DuplicateJobIdError,
    JobStore,
    ListQuery,
)

NOW = datetime(2025, 5, 1, 8, 0, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore.open(tmp_path, lambda: NOW)


def test_schema_creation_is_idempotent(tmp_path: Path) -> None:
    first = JobStore.open(tmp_path, lambda: NOW)
    first.create(make_job(1, phase="Queued"))
    first.close()
    again = JobStore.open(tmp_path, lambda: NOW)
    assert again.count() == 1
    assert again.get_any("bi-job-0001") is not None
    journal = again._conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_get_checks_the_account_get_any_does_not(store: JobStore) -> None:
    store.create(make_job(1, account="A"))
    assert store.get("A", "bi-job-0001") is not None
    assert store.get("B", "bi-job-0001") is None
    job = store.get_any("bi-job-0001")
    assert job is not None
    assert job.account_id == "A"
    assert store.get_any("missing") is None


def test_create_rejects_a_second_active_job_and_a_duplicate_id(store: JobStore) -> None:
    store.create(make_job(1, phase="Queued"))
    duplicate = replace(make_job(2, phase="Running"), input_key="in/1.jsonl")
    with pytest.raises(DuplicateActiveJobError) as info:
        store.create(duplicate)
    assert info.value.job_id == "bi-job-0001"
    with pytest.raises(DuplicateJobIdError):
        store.create(make_job(1, phase="Completed"))


def test_transition_sets_phase_times_and_message(store: JobStore) -> None:
    store.create(make_job(1, phase="Queued"))
    later = NOW + timedelta(minutes=5)
    assert store.transition("bi-job-0001", "Running", "started", later)
    job = store.get_any("bi-job-0001")
    assert job is not None
    assert (job.phase, job.status_message) == ("Running", "started")
    assert job.phase_time == later
    assert job.update_time == later
    assert not store.transition("missing", "Running", "x", later)


def test_transition_back_to_active_respects_the_rule(store: JobStore) -> None:
    store.create(make_job(1, phase="Failed"))
    clone = replace(make_job(2, phase="Queued"), input_key="in/1.jsonl")
    store.create(clone)
    with pytest.raises(DuplicateActiveJobError) as info:
        store.transition("bi-job-0001", "Queued", "resumed", NOW)
    assert info.value.job_id == "bi-job-0002"


def test_update_job_converts_values_and_sets_update_time(store: JobStore) -> None:
    store.create(make_job(1, phase="Running"))
    assert store.update_job(
        "bi-job-0001",
        total=10,
        completed=7,
        failed=1,
        prompt_tokens=100,
        completion_tokens=50,
        total_tokens=150,
        error_bucket="bucket",
        error_key="out/bi-job-0001/error/errors.jsonl",
        tags=[("a", "b")],
    )
    job = store.get_any("bi-job-0001")
    assert job is not None
    assert (job.total, job.completed, job.failed, job.total_tokens) == (10, 7, 1, 150)
    assert job.error_key == "out/bi-job-0001/error/errors.jsonl"
    assert job.tags == (("a", "b"),)
    assert job.update_time == NOW
    explicit = NOW + timedelta(hours=1)
    store.update_job("bi-job-0001", now=explicit, expire_time=explicit)
    job = store.get_any("bi-job-0001")
    assert job is not None
    assert job.update_time == explicit
    assert job.expire_time == explicit
    with pytest.raises(ValueError, match="account_id"):
        store.update_job("bi-job-0001", account_id="other")
    assert not store.update_job("missing", total=1)


def test_queued_jobs_and_jobs_in_phase_span_accounts_oldest_first(store: JobStore) -> None:
    store.insert_many(
        [
            make_job(3, phase="Queued", account="A"),
            make_job(1, phase="Queued", account="B"),
            make_job(2, phase="Running", account="A"),
            make_job(4, phase="Queued", account="A"),
        ]
    )
    assert [job.id for job in store.queued_jobs(2)] == ["bi-job-0001", "bi-job-0003"]
    assert [job.id for job in store.queued_jobs(10)] == [
        "bi-job-0001",
        "bi-job-0003",
        "bi-job-0004",
    ]
    assert [job.id for job in store.jobs_in_phase("Running")] == ["bi-job-0002"]
    assert store.jobs_in_phase("Completed") == []


def test_a_thread_store_sees_and_changes_the_same_jobs(store: JobStore) -> None:
    store.create(make_job(1, phase="Queued"))
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            own = store.open_for_thread()
            [job] = own.queued_jobs(5)
            own.transition(job.id, "Running", "picked up", NOW)
            own.close()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert not errors
    job = store.get_any("bi-job-0001")
    assert job is not None
    assert job.phase == "Running"


def test_list_uses_the_phase_index(store: JobStore) -> None:
    plan = store._conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE account_id = ? AND phase IN (?) "
        "ORDER BY create_time DESC, id DESC LIMIT 10",
        ("A", "Running"),
    ).fetchall()
    assert "jobs_by_account_phase_created" in str(plan)
    total, jobs = store.list("A", ListQuery(phases=["Running"]))
    assert (total, jobs) == (0, [])
