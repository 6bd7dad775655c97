"""make_client builds a signed generated client from arguments or the environment."""

from __future__ import annotations

import httpx
import pytest

from ark_batch.connect import DEFAULT_ENDPOINT, make_client, resolve_endpoint
from ark_batch.credentials import Credentials
from ark_batch.errors import MissingCredentialsError
from ark_batch_client.api.batch_inference_job import get_batch_inference_job
from ark_batch_client.models import GetBatchInferenceJobRequest

ENV = {"VOLCENGINE_ACCESS_KEY": "AKLTENVKEY", "VOLCENGINE_SECRET_KEY": "env-secret"}


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        (None, {}, DEFAULT_ENDPOINT),
        (None, {"ARK_BATCH_ENDPOINT": "http://127.0.0.1:8080/"}, "http://127.0.0.1:8080"),
        ("https://ark.cn-beijing.volcengineapi.com", {"ARK_BATCH_ENDPOINT": "http://x"}, "https://ark.cn-beijing.volcengineapi.com"),
        ("ark.cn-beijing.volcengineapi.com", {}, "https://ark.cn-beijing.volcengineapi.com"),
    ],
)  # fmt: skip
def test_endpoint_precedence(explicit: str | None, environ: dict[str, str], expected: str) -> None:
    assert resolve_endpoint(explicit, environ=environ) == expected


def capture() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            404,
            json={"ResponseMetadata": {"RequestId": "r", "Error": {"Code": "X", "Message": "m"}}},
        )

    return seen, httpx.MockTransport(handler)  # fmt: skip


def test_client_from_environment_signs_with_the_environment_key() -> None:
    seen, transport = capture()
    client = make_client(
        "http://127.0.0.1:9", environ={**ENV, "VOLCENGINE_REGION": "cn-shanghai"},
        httpx_args={"transport": transport},
    )  # fmt: skip
    get_batch_inference_job.sync(client=client, body=GetBatchInferenceJobRequest(id="bi-1"))
    [request] = seen
    assert str(request.url) == "http://127.0.0.1:9/?Action=GetBatchInferenceJob&Version=2024-01-01"
    authorization = request.headers["authorization"]
    assert authorization.startswith("HMAC-SHA256 Credential=AKLTENVKEY/")
    assert "/cn-shanghai/ark/request, SignedHeaders=" in authorization
    assert request.headers["x-content-sha256"]
    assert "env-secret" not in str(request.headers)


async def test_explicit_credentials_sign_async_requests_too() -> None:
    seen, transport = capture()
    client = make_client(
        "http://127.0.0.1:9",
        credentials=Credentials("AKLTEXPLICIT", "s3cret", "TOKEN"),
        environ=ENV,
        httpx_args={"transport": transport},
    )
    await get_batch_inference_job.asyncio(client=client, body=GetBatchInferenceJobRequest(id="x"))
    [request] = seen
    assert request.headers["authorization"].startswith("HMAC-SHA256 Credential=AKLTEXPLICIT/")
    assert request.headers["x-security-token"] == "TOKEN"
    assert "x-security-token" in request.headers["authorization"]


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        make_client("http://127.0.0.1:9", environ={})
    assert "VOLCENGINE_ACCESS_KEY" in str(info.value)


def test_httpx_args_may_carry_headers_which_are_sent_and_signed() -> None:
    seen, transport = capture()
    client = make_client(
        "http://127.0.0.1:9",
        environ=ENV,
        httpx_args={"transport": transport, "headers": {"X-Trace-Id": "t-1"}, "verify": False},
    )
    get_batch_inference_job.sync(client=client, body=GetBatchInferenceJobRequest(id="x"))
    [request] = seen
    assert request.headers["x-trace-id"] == "t-1"
    assert "x-trace-id" in request.headers["authorization"].split("SignedHeaders=")[1]
