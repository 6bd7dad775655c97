"""The bump drill's smoke suite: what a new Version must do with zero edits outside spec/.

``tests/test_bump_drill.py`` runs this file in a subprocess, with the freshly generated
client first on ``PYTHONPATH`` and the drill's facts in ``ARK_BATCH_DRILL`` (JSON: the spec
directory, the old and new Version, and the names of the added request field, job field
and phase). Each check is a plain test function; add more (facade, CLI, emulator storage)
the same way.
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

import ark_batch_client
from ark_batch import _api
from ark_batch.connect import make_client
from ark_batch.emulator import EmulatorConfig
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    list_batch_inference_jobs,
)
from ark_batch_client.models import (
    CreateBatchInferenceJobRequest,
    CreateBatchInferenceJobResponse,
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
