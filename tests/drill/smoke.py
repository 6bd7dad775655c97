"""The bump drill's smoke suite: what a new Version must do with zero edits outside spec/.

``tests/test_bump_drill.py`` runs this file in a subprocess, with the freshly generated
client first on ``PYTHONPATH`` and the drill's facts in ``ARK_BATCH_DRILL`` (JSON: the spec
directory, the old and new Version, and the names of the added request field, job field
and phase). The Create request field is also a member of the new job schema. Each
check is a plain test function over one layer: the generated client, the facade, the
CLI, the emulator's storage and its older Version.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from client.cli_support import run
from emulator_support import put_in_phase

import ark_batch_client
from ark_batch import ArkBatch, _api
from ark_batch.connect import make_client
from ark_batch.emulator import EmulatorConfig
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    get_batch_inference_job,
    list_batch_inference_jobs,
)
from ark_batch_client.models import (
    BatchInferenceJob,
    CreateBatchInferenceJobRequest,
    CreateBatchInferenceJobResponse,
    GetBatchInferenceJobRequest,
    GetBatchInferenceJobResponse,
    ListBatchInferenceJobsRequest,
    ListBatchInferenceJobsResponse,
)

DRILL_ENV = "ARK_BATCH_DRILL"


@dataclass(frozen=True)
class Drill:
    """What the drill changed in its copy of spec/."""

    spec_dir: Path
    old_version: str
    new_version: str
    request_field: str
    job_field: str
    phase: str

    @classmethod
    def from_env(cls) -> Drill:
        facts = json.loads(os.environ[DRILL_ENV])
        return cls(**{**facts, "spec_dir": Path(facts["spec_dir"])})


@pytest.fixture(scope="module")
def drill() -> Drill:
    return Drill.from_env()


@pytest.fixture(scope="module")
def emulator(drill: Drill, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    config = EmulatorConfig(
        data_dir=tmp_path_factory.mktemp("emulator"), spec_dirs=(drill.spec_dir,)
    )
    with EmbeddedEmulator(config) as server:
        yield server


@pytest.fixture
def client(emulator: EmbeddedEmulator) -> ark_batch_client.Client:
    return make_client(emulator.url, credentials=emulator.credentials)


@pytest.fixture
def ark(emulator: EmbeddedEmulator) -> Iterator[ArkBatch]:
    with ArkBatch(emulator.url, credentials=emulator.credentials) as facade:
        yield facade


def attribute(model: type, member: str) -> str:
    """The attribute of a generated ``model`` that holds the JSON ``member``."""
    for field in model.__attrs_attrs__:  # type: ignore[attr-defined]
        if field.name.replace("_", "") == member.lower():
            return str(field.name)
    raise AssertionError(f"{model.__name__} has no typed attribute for {member}")


def stored_value(ark: ArkBatch, job_id: str, member: str) -> Any:
    """``member`` of the job as the facade's Get returns it, as a typed attribute."""
    job = ark.get_job(job_id)
    assert isinstance(job, BatchInferenceJob)
    assert member not in job.additional_properties  # typed, not a leftover
    return getattr(job, attribute(BatchInferenceJob, member))


def cli(emulator: EmbeddedEmulator, *args: str) -> str:
    """``ark-batch ARGS`` in-process against the emulator; its stdout (exit 0)."""
    credentials = emulator.credentials
    env = {
        "ARK_BATCH_ENDPOINT": emulator.url,
        "VOLCENGINE_ACCESS_KEY": credentials.access_key,
        "VOLCENGINE_SECRET_KEY": credentials.secret_key,
    }
    result = run(*args, env=env)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def create_body(bucket_key: str, **extra: Any) -> dict[str, Any]:
    return {
        "Name": "drill",
        "ModelReference": {"FoundationModel": {"Name": "doubao-pro-32k", "ModelVersion": "240615"}},
        "InputFileTosLocation": {"BucketName": "drill-bucket", "ObjectKey": bucket_key},
        "OutputDirTosLocation": {"BucketName": "drill-bucket", "ObjectKey": "out/"},
        **extra,
    }


def raw_call(
    client: ark_batch_client.Client, action: str, version: str, body: Any
) -> httpx.Response:
    """A signed request for any (action, Version), through the generated client's httpx."""
    http = client.get_httpx_client()
    return http.post(f"/?Action={action}&Version={version}", json=body)


def test_the_generated_client_is_built_for_the_new_version(drill: Drill) -> None:
    assert ark_batch_client.API_VERSION == _api.API_VERSION == drill.new_version
    assert drill.phase in _api.PHASES


def test_the_generated_client_sends_the_new_field_and_version(
    drill: Drill, client: ark_batch_client.Client
) -> None:
    body = CreateBatchInferenceJobRequest.from_dict(
        create_body("in/sent.jsonl", **{drill.request_field: 5})
    )
    kwargs = create_batch_inference_job._get_kwargs(None, body=body)
    assert kwargs["json"][drill.request_field] == 5
    assert kwargs["params"]["Version"] == drill.new_version
    created = create_batch_inference_job.sync(client=client, body=body)
    assert isinstance(created, CreateBatchInferenceJobResponse), created
    assert created.response_metadata.version == drill.new_version


def test_the_emulator_accepts_the_new_phase_in_a_filter(
    drill: Drill, client: ark_batch_client.Client
) -> None:
    body = ListBatchInferenceJobsRequest.from_dict({"Filter": {"Phases": [drill.phase]}})
    page = list_batch_inference_jobs.sync(client=client, body=body)
    assert isinstance(page, ListBatchInferenceJobsResponse), page


def test_the_old_version_is_still_served_by_its_own_document(
    drill: Drill, client: ark_batch_client.Client
) -> None:
    old = drill.old_version
    created = raw_call(client, "CreateBatchInferenceJob", old, create_body("in/old.jsonl"))
    assert created.status_code == 200, created.text
    assert created.json()["ResponseMetadata"]["Version"] == old
    job_id = created.json()["Result"]["Id"]
    got = raw_call(client, "GetBatchInferenceJob", old, {"Id": job_id})
    assert got.status_code == 200, got.text
    # The old document knows neither the new field nor the new phase.
    body = create_body("in/old-2.jsonl", **{drill.request_field: 5})
    refused = raw_call(client, "CreateBatchInferenceJob", old, body)
    assert refused.status_code == 400, refused.text
    assert drill.request_field in refused.json()["ResponseMetadata"]["Error"]["Message"]
    listed = raw_call(client, "ListBatchInferenceJobs", old, {"Filter": {"Phases": [drill.phase]}})
    assert listed.status_code == 400, listed.text


def test_the_job_model_has_the_new_field_typed(drill: Drill) -> None:
    from ark_batch_client.models import BatchInferenceJob  # noqa: PLC0415

    fields = {a.name: a for a in BatchInferenceJob.__attrs_attrs__}
    assert any(name.replace("_", "") == drill.job_field.lower() for name in fields)


def test_the_facade_sends_the_new_field_of_a_generated_request(drill: Drill, ark: ArkBatch) -> None:
    request = CreateBatchInferenceJobRequest.from_dict(
        create_body("in/facade-model.jsonl", **{drill.request_field: 3})
    )
    assert getattr(request, attribute(CreateBatchInferenceJobRequest, drill.request_field)) == 3
    job_id = ark.create_job(request).id
    assert stored_value(ark, job_id, drill.request_field) == 3


def test_the_facade_sends_the_new_field_through_extra_body(drill: Drill, ark: ArkBatch) -> None:
    job_id = ark.create_job(
        name="drill",
        model="doubao-pro-32k:240615",
        input="drill-bucket/in/facade-extra.jsonl",
        output="drill-bucket/out/",
        extra_body={drill.request_field: 4},
    ).id
    assert stored_value(ark, job_id, drill.request_field) == 4


def test_the_generated_get_returns_the_stored_field_typed(
    drill: Drill, client: ark_batch_client.Client
) -> None:
    body = CreateBatchInferenceJobRequest.from_dict(
        create_body("in/generated-get.jsonl", **{drill.request_field: 6})
    )
    created = create_batch_inference_job.sync(client=client, body=body)
    assert isinstance(created, CreateBatchInferenceJobResponse), created
    got = get_batch_inference_job.sync(
        client=client, body=GetBatchInferenceJobRequest(id=created.result.id)
    )
    assert isinstance(got, GetBatchInferenceJobResponse), got
    assert getattr(got.result, attribute(BatchInferenceJob, drill.request_field)) == 6


def test_the_cli_sets_the_new_field_through_input_json(
    drill: Drill, emulator: EmbeddedEmulator, ark: ArkBatch, tmp_path: Path
) -> None:
    request = tmp_path / "create.json"
    request.write_text(
        json.dumps(create_body("in/cli-input-json.jsonl", **{drill.request_field: 8})),
        encoding="utf-8",
    )
    job_id = cli(emulator, "create", "--input-json", str(request)).strip()
    assert stored_value(ark, job_id, drill.request_field) == 8
    shown = json.loads(cli(emulator, "get", job_id, "--json"))
    assert shown[drill.request_field] == 8


def test_the_cli_sets_the_new_field_through_set(
    drill: Drill, emulator: EmbeddedEmulator, ark: ArkBatch
) -> None:
    job_id = cli(
        emulator,
        "create",
        "--name",
        "drill",
        "--model",
        "doubao-pro-32k:240615",
        "--input",
        "tos://drill-bucket/in/cli-set.jsonl",
        "--output",
        "tos://drill-bucket/out/",
        "--set",
        f"{drill.request_field}:=9",
    ).strip()
    assert stored_value(ark, job_id, drill.request_field) == 9


def test_list_filters_by_the_new_phase(
    drill: Drill, emulator: EmbeddedEmulator, ark: ArkBatch, client: ark_batch_client.Client
) -> None:
    job_id = ark.create_job(
        name="drill", model="doubao-pro-32k:240615", input="drill-bucket/in/phase.jsonl",
        output="drill-bucket/out/",
    ).id  # fmt: skip
    put_in_phase(emulator.state, job_id, drill.phase)

    items = ark.list_jobs(phases=[drill.phase]).items or []
    assert [(job.id, job.status.phase) for job in items] == [(job_id, drill.phase)]
    body = ListBatchInferenceJobsRequest.from_dict({"Filter": {"Phases": [drill.phase]}})
    generated = list_batch_inference_jobs.sync(client=client, body=body)
    assert isinstance(generated, ListBatchInferenceJobsResponse), generated
    assert [job.id for job in generated.result.items or ()] == [job_id]
    listed = cli(emulator, "list", "--phase", drill.phase.lower(), "--json")
    assert job_id in listed


def test_the_old_version_answers_in_its_own_shape(
    drill: Drill, ark: ArkBatch, client: ark_batch_client.Client
) -> None:
    request = CreateBatchInferenceJobRequest.from_dict(
        create_body("in/old-shape.jsonl", **{drill.request_field: 2})
    )
    job_id = ark.create_job(request).id
    new = raw_call(client, "GetBatchInferenceJob", drill.new_version, {"Id": job_id})
    old = raw_call(client, "GetBatchInferenceJob", drill.old_version, {"Id": job_id})
    assert new.status_code == old.status_code == 200, (new.text, old.text)
    assert new.json()["Result"][drill.request_field] == 2
    assert drill.request_field not in old.json()["Result"]
    assert old.json()["ResponseMetadata"]["Version"] == drill.old_version
