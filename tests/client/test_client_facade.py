"""The ArkBatch/AsyncArkBatch facade against the emulator, and the generated client beside it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from ark_batch import ArkBatch, AsyncArkBatch, Credentials, errors, list_request
from ark_batch.errors import (
    ActiveJobExistsError,
    AuthenticationError,
    ConnectError,
    InvalidParameterError,
    NotFoundError,
)
from ark_batch.retries import NO_RETRY
from ark_batch_client.api.batch_inference_job import get_batch_inference_job
from ark_batch_client.models import (
    CreateBatchInferenceJobRequest,
    GetBatchInferenceJobRequest,
    GetBatchInferenceJobResponse,
    ListBatchInferenceJobsRequest,
)
from client.client_support import (
    DEV,
    ScriptedService,
    mock_client,
    stock_sync_transport,
    write_self_signed_certificate,
)

FIELDS: dict[str, Any] = {
    "name": "nightly-eval",
    "model": "doubao-pro-32k",
    "model_version": "240615",
    "input": "tos://my-bucket/in/job.jsonl",
    "output": "my-bucket/out/",
}


def test_create_get_list_round_trip(ark: ArkBatch) -> None:
    created = ark.create_job(
        **FIELDS, description="d", project_name="proj", completion_window="2d", tags={"k": "v"}
    )
    job = ark.get_job(created.id)
    assert job.id == created.id
    assert job.name == "nightly-eval"
    assert job.project_name == "proj"
    assert job.completion_window == "2d"
    assert job.status.phase == "Queued"
    assert job.input_file_tos_location.object_key == "in/job.jsonl"
    assert {(t.key, t.value) for t in job.tags or []} >= {("k", "v")}
    page = ark.list_jobs(project_name="proj", phases=["Queued"], page_size=5)
    assert page.total_count == 1
    assert [j.id for j in page.items or []] == [created.id]
    assert ark.list_jobs(name="NIGHTLY").total_count == 1
    assert ark.list_jobs(ids=["bi-none"]).total_count == 0
    assert ark.list_jobs(foundation_models={"doubao-pro-32k": ["240615"]}).total_count == 1


def test_generated_request_models_are_accepted(ark: ArkBatch) -> None:
    request = CreateBatchInferenceJobRequest.from_dict(
        {
            "Name": "from-model",
            "ModelReference": {"CustomModelId": "cm-1"},
            "InputFileTosLocation": {"BucketName": "my-bucket", "ObjectKey": "in/m.jsonl"},
            "OutputDirTosLocation": {"BucketName": "my-bucket", "ObjectKey": "out/"},
        }
    )
    created = ark.create_job(request)
    page = ark.list_jobs(ListBatchInferenceJobsRequest(page_size=1))
    assert [j.id for j in page.items or []] == [created.id]
    with pytest.raises(TypeError, match="either"):
        ark.create_job(request, name="both")


def test_active_job_exists_returns_the_running_job(ark: ArkBatch) -> None:
    first = ark.create_job(**FIELDS)
    again = ark.create_job(**{**FIELDS, "name": "another name, same input"})
    assert again.id == first.id
    with pytest.raises(ActiveJobExistsError) as caught:
        ark.create_job(**FIELDS, on_active_job="raise")
    assert caught.value.job_id == first.id
    assert caught.value.status == 409
    assert ark.list_jobs().total_count == 1


def test_validate_job_returns_on_a_passing_dry_run(ark: ArkBatch) -> None:
    ark.validate_job(**FIELDS)
    assert ark.list_jobs().total_count == 0
    with pytest.raises(InvalidParameterError) as caught:
        ark.validate_job(**{**FIELDS, "completion_window": "99d"})
    assert caught.value.status == 400
    assert "CompletionWindow" in caught.value.message


def test_documented_errors_from_the_emulator_carry_every_field(ark: ArkBatch) -> None:
    with pytest.raises(NotFoundError) as caught:
        ark.get_job("bi-20240101000000-nope1")
    error = caught.value
    assert error.status == 404
    assert error.code == "InvalidBatchInferenceJob.NotFound"
    assert error.action == "GetBatchInferenceJob"
    assert error.request_id
    assert len(error.request_id) == 34
    assert error.message


def test_bad_credentials_raise_authentication_error(emulator_url: str) -> None:
    ark = ArkBatch(emulator_url, credentials=Credentials("AKLTWRONG", "nope"))
    with ark, pytest.raises(AuthenticationError) as caught:
        ark.list_jobs()
    assert caught.value.status in (400, 401)


def test_local_argument_errors() -> None:
    with pytest.raises(ValueError, match="version"):
        ArkBatch(client=mock_client(ScriptedService())).create_job(
            **{**FIELDS, "model_version": None}
        )
    with pytest.raises(ValueError, match="bucket/key"):
        ArkBatch(client=mock_client(ScriptedService())).create_job(**{**FIELDS, "input": "nokey"})
    with pytest.raises(TypeError, match="client="):
        ArkBatch("http://x", client=mock_client(ScriptedService()))


def test_create_body_is_compact_json_of_the_fields() -> None:
    service = ScriptedService()
    with ArkBatch(client=mock_client(service)) as ark:
        ark.create_job(**FIELDS, custom_model_id=None, tags={"a": "b"})
    [request] = service.requests
    assert str(request.url) == (
        "https://ark.test/?Action=CreateBatchInferenceJob&Version=2024-01-01"
    )
    assert json.loads(request.content) == {
        "Name": "nightly-eval",
        "ModelReference": {"FoundationModel": {"Name": "doubao-pro-32k", "ModelVersion": "240615"}},
        "InputFileTosLocation": {"BucketName": "my-bucket", "ObjectKey": "in/job.jsonl"},
        "OutputDirTosLocation": {"BucketName": "my-bucket", "ObjectKey": "out/"},
        "Tags": [{"Key": "a", "Value": "b"}],
    }
    assert b" " not in request.content


def test_generated_functions_share_the_facade_client(ark: ArkBatch) -> None:
    created = ark.create_job(**FIELDS)
    response = get_batch_inference_job.sync(
        client=ark.client, body=GetBatchInferenceJobRequest(id=created.id)
    )
    assert isinstance(response, GetBatchInferenceJobResponse)
    assert response.result.id == created.id


def test_facade_over_an_existing_client_does_not_close_it(emulator_url: str) -> None:
    from ark_batch import make_client  # noqa: PLC0415

    client = make_client(emulator_url, credentials=DEV)
    with ArkBatch(client=client) as ark:
        ark.list_jobs()
    assert not client.get_httpx_client().is_closed
    with ArkBatch(emulator_url, credentials=DEV) as owned:
        owned.list_jobs()
    assert owned.client.get_httpx_client().is_closed


def test_per_call_timeout_reaches_the_request() -> None:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ScriptedService()(request)

    client = mock_client(ScriptedService())
    client.get_httpx_client()._transport = httpx.MockTransport(handler)
    with ArkBatch(client=client) as ark:
        ark.list_jobs(timeout=1.5)
        ark.list_jobs()
    assert seen[0] == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}
    assert seen[1]["read"] != 1.5


def test_async_facade_round_trip(emulator_url: str) -> None:
    async def main() -> None:
        async with AsyncArkBatch(emulator_url, credentials=DEV) as ark:
            created = await ark.create_job(**FIELDS)
            assert (await ark.create_job(**FIELDS)).id == created.id
            job = await ark.get_job(created.id)
            assert job.status.phase == "Queued"
            page = await ark.list_jobs(phases=["Queued"])
            assert [j.id for j in page.items or []] == [created.id]
            await ark.validate_job(**{**FIELDS, "input": "my-bucket/in/other.jsonl"})
            with pytest.raises(errors.NotFoundError):
                await ark.get_job("bi-20240101000000-nope1")

    asyncio.run(main())


def test_validate_job_does_not_mutate_the_request() -> None:
    from ark_batch import create_request  # noqa: PLC0415

    service = ScriptedService().then_error(400, "DryRunOperation", "would have succeeded")
    request = create_request(**FIELDS)
    with ArkBatch(client=mock_client(service)) as ark:
        ark.validate_job(request)
    assert json.loads(service.requests[0].content)["DryRun"] is True
    assert "DryRun" not in request.to_dict()


def test_async_facade_runs_on_the_aiohttp_transport_with_the_pool_asked_for(
    emulator_url: str,
) -> None:
    from httpx_aiohttp import AiohttpTransport  # noqa: PLC0415

    ark = AsyncArkBatch(emulator_url, credentials=DEV, max_connections=32)
    transport = ark.client.get_async_httpx_client()._transport
    assert isinstance(transport, AiohttpTransport)
    assert transport.limits.max_connections == 32
    with stock_sync_transport():  # its pool is inspected (tests/test_connect.py: pyreqwest's)
        sync = ark.client.get_httpx_client()._transport._pool  # type: ignore[attr-defined]
    assert sync._max_connections == 32  # one construction path: the same limits
    default = AsyncArkBatch(emulator_url, credentials=DEV)
    transport = default.client.get_async_httpx_client()._transport
    assert isinstance(transport, AiohttpTransport)
    assert transport.limits.max_connections == 100  # httpx's default


def test_async_facade_falls_back_to_the_stock_transport(
    emulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys  # noqa: PLC0415

    monkeypatch.setitem(sys.modules, "httpx_aiohttp", None)  # as if not installed

    async def main() -> tuple[type[object], int]:
        async with AsyncArkBatch(emulator_url, credentials=DEV) as ark:
            created = await ark.create_job(**FIELDS)
            page = await ark.list_jobs(ids=[created.id])
            return type(ark.client.get_async_httpx_client()._transport), page.total_count

    transport_type, total = asyncio.run(main())
    assert transport_type is httpx.AsyncHTTPTransport
    assert total == 1


def test_import_ark_batch_stays_light() -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = (
        "import sys, ark_batch; "
        "print(sorted(m for m in ('httpx', 'attrs', 'typer', 'rich', 'boto3') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_unwrap_raises_typed_errors_for_generated_responses(ark: ArkBatch) -> None:
    created = ark.create_job(**FIELDS)
    response = get_batch_inference_job.sync_detailed(
        client=ark.client, body=GetBatchInferenceJobRequest(id=created.id)
    )
    assert errors.unwrap(response).result.id == created.id
    missing = get_batch_inference_job.sync_detailed(
        client=ark.client, body=GetBatchInferenceJobRequest(id="bi-20240101000000-nope1")
    )
    with pytest.raises(NotFoundError) as caught:
        errors.unwrap(missing)
    assert caught.value.request_id
    assert caught.value.action == "GetBatchInferenceJob"


def test_native_async_backend_maps_transport_errors() -> None:
    import socket  # noqa: PLC0415

    from emulator_support import free_port  # noqa: PLC0415

    async def refused() -> bool:
        async with AsyncArkBatch(
            f"http://127.0.0.1:{free_port()}", credentials=DEV, retry=NO_RETRY
        ) as ark:
            try:
                await ark.get_job("bi-1")
            except errors.ConnectError as exc:
                return exc.sent
        raise AssertionError("expected ConnectError")

    assert asyncio.run(refused()) is False

    # A server that accepts and never answers: a read timeout, after sending.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        async def silent() -> errors.TransportError:
            async with AsyncArkBatch(
                f"http://127.0.0.1:{port}", credentials=DEV, retry=NO_RETRY, timeout=0.2
            ) as ark:
                try:
                    await ark.get_job("bi-1")
                except errors.TransportError as exc:
                    return exc
            raise AssertionError("expected a timeout")

        error = asyncio.run(silent())
    assert isinstance(error, errors.RequestTimeoutError)
    assert error.sent is True


def test_both_clients_speak_tls_with_a_ca_given_as_an_ssl_context(tmp_path: Path) -> None:
    """``httpx_args={"verify": SSLContext}`` reaches the sync and the async client."""
    import ssl  # noqa: PLC0415

    from ark_batch.emulator import EmulatorConfig  # noqa: PLC0415
    from ark_batch.emulator.embedded import EmbeddedEmulator  # noqa: PLC0415

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    write_self_signed_certificate("localhost", cert, key)
    server = EmbeddedEmulator(
        EmulatorConfig(data_dir=tmp_path / "emu"), ssl_certfile=str(cert), ssl_keyfile=str(key)
    )
    context = ssl.create_default_context(cafile=str(cert))
    args = {"verify": context}

    async def main(url: str) -> int:
        async with AsyncArkBatch(url, credentials=DEV, httpx_args=args) as ark:
            created = await ark.create_job(**FIELDS)
            return (await ark.list_jobs(ids=[created.id])).total_count

    with server:
        assert server.url.startswith("https://127.0.0.1:")
        url = server.url.replace("127.0.0.1", "localhost")  # the certificate names localhost
        assert asyncio.run(main(url)) == 1
        with ArkBatch(url, credentials=DEV, httpx_args=args) as ark:
            assert ark.list_jobs().total_count == 1
        with ArkBatch(url, credentials=DEV) as ark, pytest.raises(ConnectError):
            ark.list_jobs()  # not trusted without the CA


def test_a_generated_request_and_keyword_filters_do_not_mix(ark: ArkBatch) -> None:
    # Keyword filters next to a ready request would otherwise be dropped silently.
    with pytest.raises(TypeError, match="either a ListBatchInferenceJobsRequest"):
        ark.list_jobs(list_request(page_size=5), phases=["Running"])
    with pytest.raises(TypeError, match="either a ListBatchInferenceJobsRequest"):
        list(ark.iter_jobs(list_request(), name="nightly"))
    # None means "not given", as for the plain-value form.
    assert ark.list_jobs(list_request(page_size=5), phases=None).page_size == 5
