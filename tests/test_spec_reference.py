"""The spec as a reference: real error examples, request lines and working code samples."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulator_support import put_in_phase

from ark_batch import make_client
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.emulator.protocol import ERRORS
from ark_batch.spec import ACTIONS, API_VERSION, load_spec, operation

DOCS_CONFIG = Path(__file__).parents[1] / "generator" / "redocly-docs.yaml"
SAMPLE_JOB_ID = "bi-20240918194641-r2nwq"
CREATE, GET, LIST = "CreateBatchInferenceJob", "GetBatchInferenceJob", "ListBatchInferenceJobs"
STOP, RESUME = "StopBatchInferenceJob", "ResumeBatchInferenceJob"
UPDATE, DELETE = "UpdateBatchInferenceJob", "DeleteBatchInferenceJob"
LIFECYCLE = (STOP, RESUME, UPDATE, DELETE)
SAMPLE_LABELS = ["Python (ArkBatch)", "Python (generated client)", "CLI"]
JOB_ID = re.compile(r"bi-\d{14}-[a-z0-9]{5}")


def _response_name(action: str, status: str) -> str:
    ref: str = operation(action)["responses"][status]["$ref"]
    return ref.rsplit("/", 1)[-1]


def _response(action: str, status: str) -> dict[str, Any]:
    name = _response_name(action, status)
    response: dict[str, Any] = load_spec()["components"]["responses"][name]
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
def test_each_action_naming_a_job_documents_a_missing_job(action: str) -> None:
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


@pytest.mark.parametrize("label", SAMPLE_LABELS)
def test_each_create_sample_creates_a_job(monkeypatch: pytest.MonkeyPatch, label: str) -> None:
    with _emulator_env(monkeypatch) as emulator:
        output = _run(label, _samples(CREATE)[label])
        (job_id,) = JOB_ID.findall(output)
        assert emulator.state.store.get_any(job_id) is not None


@pytest.mark.parametrize("label", SAMPLE_LABELS)
def test_each_get_and_list_sample_shows_the_job(
    monkeypatch: pytest.MonkeyPatch, label: str
) -> None:
    with _emulator_env(monkeypatch):
        job_id = _run_python(_samples(CREATE)["Python (ArkBatch)"]).strip()
        get_output = _run(label, _samples(GET)[label].replace(SAMPLE_JOB_ID, job_id))
        assert job_id in get_output
        assert "Queued" in get_output
        assert job_id in _run(label, _samples(LIST)[label])


def _create_job() -> str:
    """A Queued job (execution is off), made by the Create sample."""
    return _run_python(_samples(CREATE)["Python (ArkBatch)"]).strip()


def _phase(emulator: EmbeddedEmulator, job_id: str) -> str | None:
    job = emulator.state.store.get_any(job_id)
    return None if job is None else job.phase


@pytest.mark.parametrize("label", SAMPLE_LABELS)
def test_each_lifecycle_sample_does_what_it_says(
    monkeypatch: pytest.MonkeyPatch, label: str
) -> None:
    with _emulator_env(monkeypatch) as emulator:
        job_id = _create_job()

        def run(action: str) -> str:
            output = _run(label, _samples(action)[label].replace(SAMPLE_JOB_ID, job_id))
            assert job_id in output, (action, output)
            return output

        run(STOP)
        assert _phase(emulator, job_id) == "Terminating"

        run(UPDATE)
        media = operation(UPDATE)["requestBody"]["content"]["application/json"]
        rename = media["examples"]["rename"]["value"]
        job = emulator.state.store.get_any(job_id)
        assert job is not None
        assert (job.name, job.description) == (rename["Name"], rename["Description"])

        put_in_phase(emulator.state, job_id, "Terminated")  # the stop, finished by no worker
        run(RESUME)
        assert _phase(emulator, job_id) == "Queued"

        put_in_phase(emulator.state, job_id, "Terminated")
        run(DELETE)
        assert _phase(emulator, job_id) is None


# ---- the lifecycle actions' error examples, reproduced against the emulator ----

#: Brings a fresh Queued job into a state; returns the body of the failing request.
_Scenario = Callable[[EmbeddedEmulator, str], dict[str, Any]]


def _in_phase(phase: str, **fields: Any) -> _Scenario:
    def scenario(emulator: EmbeddedEmulator, job_id: str) -> dict[str, Any]:
        if phase != "Queued":
            put_in_phase(emulator.state, job_id, phase)
        return {"Id": job_id, **fields}

    return scenario


def _another_active_job(emulator: EmbeddedEmulator, job_id: str) -> dict[str, Any]:
    put_in_phase(emulator.state, job_id, "Terminated")
    _create_job()  # the same project and input file, Queued
    return {"Id": job_id}


def _expired(emulator: EmbeddedEmulator, job_id: str) -> dict[str, Any]:
    put_in_phase(emulator.state, job_id, "Terminated")
    past = emulator.state.config.clock() - timedelta(seconds=1)
    assert emulator.state.store.update_job(job_id, expire_time=past)
    return {"Id": job_id}


#: (action, Code) of an error example -> the state and request the emulator answers it for.
SCENARIOS: dict[tuple[str, str], _Scenario] = {
    (STOP, "OperationDenied.InvalidJobPhase"): _in_phase("Completed"),
    (STOP, "DryRunOperation"): _in_phase("Queued", DryRun=True),
    (RESUME, "OperationDenied.InvalidJobPhase"): _in_phase("Queued"),
    (RESUME, "OperationDenied.ActiveJobExists"): _another_active_job,
    (RESUME, "OperationDenied.CompletionWindowExpired"): _expired,
    (UPDATE, "MissingParameter"): _in_phase("Queued"),
    (DELETE, "OperationDenied.InvalidJobPhase"): _in_phase("Running"),
}


def _lifecycle_error_examples() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(status, response, example name, envelope) of every error example the lifecycle
    actions document that names a lifecycle action."""
    found: set[tuple[str, str, str]] = set()
    for action in LIFECYCLE:
        for status in _error_statuses(action):
            response = _response_name(action, status)
            examples = _response(action, status)["content"]["application/json"].get("examples", {})
            found.update(
                (status, response, name)
                for name, example in examples.items()
                if example["value"]["ResponseMetadata"].get("Action") in LIFECYCLE
            )
    responses = load_spec()["components"]["responses"]
    return [
        (
            status,
            response,
            name,
            responses[response]["content"]["application/json"]["examples"][name]["value"],
        )
        for status, response, name in sorted(found)
    ]


def test_each_lifecycle_action_has_an_error_example_of_its_own() -> None:
    shown = {e["ResponseMetadata"]["Action"] for *_, e in _lifecycle_error_examples()}
    assert shown == set(LIFECYCLE)


@pytest.mark.parametrize(
    ("status", "response", "name", "envelope"),
    _lifecycle_error_examples(),
    ids=[f"{response}/{name}" for _, response, name, _ in _lifecycle_error_examples()],
)
def test_each_lifecycle_error_example_is_what_the_emulator_answers(
    monkeypatch: pytest.MonkeyPatch, status: str, response: str, name: str, envelope: dict[str, Any]
) -> None:
    action = envelope["ResponseMetadata"]["Action"]
    example = envelope["ResponseMetadata"]["Error"]
    # Shown under a status the action really documents with this response.
    assert _response_name(action, status) == response, name
    scenario = SCENARIOS[(action, example["Code"])]
    with _emulator_env(monkeypatch) as emulator, make_client() as client:
        body = scenario(emulator, _create_job())
        answer = client.get_httpx_client().post(
            "/", params={"Action": action, "Version": API_VERSION}, json=body
        )
    assert answer.status_code == int(status)
    answered = answer.json()["ResponseMetadata"]["Error"]
    # Job Ids are made at random; everything else is the example's, word for word.
    assert {key: JOB_ID.sub("<Id>", str(value)) for key, value in answered.items()} == {
        key: JOB_ID.sub("<Id>", str(value)) for key, value in example.items()
    }
