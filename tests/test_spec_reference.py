"""The spec as a reference: real error examples, request lines and working code samples."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.emulator.protocol import ERRORS
from ark_batch.spec import ACTIONS, API_VERSION, load_spec, operation

DOCS_CONFIG = Path(__file__).parents[1] / "generator" / "redocly-docs.yaml"
SAMPLE_JOB_ID = "bi-20240918194641-r2nwq"
CREATE, GET, LIST = "CreateBatchInferenceJob", "GetBatchInferenceJob", "ListBatchInferenceJobs"


def _response(action: str, status: str) -> dict[str, Any]:
    ref: str = operation(action)["responses"][status]["$ref"]
    response: dict[str, Any] = load_spec()["components"]["responses"][ref.rsplit("/", 1)[-1]]
    return response


def _error_examples(action: str, status: str) -> list[dict[str, Any]]:
    media = _response(action, status)["content"]["application/json"]
    return [
        example["value"]["ResponseMetadata"]["Error"]
        for example in media.get("examples", {}).values()
    ]


def _names_a_job(action: str) -> bool:
    """Whether ``action``'s request names one job by a required ``Id``."""
    ref: str = operation(action)["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = load_spec()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return "Id" in schema.get("required", [])


def _error_statuses(action: str) -> list[str]:
    return [s for s in operation(action)["responses"] if s[0] in "45"]


@pytest.mark.parametrize("action", ACTIONS)
def test_every_documented_error_status_has_a_real_example(action: str) -> None:
    for status in _error_statuses(action):
        errors = _error_examples(action, status)
        assert errors, f"{action} {status} has no example"
        for error in errors:
            assert error["Code"] != "string"
            assert error["Message"]
            spec = ERRORS.get(error["Code"])
            if spec is not None:
                # The example answers with the status and CodeN the service uses.
                assert spec.status == int(status), (action, status, error)
                assert error.get("CodeN") == spec.code_n, (action, status, error)


@pytest.mark.parametrize("action", ACTIONS)
def test_only_get_documents_a_missing_job(action: str) -> None:
    codes = {error["Code"] for error in _error_examples(action, "404")}
    assert "InvalidActionOrVersion" in codes
    assert ("InvalidBatchInferenceJob.NotFound" in codes) == _names_a_job(action)
    description = _response(action, "404")["description"]
    assert ("does not exist" in description) == _names_a_job(action)


@pytest.mark.parametrize("action", ACTIONS)
def test_each_description_opens_with_the_real_request_line(action: str) -> None:
    first_line = operation(action)["description"].splitlines()[0]
    assert first_line == f"Request line: `POST /?Action={action}&Version={API_VERSION}`"


def _samples(action: str) -> dict[str, str]:
    return {s["label"]: s["source"] for s in operation(action)["x-codeSamples"]}


def test_every_operation_has_a_sample_for_each_configured_language() -> None:
    config = yaml.safe_load(DOCS_CONFIG.read_text(encoding="utf-8"))
    labels = [item["label"] for item in config["openapi"]["codeSamples"]["languages"]]
    assert labels[0] == "Python (ArkBatch)"  # the tab a page opens on
    for action in ACTIONS:
        assert sorted(_samples(action)) == sorted(label for label in labels if label != "Payload")


@contextlib.contextmanager
def _emulator_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedEmulator]:
    """A fresh emulator, and the environment the samples read their endpoint and keys from."""
    with EmbeddedEmulator() as emulator, monkeypatch.context() as env:
        env.setenv("ARK_BATCH_ENDPOINT", emulator.url)
        env.setenv("VOLCENGINE_ACCESS_KEY", emulator.credentials.access_key)
        env.setenv("VOLCENGINE_SECRET_KEY", emulator.credentials.secret_key)
        env.delenv("VOLCENGINE_SESSION_TOKEN", raising=False)
        yield emulator


def _run_python(source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<x-codeSample>", "exec"), {"__name__": "__sample__"})
    return out.getvalue()


def _run_cli(source: str) -> str:
    from typer.testing import CliRunner  # noqa: PLC0415 - the cli extra

    from ark_batch.cli.app import app  # noqa: PLC0415

    argv = shlex.split(source)
    assert argv[0] == "ark-batch"
    result = CliRunner().invoke(app, argv[1:])
    assert result.exit_code == 0, result.output
    return result.output


def _run(label: str, source: str) -> str:
    return _run_cli(source) if label == "CLI" else _run_python(source)


@pytest.mark.parametrize("label", ["Python (ArkBatch)", "Python (generated client)", "CLI"])
def test_each_create_sample_creates_a_job(monkeypatch: pytest.MonkeyPatch, label: str) -> None:
    with _emulator_env(monkeypatch) as emulator:
        output = _run(label, _samples(CREATE)[label])
        (job_id,) = re.findall(r"bi-\d{14}-[a-z0-9]{5}", output)
        assert emulator.state.store.get_any(job_id) is not None


@pytest.mark.parametrize("label", ["Python (ArkBatch)", "Python (generated client)", "CLI"])
def test_each_get_and_list_sample_shows_the_job(
    monkeypatch: pytest.MonkeyPatch, label: str
) -> None:
    with _emulator_env(monkeypatch):
        job_id = _run_python(_samples(CREATE)["Python (ArkBatch)"]).strip()
        get_output = _run(label, _samples(GET)[label].replace(SAMPLE_JOB_ID, job_id))
        assert job_id in get_output
        assert "Queued" in get_output
        assert job_id in _run(label, _samples(LIST)[label])
