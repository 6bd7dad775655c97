"""Helpers for the client and CLI tests: a fake clock, a scripted fake service, jobs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ark_batch.auth import VolcengineAuth
from ark_batch.credentials import Credentials
from ark_batch_client import Client

DEV_ACCESS_KEY = "AKLTARKBATCHEMULATOR000000"
DEV_SECRET_KEY = "ark-batch-emulator-development-secret"
DEV = Credentials(DEV_ACCESS_KEY, DEV_SECRET_KEY)
BASE_URL = "https://ark.test"


class FakeTime:
    """A monotonic clock and wall clock that only move when something sleeps."""

    def __init__(self) -> None:
        self.monotonic = 1000.0
        self.wall = datetime.now(UTC).replace(microsecond=0)
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.monotonic

    def now(self) -> datetime:
        return self.wall

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.monotonic += seconds
        # At least one second of wall time, so each attempt gets a new X-Date.
        self.wall += timedelta(seconds=max(1.0, seconds))

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def job_dict(job_id: str, phase: str = "Queued", **overrides: Any) -> dict[str, Any]:
    """A BatchInferenceJob as the service returns it."""
    job: dict[str, Any] = {
        "Id": job_id,
        "Name": f"job {job_id}",
        "ProjectName": "default",
        "ModelReference": {"FoundationModel": {"Name": "doubao-pro-32k", "ModelVersion": "240615"}},
        "InputFileTosLocation": {"BucketName": "bucket", "ObjectKey": f"in/{job_id}.jsonl"},
        "OutputDirTosLocation": {"BucketName": "bucket", "ObjectKey": "out/"},
        "CompletionWindow": "1d",
        "Status": {"Phase": phase, "PhaseTime": "2024-09-18T11:50:00Z", "Message": ""},
        "RequestCounts": {"Total": 10, "Completed": 0, "Failed": 0},
        "CreateTime": "2024-09-18T11:46:41Z",
        "UpdateTime": "2024-09-18T11:50:00Z",
        "ExpireTime": "2024-09-19T11:46:41Z",
    }
    job.update(overrides)
    return job


def envelope(action: str, result: Any) -> dict[str, Any]:
    return {
        "ResponseMetadata": {
            "RequestId": "20240918194640ECB302768CB287CEDAC6",
            "Action": action,
            "Version": "2024-01-01",
            "Service": "ark",
            "Region": "cn-beijing",
        },
        "Result": result,
    }


def error_envelope(action: str, code: str, message: str, code_n: int | None = None) -> Any:
    error: dict[str, Any] = {"Code": code, "Message": message}
    if code_n is not None:
        error["CodeN"] = code_n
    return {
        "ResponseMetadata": {
            "RequestId": "2024091819464000000000000000ERR001",
            "Action": action,
            "Version": "2024-01-01",
            "Service": "ark",
            "Region": "cn-beijing",
            "Error": error,
        }
    }


Responder = Callable[[httpx.Request], httpx.Response]


class ScriptedService:
    """A MockTransport handler: scripted responses first, then ``default`` per action."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.script: list[Responder] = []
        self.jobs: list[dict[str, Any]] = []
        #: When set, List reports this TotalCount instead of the real one.
        self.reported_total: int | None = None
        #: Page numbers (1-based) answered with no items.
        self.empty_pages: set[int] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)(request)
        action = request.url.params["Action"]
        body = json.loads(request.content)
        if action == "GetBatchInferenceJob":
            for job in self.jobs:
                if job["Id"] == body["Id"]:
                    return httpx.Response(200, json=envelope(action, job))
            return httpx.Response(
                404,
                json=error_envelope(action, "InvalidBatchInferenceJob.NotFound", "no such job"),
            )
        if action == "ListBatchInferenceJobs":
            number, size = body.get("PageNumber", 1), body.get("PageSize", 10)
            items = [] if number in self.empty_pages else self.jobs[(number - 1) * size :][:size]
            total = len(self.jobs) if self.reported_total is None else self.reported_total
            result = {"TotalCount": total, "PageNumber": number, "PageSize": size, "Items": items}
            return httpx.Response(200, json=envelope(action, result))
        job_id = f"bi-20240918194641-{len(self.jobs):05d}"
        self.jobs.append(job_dict(job_id))
        return httpx.Response(200, json=envelope(action, {"Id": job_id}))

    def then(self, responder: Responder) -> ScriptedService:
        self.script.append(responder)
        return self

    def then_error(
        self,
        status: int,
        code: str,
        message: str = "injected",
        headers: dict[str, str] | None = None,
    ) -> ScriptedService:
        def respond(request: httpx.Request) -> httpx.Response:
            action = request.url.params["Action"]
            return httpx.Response(
                status, json=error_envelope(action, code, message), headers=headers
            )

        return self.then(respond)

    def then_ok(self, result: Any) -> ScriptedService:
        """Answer the next request with success and this ``Result``."""

        def respond(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=envelope(request.url.params["Action"], result))

        return self.then(respond)

    def then_raise(self, exc_type: type[httpx.TransportError]) -> ScriptedService:
        def respond(request: httpx.Request) -> httpx.Response:
            raise exc_type("injected", request=request)

        return self.then(respond)


def mock_client(
    service: ScriptedService,
    *,
    clock: Callable[[], datetime] | None = None,
    asynchronous: bool = False,
) -> Client:
    """A generated client signed with DEV, answered by ``service``."""
    auth = VolcengineAuth(DEV, "cn-beijing", clock=clock)
    client = Client(base_url=BASE_URL)
    if asynchronous:
        client.set_async_httpx_client(
            httpx.AsyncClient(base_url=BASE_URL, auth=auth, transport=httpx.MockTransport(service))
        )
    else:
        client.set_httpx_client(
            httpx.Client(base_url=BASE_URL, auth=auth, transport=httpx.MockTransport(service))
        )
    return client
