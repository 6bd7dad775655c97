"""The JobStore: its API, the stored job document, migrations of older data dirs."""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from emulator_support import (
    CREATE,
    DEV,
    DEV_CREDENTIALS,
    GET,
    JOB_BASE_TIME,
    LIST,
    OTHER,
    VERSION,
    call,
    create_body,
    error_code,
    expected_list,
    input_at,
    make_job,
    result,
    spec_as_version,
)
from starlette.applications import Starlette

from ark_batch.connect import make_client
from ark_batch.emulator import EmulatorConfig, create_app
from ark_batch.emulator.backend import Backend
from ark_batch.emulator.cli import main as cli_main
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.emulator.list_query import (
    DENSE_WINDOW,
    NAME_ROWID_BITS,
    count_from_sets,
    name_base,
    where_clause,
)
from ark_batch.emulator.migrations import (
    LATEST,
    MIGRATIONS,
    SchemaTooNewError,
    migrate,
    register_functions,
    schema_version,
)
from ark_batch.emulator.shapes import VersionShapes
from ark_batch.emulator.store import (
    DuplicateActiveJobError,
    DuplicateJobIdError,
    JobStore,
    ListQuery,
    format_time,
)
from ark_batch.spec import load_spec, spec_dir
from ark_batch_client.api.batch_inference_job import get_batch_inference_job
from ark_batch_client.models import GetBatchInferenceJobRequest

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
    duplicate = make_job(2, phase="Running", input_key="in/1.jsonl")
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
    clone = make_job(2, phase="Queued", input_key="in/1.jsonl")
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


# --- the job document: whatever the Version's job schema holds -----------------------


NEWER = "2099-01-01"


def _spec_with_priority() -> dict[str, Any]:
    """The spec plus an optional Priority on Create and on the job, and a Paused phase."""
    document = spec_as_version(NEWER)
    schemas = document["components"]["schemas"]
    priority = {"type": "integer", "minimum": 0, "maximum": 9}
    schemas["CreateBatchInferenceJobRequest"]["properties"]["Priority"] = priority
    schemas["BatchInferenceJob"]["properties"]["Priority"] = priority
    schemas["JobPhase"]["enum"].append("Paused")
    return document


@pytest.fixture
def newer_version_app(tmp_path: Path, emulator_config: EmulatorConfig) -> Iterator[Starlette]:
    """An emulator serving the shipped spec/ and, from its own directory, a newer Version."""
    versions = tmp_path / "versions"
    versions.mkdir()
    document = yaml.safe_dump(_spec_with_priority(), allow_unicode=True, sort_keys=False)
    (versions / f"openapi-{NEWER}.yaml").write_text(document, encoding="utf-8")
    app = create_app(replace(emulator_config, spec_dirs=(spec_dir(), versions)))
    yield app
    app.state.emulator.close()


async def test_a_field_the_spec_adds_is_stored_and_returned(newer_version_app: Starlette) -> None:
    store: JobStore = newer_version_app.state.emulator.store
    transport = httpx.ASGITransport(app=newer_version_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.local") as http:
        body = {**create_body(), "Priority": 7}
        refused = await call(http, CREATE, body, version=VERSION)  # not a field of VERSION
        assert error_code(refused) == "InvalidParameter"
        job_id = result(await call(http, CREATE, body, version=NEWER))["Id"]

        stored = store.get_any(job_id)
        assert stored is not None
        assert stored.document["Priority"] == 7
        assert "DryRun" not in stored.document  # request-only: not in the job schema
        got = await call(http, GET, {"Id": job_id}, version=NEWER)
        assert result(got)["Priority"] == 7
        assert got.json()["ResponseMetadata"]["Version"] == NEWER
        listed = result(await call(http, LIST, {}, version=NEWER))
        assert listed["Items"][0]["Priority"] == 7
        # The older Version answers in its own shape: the same job, without Priority.
        old = result(await call(http, GET, {"Id": job_id}, version=VERSION))
        assert old["Id"] == job_id
        assert "Priority" not in old
        assert "Priority" not in result(await call(http, LIST, {}, version=VERSION))["Items"][0]
        # A job created on the older Version has no Priority on the newer one either.
        older = create_body(InputFileTosLocation=input_at("in/older.jsonl"))
        older_id = result(await call(http, CREATE, older, version=VERSION))["Id"]
        assert "Priority" not in result(await call(http, GET, {"Id": older_id}, version=NEWER))

        # A phase only the newer Version knows is stored, filtered on and returned.
        assert store.transition(job_id, "Paused", "paused by the owner", NOW)
        paused = await call(http, LIST, {"Filter": {"Phases": ["Paused"]}}, version=NEWER)
        assert [item["Status"]["Phase"] for item in result(paused)["Items"]] == ["Paused"]


def test_request_defaults_come_from_the_spec(tmp_path: Path) -> None:
    document = _spec_with_priority()
    create = document["components"]["schemas"]["CreateBatchInferenceJobRequest"]["properties"]
    create["CompletionWindow"]["default"] = "3d"
    create["Priority"]["default"] = 4
    shapes = VersionShapes(document)
    backend = Backend(JobStore.open(tmp_path, lambda: NOW), lambda: NOW, shapes)
    job_id = backend.create(DEV, create_body())["Id"]
    job = backend.get(DEV, {"Id": job_id})
    assert (job["CompletionWindow"], job["Priority"]) == ("3d", 4)
    assert job["ExpireTime"] == format_time(NOW + timedelta(days=3))
    assert job["ProjectName"] == "default"  # stated in prose only: decision 0015


def test_answers_are_projected_onto_the_version_shapes() -> None:
    shapes = VersionShapes(load_spec())
    job = make_job(1, extra={"Priority": 3}).document
    shaped = shapes.shape_result(
        "GetBatchInferenceJob", {**job, "Status": {**job["Status"], "X": 1}}
    )
    assert "Priority" not in shaped
    assert "X" not in shaped["Status"]
    assert shaped == {key: value for key, value in job.items() if key != "Priority"}
    listed = shapes.shape_result(
        "ListBatchInferenceJobs", {"TotalCount": 1, "PageNumber": 1, "PageSize": 10, "Items": [job]}
    )
    assert "Priority" not in listed["Items"][0]
    assert listed["Items"][0]["Tags"] == job["Tags"]


# --- migrations ------------------------------------------------------------------------

RELEASE_1 = Path(__file__).parents[1] / "fixtures" / "emulator-data-5471ba4"


def _release_1_copy(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(RELEASE_1, data_dir)
    return data_dir


def test_a_data_dir_of_the_first_release_opens_and_serves_its_jobs(tmp_path: Path) -> None:
    data_dir = _release_1_copy(tmp_path)
    expected = json.loads((data_dir / "expected-jobs.json").read_text(encoding="utf-8"))
    store = JobStore.open(data_dir, lambda: NOW)
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    backend = Backend(store, lambda: NOW)
    shapes = VersionShapes(load_spec())
    for job_id, entry in expected.items():
        owner = DEV if entry["AccountId"] == DEV.account_id else OTHER
        got = backend.handle("GetBatchInferenceJob", shapes, owner, {"Id": job_id})
        assert got == entry["Job"]
        assert json.dumps(got) == json.dumps(entry["Job"])  # the same member order, too
    # Every job's name is indexed in its account's range.
    names = store._conn.execute(
        "SELECT count(*) FROM jobs JOIN accounts USING (account_id) "
        "JOIN job_names ON job_names.rowid = (accounts.ordinal << ?) + jobs.seq",
        (NAME_ROWID_BITS,),
    ).fetchone()[0]
    assert (
        names
        == store.count()
        == store._conn.execute("SELECT count(*) FROM job_names").fetchone()[0]
    )
    assert_name_index_matches_its_names(store)
    # Every List filter works on the migrated jobs.
    total, jobs = store.list(DEV.account_id, ListQuery(name="überprüfung"))
    assert [job.name for job in jobs] == ["Überprüfung"]
    total, jobs = store.list(DEV.account_id, ListQuery(tag_filters=[("team", ["eval"])]))
    assert [job.name for job in jobs] == ["Nightly EVAL"]
    total, _ = store.list(DEV.account_id, ListQuery(tag_filters=[("env", [""])]))
    assert total == 1
    total, _ = store.list(DEV.account_id, ListQuery(phases=["Queued", "Running"]))
    assert total == 2
    # The idempotency rule holds for the migrated active jobs.
    running = store.jobs_in_phase("Running")[0]
    with pytest.raises(DuplicateActiveJobError):
        store.create(
            make_job(9, phase="Queued", input_key=running.input_key, input_bucket="my-bucket")
        )
    store.close()


def test_a_migrated_data_dir_serves_its_jobs_over_http(tmp_path: Path) -> None:
    data_dir = _release_1_copy(tmp_path)
    expected = json.loads((data_dir / "expected-jobs.json").read_text(encoding="utf-8"))
    job_id, entry = next(iter(expected.items()))
    with EmbeddedEmulator(EmulatorConfig(data_dir=data_dir, accounts=(DEV, OTHER))) as emulator:
        client = make_client(emulator.url, credentials=DEV_CREDENTIALS)
        response = get_batch_inference_job.sync_detailed(
            client=client, body=GetBatchInferenceJobRequest(id=job_id)
        )
    assert response.status_code == 200
    assert json.loads(response.content)["Result"] == entry["Job"]


def test_migrations_run_once_and_a_newer_schema_is_refused(tmp_path: Path) -> None:
    data_dir = _release_1_copy(tmp_path)
    path = data_dir / "jobs.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    register_functions(conn)
    assert schema_version(conn) == 1
    assert migrate(conn, path.name) == 1
    assert migrate(conn, path.name) == LATEST  # nothing left to do
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    with pytest.raises(
        SchemaTooNewError, match=rf"jobs.sqlite3 has schema version {LATEST + 1}"
    ) as info:
        JobStore.open(data_dir, lambda: NOW)
    assert str(tmp_path) not in str(info.value)


def test_schema_5_indexes_the_whole_of_a_name_with_a_nul(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    register_functions(conn)
    for step in MIGRATIONS[:4]:
        step(conn)
    conn.execute("PRAGMA user_version = 4")
    job = make_job(1, name="A\x00bcd")
    conn.execute(
        "INSERT INTO jobs (id, account_id, user_name, document) VALUES (?, ?, ?, ?)",
        (job.id, job.account_id, job.user_name, json.dumps(job.document)),
    )
    # Schema 4 read the name with json_extract, which ends it at the NUL.
    assert conn.execute("SELECT name FROM job_name_text").fetchall() == [("a",)]
    conn.close()
    store = JobStore.open(tmp_path, lambda: NOW)
    try:
        for needle in ("bcd", "a\x00b", "\x00", "a"):
            assert store.list(job.account_id, ListQuery(name=needle))[0] == 1, needle
        assert store.list(job.account_id, ListQuery(name="\ufffd"))[0] == 0
    finally:
        store.close()


def test_a_failed_migration_leaves_the_old_schema(tmp_path: Path) -> None:
    data_dir = _release_1_copy(tmp_path)
    path = data_dir / "jobs.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    # Without the case-folding function the name index cannot be built: step 2 fails.
    with pytest.raises(sqlite3.OperationalError, match="ark_casefold"):
        migrate(conn, path.name)
    assert schema_version(conn) == 1
    columns = [row[1] for row in conn.execute("PRAGMA table_info(jobs)")]
    assert "document" not in columns
    assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 5
    conn.close()
    assert JobStore.open(data_dir, lambda: NOW).count() == 5


def test_fresh_and_migrated_schemas_are_the_same(tmp_path: Path) -> None:
    fresh = JobStore.open(tmp_path / "fresh", lambda: NOW)
    migrated = JobStore.open(_release_1_copy(tmp_path), lambda: NOW)

    def schema(store: JobStore) -> list[tuple[str, str]]:
        return sorted(
            (str(name), str(sql))
            for name, sql in store._conn.execute(
                "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL"
            )
        )

    assert schema(fresh) == schema(migrated)


def test_tag_and_name_indexes_follow_updates_and_deletes(store: JobStore) -> None:
    store.create(make_job(1, name="first name", tags=[("team", "a")]))
    assert store.list("2100000000", ListQuery(tag_filters=[("team", ["a"])]))[0] == 1
    store.update_job("bi-job-0001", name="Renamed JOB", tags=[("team", "b")])
    assert store.list("2100000000", ListQuery(tag_filters=[("team", ["a"])]))[0] == 0
    assert store.list("2100000000", ListQuery(tag_filters=[("team", ["b"])]))[0] == 1
    assert store.list("2100000000", ListQuery(name="first"))[0] == 0
    assert store.list("2100000000", ListQuery(name="renamed job"))[0] == 1
    assert store.list("2100000000", ListQuery(name="jo"))[0] == 1
    store.clear()
    assert store._conn.execute("SELECT count(*) FROM job_tags").fetchone()[0] == 0
    assert store._conn.execute("SELECT count(*) FROM job_names").fetchone()[0] == 0
    assert_name_index_matches_its_names(store)


def test_lifecycle_writes_change_the_document_and_keep_every_other_field(
    store: JobStore,
) -> None:
    later = NOW + timedelta(minutes=5)
    store.create(make_job(1, phase="Running", tags=[("team", "a")], extra={"Priority": 3}))
    # Conditional: a job no longer in the expected phase is left exactly as it was.
    before = store.get_any("bi-job-0001")
    assert not store.transition_from("bi-job-0001", ["Queued"], "Running", "x", later)
    assert not store.transition_from(
        "bi-job-0001", ["Running"], "Terminating", "x", later, account_id="someone-else"
    )
    assert store.get_any("bi-job-0001") == before

    assert store.transition_from("bi-job-0001", ["Queued", "Running"], "Terminating", "m", later)
    assert store.rename("2100000000", "bi-job-0001", later, name="Renamed", description="d")
    job = store.get_any("bi-job-0001")
    assert job is not None
    assert (job.phase, job.status_message, job.phase_time, job.update_time) == (
        "Terminating",
        "m",
        later,
        later,
    )
    assert (job.name, job.description) == ("Renamed", "d")
    assert job.document["Priority"] == 3  # a field the emulator does not name is kept
    assert store.list("2100000000", ListQuery(phases=["Terminating"], name="renam"))[0] == 1
    assert not store.rename("someone-else", "bi-job-0001", later, name="x")

    # Delete: only in the given phases and of its account; the tag and name rows go too.
    assert not store.delete("2100000000", "bi-job-0001", ["Completed", "Terminated"])
    store.transition("bi-job-0001", "Terminated", "stopped", later)
    assert not store.delete("someone-else", "bi-job-0001", ["Terminated"])
    assert store.delete("2100000000", "bi-job-0001", ["Completed", "Terminated"])
    assert store.get_any("bi-job-0001") is None
    assert store.list("2100000000", ListQuery(tag_filters=[("team", [])]))[0] == 0
    assert store._conn.execute("SELECT count(*) FROM job_names").fetchone()[0] == 0
    assert_name_index_matches_its_names(store)


def test_a_stop_and_the_worker_racing_for_one_job_never_both_move_it(tmp_path: Path) -> None:
    store = JobStore.open(tmp_path, lambda: NOW)
    jobs = [make_job(index, phase="Queued") for index in range(1, 41)]
    store.insert_many(jobs)
    moved: dict[str, list[str]] = {job.id: [] for job in jobs}
    start = threading.Barrier(2)

    def race(phase: str) -> None:
        own = store.open_for_thread()
        start.wait()
        for job in jobs:
            if own.transition_from(job.id, ["Queued"], phase, phase, NOW):
                moved[job.id].append(phase)
        own.close()

    threads = [threading.Thread(target=race, args=(phase,)) for phase in ("Running", "Terminating")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for job in jobs:
        [winner] = moved[job.id]  # exactly one of the two moved it
        stored = store.get_any(job.id)
        assert stored is not None
        assert stored.phase == stored.status_message == winner
    store.close()


def test_list_plans_start_from_the_selective_filter(store: JobStore) -> None:
    def plan(sql: str, *params: object) -> str:
        return str(store._conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())

    assert "jobs_by_account_phase_created" in plan(
        "SELECT id FROM jobs WHERE account_id = ? AND phase IN (?) "
        "ORDER BY create_time DESC, id DESC LIMIT 10",
        "A",
        "Running",
    )
    assert "sqlite_autoindex_jobs_1" in plan(
        "SELECT id FROM jobs WHERE account_id = ? AND id IN (?, ?) ORDER BY create_time DESC",
        "A",
        "x",
        "y",
    )
    assert "job_tags_by_key_value" in plan(
        "SELECT count(*) FROM jobs WHERE account_id = ? AND "
        "seq IN (SELECT job_seq FROM job_tags WHERE key = ? AND value IN (?))",
        "A",
        "team",
        "a",
    )
    # A Name match reads only the account's rowid range of the trigram index (M: match,
    # ><: both rowid bounds), and each match is checked in a narrow index, not the table.
    where, params = where_clause("A", ListQuery(name="nightly"), base=name_base(1))
    driven = plan(f"SELECT count(*) FROM jobs WHERE {where}", *params)
    assert "COVERING INDEX jobs_account_by_seq" in driven
    assert "VIRTUAL TABLE INDEX 0:M1><" in driven
    # A name shorter than a trigram reads only the account's range of the plain names,
    # and a name checked per job reads one plain row.
    where, params = where_clause("A", ListQuery(name="ni"), base=name_base(1))
    assert "SEARCH job_name_text USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan(
        f"SELECT count(*) FROM jobs WHERE {where}", *params
    )
    query = ListQuery(name="nightly", tag_filters=[("team", ["a"])])
    where, params = where_clause("A", query, base=name_base(1))
    assert "SEARCH job_name_text USING INTEGER PRIMARY KEY (rowid=?)" in plan(
        f"SELECT count(*) FROM jobs WHERE {where}", *params
    )
    counted = count_from_sets("A", ListQuery(name="nightly"), ["drive"], base=name_base(1))
    count_sql, count_params = counted or ("", [])
    assert "VIRTUAL TABLE INDEX 0:M1><" in plan(count_sql, *count_params)
    assert "jobs" not in count_sql  # no join back to the jobs table


def test_a_tag_filter_counts_each_job_once_and_only_the_account(store: JobStore) -> None:
    store.insert_many(
        [
            make_job(1, tags=[("team", "a"), ("team", "b")]),
            make_job(2, tags=[("team", "a")]),
            make_job(3, account="2100000001", tags=[("team", "a")]),
        ]
    )
    for values in ([], ["a"], ["a", "b"]):
        total, jobs = store.list("2100000000", ListQuery(tag_filters=[("team", values)]))
        assert total == len(jobs) == 2, values
    total, jobs = store.list("2100000000", ListQuery(tag_filters=[("team", ["b"])]))
    assert (total, [job.id for job in jobs]) == (1, ["bi-job-0001"])


NAME_QUERIES = [
    ListQuery(name="Nightly"),  # trigram match, counted from the name index alone
    ListQuery(name="ni"),  # shorter than a trigram: the account's names read in turn
    ListQuery(name="nightly", phases=["Completed"]),  # the name match drives, phase checked
    ListQuery(name="nightly", tag_filters=[("team", ["x"])]),  # checked per tagged job
    ListQuery(name="eval 17"),  # a rare name
]


@pytest.mark.parametrize("query", NAME_QUERIES, ids=lambda query: repr(query.name))
def test_a_name_filter_counts_and_lists_only_the_account(store: JobStore, query: ListQuery) -> None:
    # The same names in two accounts, over 1,000 matches each (the dense ordered scan
    # too), with phases and tags that the other filters tell apart.
    stored = [
        (
            index,
            OTHER.account_id if index % 2 else DEV.account_id,
            "Failed" if index % 3 == 0 else "Completed",
            "y" if index % 5 == 0 else "x",
        )
        for index in range(1, 3001)
    ]
    store.insert_many(
        [
            make_job(
                index,
                account=account,
                phase=phase,
                name=f"Nightly EVAL {index}",
                tags=[("team", team)],
            )
            for index, account, phase, team in stored
        ]
    )
    assert query.name is not None
    needle = query.name.casefold()
    teams = {value for _, values in query.tag_filters for value in values}
    for account in (DEV.account_id, OTHER.account_id):
        own = {
            f"bi-job-{index:04d}"
            for index, owner, phase, team in stored
            if owner == account
            and needle in f"nightly eval {index}"
            and (not query.phases or phase in query.phases)
            and (not teams or team in teams)
        }
        total, page = store.list(account, query)
        assert total == len(own)
        assert page
        assert {job.id for job in page} <= own
    assert store.list("2100000099", query) == (0, [])


CLUSTERED_QUERIES = [
    ListQuery(name="legacy"),
    ListQuery(tag_filters=[("era", ["old"])]),
    ListQuery(name="legacy", page_number=7),
    ListQuery(name="legacy", descending=False),
    ListQuery(tag_filters=[("era", [])], sort_by="update_time", page_number=2),
    ListQuery(tag_filters=[("era", ["old"])], sort_by="update_time", descending=False),
    ListQuery(tag_filters=[("era", [])], page_number=205),  # deeper than the window
    ListQuery(name="job"),  # matches every job: the first window holds the page
]


def _describe(query: ListQuery) -> str:
    order = "desc" if query.descending else "asc"
    return f"{query.name or query.tag_filters}-{query.sort_by}-{order}-page{query.page_number}"


@pytest.mark.parametrize("query", CLUSTERED_QUERIES, ids=_describe)
def test_a_dense_page_is_right_when_every_match_is_old(store: JobStore, query: ListQuery) -> None:
    # More than a dense number of matches, nearly all older than more than a window of
    # non-matching jobs: the newest jobs hold a few matches, fewer than a page. Update
    # times run against creation times, so the two orders differ.
    old, new = 1200, DENSE_WINDOW + 500
    last = old + new
    jobs = [
        make_job(
            index,
            name=f"{'legacy' if index <= old or index % 700 == 0 else 'fresh'} job {index}",
            tags=[("era", "old" if index <= old or index % 700 == 0 else "new")],
            updated=JOB_BASE_TIME + timedelta(minutes=2 * (last - index)),
        )
        for index in range(1, last + 1)
    ]
    store.insert_many(jobs)
    expected = expected_list(jobs, DEV.account_id, query)
    total, page = store.list(DEV.account_id, query)
    assert page
    assert (total, [job.id for job in page]) == expected


def test_name_rows_follow_their_account_through_renames_and_deletes(store: JobStore) -> None:
    store.insert_many(
        [
            make_job(1, name="shared name"),
            make_job(2, account=OTHER.account_id, name="shared name", job_id="bi-other-0002"),
        ]
    )
    # Each name's rowid is its account's range plus the job's seq.
    ordinals = dict(store._conn.execute("SELECT account_id, ordinal FROM accounts"))
    expected = {
        (ordinals[account] << NAME_ROWID_BITS) + seq
        for seq, account in store._conn.execute("SELECT seq, account_id FROM jobs")
    }
    rowids = {rowid for (rowid,) in store._conn.execute("SELECT rowid FROM job_names")}
    assert len(ordinals) == 2
    assert rowids == expected
    store.update_job("bi-other-0002", name="renamed")
    assert store.list(DEV.account_id, ListQuery(name="shared"))[0] == 1
    assert store.list(OTHER.account_id, ListQuery(name="shared"))[0] == 0
    assert store.list(OTHER.account_id, ListQuery(name="renamed"))[0] == 1
    assert store.list(DEV.account_id, ListQuery(name="renamed"))[0] == 0
    store.transition("bi-job-0001", "Terminated", "stopped", NOW)
    assert store.delete(DEV.account_id, "bi-job-0001", ["Terminated"])
    assert store.list(DEV.account_id, ListQuery(name="shared"))[0] == 0
    assert store.list(OTHER.account_id, ListQuery(name="renamed"))[0] == 1
    assert store._conn.execute("SELECT count(*) FROM job_names").fetchone()[0] == 1
    assert_name_index_matches_its_names(store)
    # A job with no Name has no name to find, and the index stays whole.
    store.update_job("bi-other-0002", name=None)
    assert store.list(OTHER.account_id, ListQuery(name="renamed"))[0] == 0
    assert store.list(OTHER.account_id, ListQuery())[0] == 1
    assert_name_index_matches_its_names(store)
    # The plain names are the index's content: changing one re-indexes it.
    store._conn.execute("UPDATE job_name_text SET name = 'refolded'")
    assert store.list(OTHER.account_id, ListQuery(name="refolded"))[0] == 1
    assert_name_index_matches_its_names(store)


def assert_name_index_matches_its_names(store: JobStore) -> None:
    """FTS5's own check of the trigram index against its content, the plain name table."""
    store._conn.execute("INSERT INTO job_names (job_names, rank) VALUES ('integrity-check', 1)")


def test_the_cli_names_a_too_new_data_dir_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    JobStore.open(tmp_path, lambda: NOW).close()
    conn = sqlite3.connect(tmp_path / "jobs.sqlite3")
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    assert cli_main(["--data-dir", str(tmp_path), "--port", "0", "--no-execution"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"jobs.sqlite3 has schema version {LATEST + 1}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("a file", "--data-dir: it is not a directory"),
        ("corrupt jobs", "--data-dir: jobs.sqlite3 cannot be opened: file is not a database"),
        (
            "corrupt progress",
            "--data-dir: execution/progress.sqlite3 cannot be opened: file is not a database",
        ),
    ],
)
def test_the_cli_names_an_unusable_data_dir_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, expected: str
) -> None:
    data_dir = tmp_path / "state"
    if case == "a file":
        data_dir.write_text("x")
    else:
        name = "jobs.sqlite3" if case == "corrupt jobs" else "execution/progress.sqlite3"
        (data_dir / name).parent.mkdir(parents=True)
        (data_dir / name).write_bytes(b"not a database, not at all" * 400)
    assert cli_main(["--data-dir", str(data_dir), "--port", "0"]) == 2
    assert capsys.readouterr().err == f"ark-batch-emulator: {expected}\n"


def test_an_answer_without_a_result_schema_is_kept_whole() -> None:
    document = copy.deepcopy(load_spec())
    envelope = document["components"]["schemas"]["GetBatchInferenceJobResponse"]
    del envelope["properties"]["Result"]
    shapes = VersionShapes(document)
    answer = {"Id": "bi-1", "Anything": {"Nested": [1]}}
    assert shapes.shape_result("GetBatchInferenceJob", answer) == answer
    with pytest.raises(KeyError, match="no action 'PauseBatchInferenceJob'"):
        shapes.request_defaults("PauseBatchInferenceJob")


def test_a_name_filter_alone_counts_only_the_account(store: JobStore) -> None:
    store.insert_many(
        [
            make_job(1, name='Nightly "eval" run'),
            make_job(2, name="nightly other"),
            make_job(3, account="2100000001", name="nightly elsewhere"),
            make_job(4, name="weekly"),
        ]
    )
    for name, expected in (("NIGHTLY", 2), ('"eval"', 1), ("ly", 3), ("nope", 0)):
        total, jobs = store.list("2100000000", ListQuery(name=name))
        assert total == len(jobs) == expected, name
    assert store.list("2100000001", ListQuery(name="nightly"))[0] == 1


def test_a_connection_sqlite_opened_read_only_is_replaced_once_it_finds_out(
    store: JobStore, tmp_path: Path
) -> None:
    # SQLite opens a database it cannot write read-only, silently, and it stays so: a
    # thread that first opened it while the data dir was read-only must not answer 503
    # for good. Opening it read-only on purpose stands in for that window.
    from ark_batch.emulator.store import _Connection  # noqa: PLC0415

    store.create(make_job(1))
    readonly = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, factory=_Connection)
    register_functions(readonly)  # as the store's own have
    store._local.conn = readonly
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.create(make_job(2))
    assert readonly.readonly
    store.create(make_job(2))  # a fresh connection
    assert store.count() == 2
    assert store._local.conn is not readonly
    with pytest.raises(sqlite3.ProgrammingError):  # closed, not left open
        readonly.execute("SELECT 1")
