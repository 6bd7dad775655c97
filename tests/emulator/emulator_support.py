"""Shared helpers for emulator tests: credentials, clocks, a server thread, raw calls."""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ark_batch.credentials import Credentials
from ark_batch.emulator import DEV_ACCESS_KEY, DEV_SECRET_KEY, AccountCredential
from ark_batch.signing import format_x_date, sign

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
    moves the server's view of "now" (job times, the X-Date window).
    """

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


VERSION = "2024-01-01"
CREATE = "CreateBatchInferenceJob"
GET = "GetBatchInferenceJob"
LIST = "ListBatchInferenceJobs"


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


def asgi_scope(
    query: str, headers: Mapping[str, str], *, method: str = "POST", path: str = "/"
) -> dict[str, Any]:
    """An HTTP ASGI scope, for driving the app with a hand-written ``receive``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
