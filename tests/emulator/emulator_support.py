"""Test support shared by every test folder: credentials, the clock, stored jobs, polling,
raw signed calls."""

from __future__ import annotations

import copy
import json
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any, TypeVar

import httpx

from ark_batch.credentials import Credentials
from ark_batch.emulator import DEV_ACCESS_KEY, DEV_SECRET_KEY, AccountCredential, EmulatorState
from ark_batch.emulator.backend import new_job
from ark_batch.emulator.store import Job, ListQuery
from ark_batch.signing import format_x_date, sign
from ark_batch.spec import load_spec

DEV = AccountCredential(DEV_ACCESS_KEY, DEV_SECRET_KEY)
OTHER = AccountCredential("AKLTOTHERACCOUNT0000000000", "other-secret", "2100000001", "alice")
STS = AccountCredential(
    "AKTPSTSACCOUNTKEY000000000", "sts-secret", "2100000002", "role", session_token="STSTOKEN1"
)
DEV_CREDENTIALS = Credentials(DEV_ACCESS_KEY, DEV_SECRET_KEY)
OTHER_CREDENTIALS = Credentials(OTHER.access_key, OTHER.secret_key)
STS_CREDENTIALS = Credentials(STS.access_key, STS.secret_key, "STSTOKEN1")


class LiveClock:
    """The wall clock plus an offset tests can move (``advance``).

    Real time, because requests are signed with the wall clock; moving the offset
    moves the server's view of "now" (job times, the X-Date window, CompletionWindow
    deadlines).
    """

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


T = TypeVar("T")


def poll_until(
    probe: Callable[[], T],
    done: Callable[[T], bool] = bool,
    *,
    timeout: float = 30.0,
    interval: float = 0.01,
    describe: Callable[[T], str] = repr,
) -> T:
    """Call ``probe`` until ``done(value)`` holds and return that value.

    Fails with ``describe(last value)`` after ``timeout`` seconds: a bound on waiting
    for a condition, never a measurement.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached in {timeout} s: {describe(value)}")
        time.sleep(interval)


JOB_BASE_TIME = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def make_job(
    index: int,
    *,
    account: str = DEV.account_id,
    phase: str = "Completed",
    project: str = "default",
    name: str | None = None,
    model: tuple[str, str] | None = ("doubao-pro-32k", "240615"),
    custom: str | None = None,
    tags: Iterable[tuple[str, str]] = (),
    created: datetime | None = None,
    updated: datetime | None = None,
    job_id: str | None = None,
    **values: Any,
) -> Job:
    """A stored job as Create makes it (``bi-job-<index>``), then moved to ``phase``.

    ``values`` set further fields by name (``total=3``, ``input_key=...``, see
    ``ark_batch.emulator.store.FIELD_PATHS``); ``extra`` adds document members as they are.
    """
    create_time = created or JOB_BASE_TIME + timedelta(minutes=index)
    extra = values.pop("extra", {})
    reference: dict[str, Any] = (
        {"CustomModelId": custom}
        if custom
        else {"FoundationModel": {"Name": model[0], "ModelVersion": model[1]}}
        if model
        else {}
    )
    body: dict[str, Any] = {
        "Name": name or f"job {index}",
        "ProjectName": project,
        "ModelReference": reference,
        "InputFileTosLocation": {"BucketName": "bucket", "ObjectKey": f"in/{index}.jsonl"},
        "OutputDirTosLocation": {"BucketName": "bucket", "ObjectKey": "out/"},
        "CompletionWindow": "1d",
        "Tags": [{"Key": key, "Value": value} for key, value in tags],
        **extra,
    }
    owner = AccountCredential("AKLTMAKEJOB", "secret", account, "developer")
    job = new_job(
        owner,
        body,
        job_id=job_id or f"bi-job-{index:04d}",
        created=create_time,
        job_fields=frozenset(body) | {"Description"},
    )
    return job.with_values(
        phase=phase, phase_time=create_time, update_time=updated or create_time, **values
    )


def expected_list(jobs: Iterable[Job], account: str, query: ListQuery) -> tuple[int, list[str]]:
    """What a List of ``account``'s ``jobs`` answers, from the API's rules alone:
    ``(total, the page's Ids)``. The store's answer is checked against it.
    """

    def matches(job: Job) -> bool:
        if job.account_id != account:
            return False
        if query.project_name is not None and job.project_name != query.project_name:
            return False
        if query.ids and job.id not in query.ids:
            return False
        if query.custom_model_ids and job.custom_model_id not in query.custom_model_ids:
            return False
        if query.phases and job.phase not in query.phases:
            return False
        if query.foundation_models and not any(
            job.model_name == name and (not versions or job.model_version in versions)
            for name, versions in query.foundation_models
        ):
            return False
        if query.name is not None and query.name.casefold() not in job.name.casefold():
            return False
        return all(
            any(tag == key and (not values or value in values) for tag, value in job.tags)
            for key, values in query.tag_filters
        )

    chosen = [job for job in jobs if matches(job)]
    chosen.sort(key=attrgetter(query.sort_by, "id"), reverse=query.descending)
    start = (query.page_number - 1) * query.page_size
    return len(chosen), [job.id for job in chosen[start : start + query.page_size]]


def put_in_phase(state: EmulatorState, job_id: str, phase: str) -> None:
    """Move a job as the worker would (tests that run without execution)."""
    assert state.store.transition(job_id, phase, f"set to {phase}", state.config.clock())


def free_port() -> int:
    """A TCP port that was free on loopback a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


VERSION = "2024-01-01"
CREATE = "CreateBatchInferenceJob"
GET = "GetBatchInferenceJob"
LIST = "ListBatchInferenceJobs"


def spec_as_version(version: str) -> dict[str, Any]:
    """A copy of the newest shipped spec document under another Version, for callers to
    extend and write into a spec directory of their own."""
    document = copy.deepcopy(load_spec())
    document["info"]["version"] = version
    document["components"]["parameters"]["Version"]["schema"] = {
        "type": "string",
        "const": version,
        "default": version,
    }
    return document


def create_body(**overrides: Any) -> dict[str, Any]:
    """A valid Create body; keyword arguments replace top-level fields (None drops one)."""
    body: dict[str, Any] = {
        "Name": "nightly-eval",
        "ModelReference": {"FoundationModel": {"Name": "doubao-pro-32k", "ModelVersion": "240615"}},
        "InputFileTosLocation": {"BucketName": "my-bucket", "ObjectKey": "in/job.jsonl"},
        "OutputDirTosLocation": {"BucketName": "my-bucket", "ObjectKey": "out/"},
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def input_at(key: str, bucket: str = "my-bucket") -> dict[str, str]:
    return {"BucketName": bucket, "ObjectKey": key}


def signed_headers(
    query: str,
    body: bytes,
    *,
    credentials: Credentials = DEV_CREDENTIALS,
    host: str = "emulator.local",
    x_date: str | None = None,
    extra: Mapping[str, str] | None = None,
    region: str = "cn-beijing",
) -> dict[str, str]:
    """Headers of a correctly signed POST / with ``query`` and ``body``."""
    headers = {"Host": host, "Content-Type": "application/json", **(extra or {})}
    headers.update(
        sign(
            method="POST",
            path="/",
            query=query,
            headers=headers,
            body=body,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            region=region,
            service="ark",
            x_date=x_date or format_x_date(datetime.now(UTC)),
            session_token=credentials.session_token,
        )
    )
    return headers


def query_for(action: str, version: str = VERSION) -> str:
    return f"Action={action}&Version={version}"


async def call(
    client: httpx.AsyncClient,
    action: str,
    body: Any,
    *,
    credentials: Credentials = DEV_CREDENTIALS,
    version: str = VERSION,
) -> httpx.Response:
    """POST a correctly signed request for ``action`` (of ``version``) with a JSON ``body``."""
    raw = json.dumps(body).encode()
    query = query_for(action, version)
    headers = signed_headers(query, raw, credentials=credentials)
    return await client.post(f"/?{query}", content=raw, headers=headers)


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["ResponseMetadata"]["Error"]["Code"]
    return code


def result(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["Result"]


async def create(client: httpx.AsyncClient, **overrides: Any) -> str:
    """Create a job from ``create_body(**overrides)``; its Id."""
    job_id: str = result(await call(client, CREATE, create_body(**overrides)))["Id"]
    return job_id


async def get(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """The job document Get returns."""
    job: dict[str, Any] = result(await call(client, GET, {"Id": job_id}))
    return job


def asgi_scope(
    query: str | bytes,
    headers: Mapping[str, str] | list[tuple[bytes, bytes]],
    *,
    method: str = "POST",
    path: str = "/",
) -> dict[str, Any]:
    """An HTTP ASGI scope, for driving the app with a hand-written ``receive``.

    ``query`` and ``headers`` may also be given raw (bytes, and a list of byte pairs used
    as it is), as a server would pass bytes no client sends.
    """
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        # surrogatepass: a path decoded from arbitrary bytes encodes back to them.
        "raw_path": path.encode("utf-8", "surrogatepass"),
        "query_string": query if isinstance(query, bytes) else query.encode(),
        "headers": (
            [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            if isinstance(headers, Mapping)
            else headers
        ),
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
