"""What a new user of ark-batch runs into: results, stores, input checks, words, options."""

from __future__ import annotations

import json
import re
import shlex
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import ark_batch
from ark_batch.emulator import DEV_SECRET_KEY, EmulatorState
from ark_batch.facade import ArkBatch
from ark_batch.results import ResultsNotFoundError, ResultsNotReadyError
from ark_batch.storage import LocalObjectStore
from ark_batch_client.api.batch_inference_job import (
    get_batch_inference_job,
    list_batch_inference_jobs,
)
from ark_batch_client.models import GetBatchInferenceJobRequest, ListBatchInferenceJobsRequest
from ark_batch_client.models.job_phase import JOB_PHASE_VALUES
from client.cli_support import CREATE_ARGS, input_file, lines, run
from client.client_support import DEV

EXAMPLE_INPUT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "questions.jsonl"


def _create(url: str, *extra: str) -> str:
    created = run("create", *CREATE_ARGS, *extra, "--endpoint", url)
    assert created.exit_code == 0, created.output
    return str(created.stdout.strip())


# --- results ------------------------------------------------------------------------------


def test_results_of_a_job_still_running_fail_and_download_nothing(
    emulator_url: str, tmp_path: Path
) -> None:
    job_id = _create(emulator_url)
    objects = tmp_path / "objects"
    objects.mkdir()
    streamed = run("results", job_id, "--store-dir", str(objects), "--endpoint", emulator_url)
    assert streamed.exit_code == 1
    assert streamed.stdout == ""
    assert lines(streamed.stderr) == [
        f"Error: ResultsNotReadyError: job {job_id} is still Queued (0/0 requests done): "
        "its results can be read once it has ended"
    ]
    target = tmp_path / "dl"
    downloaded = run(
        "results", job_id, "--download", str(target), "--store-dir", str(objects),
        "--endpoint", emulator_url,
    )  # fmt: skip
    assert downloaded.exit_code == 1
    assert not target.exists()
    store = LocalObjectStore(objects)
    with (
        ArkBatch(emulator_url, credentials=DEV, store=store) as ark,
        pytest.raises(ResultsNotReadyError),
    ):
        list(ark.results(job_id))


def test_results_of_a_failed_job_exit_3(
    emulator: tuple[Any, EmulatorState], emulator_url: str, tmp_path: Path
) -> None:
    job_id = _create(emulator_url)
    emulator[1].store.update_job(job_id, phase="Failed", status_message="bad input line 2")
    result = run("results", job_id, "--store-dir", str(tmp_path), "--endpoint", emulator_url)
    assert result.exit_code == 3
    assert lines(result.stderr) == [
        f"Error: JobFailedError: job {job_id} ended Failed: bad input line 2"
    ]


def test_download_of_a_job_without_lines_says_there_is_nothing_to_save(
    emulator: tuple[Any, EmulatorState], emulator_url: str, tmp_path: Path
) -> None:
    job_id = _create(emulator_url)
    emulator[1].store.update_job(job_id, phase="Completed", total=0, completed=0)
    result = run(
        "results", job_id, "--download", str(tmp_path / "dl"), "--store-dir", str(tmp_path),
        "--endpoint", emulator_url,
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout == ""
    assert lines(result.stderr) == [f"{job_id}: no results or errors file to save"]


def test_a_missing_results_file_is_named(
    emulator: tuple[Any, EmulatorState], emulator_url: str, tmp_path: Path
) -> None:
    job_id = _create(emulator_url)
    emulator[1].store.update_job(job_id, phase="Completed", total=3, completed=3)
    result = run("results", job_id, "--store-dir", str(tmp_path), "--endpoint", emulator_url)
    assert result.exit_code == 1
    [line] = lines(result.stderr)
    assert line.startswith(
        f"Error: results file of job {job_id} not found at "
        f"tos://my-bucket/out/{job_id}/output/results.jsonl: "
    )
    assert "DATA_DIR/objects" in line
    assert line.endswith(f"Looked in --store-dir {tmp_path}.")
    store = LocalObjectStore(tmp_path)
    with (
        ArkBatch(emulator_url, credentials=DEV, store=store) as ark,
        pytest.raises(ResultsNotFoundError, match="results file of job"),
    ):
        list(ark.results(job_id))


def test_the_emulator_data_dir_is_taken_for_its_object_root(
    running_emulator: tuple[str, Path, EmulatorState], tmp_path: Path
) -> None:
    url, objects, _ = running_emulator
    data_dir = objects.parent
    submitted = run(
        "submit", str(input_file(tmp_path, 4)), "--bucket", "my-bucket", "--model", "m:1",
        "--store-dir", str(data_dir), "--poll-interval", "0.05", "--download", str(tmp_path),
        "--endpoint", url,
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.output
    job_id = submitted.stdout.strip()
    assert f"Note: {data_dir} is an emulator's data dir; using its object root {objects}" in (
        submitted.stderr
    )
    uploaded = next(line for line in lines(submitted.stderr) if line.startswith("Uploaded"))
    assert f"({objects / 'my-bucket' / 'batch-inputs'}" in uploaded  # the real file, too
    streamed = run("results", job_id, "--all", "--store-dir", str(data_dir), "--endpoint", url)
    assert streamed.exit_code == 0
    assert len(streamed.stdout.splitlines()) == 4


def test_a_download_dir_that_cannot_be_written_is_one_line(
    running_emulator: tuple[str, Path, EmulatorState], tmp_path: Path
) -> None:
    url, objects, _ = running_emulator
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = run(
        "submit", str(input_file(tmp_path, 2)), "--bucket", "my-bucket", "--model", "m:1",
        "--store-dir", str(objects.parent), "--poll-interval", "0.05",
        "--download", str(blocker / "dl"), "--endpoint", url,
    )  # fmt: skip
    assert result.exit_code == 1
    assert lines(result.stderr)[-1].startswith(f"Error: cannot save {blocker / 'dl'}: ")
    assert "Traceback" not in result.output


def test_a_store_dir_that_does_not_exist_is_refused(emulator_url: str, tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    result = run(
        "submit", str(input_file(tmp_path, 1)), "--bucket", "b-1", "--model", "m:1",
        "--store-dir", str(nowhere), "--endpoint", emulator_url,
    )  # fmt: skip
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        f"Error: --store-dir {nowhere}: no such directory (for the emulator, give its "
        "DATA_DIR/objects)"
    ]
    assert not nowhere.exists()


@pytest.mark.parametrize(
    "store",
    [
        "ftp://AKID:SECRET-KEY@host/bucket?token=SECRET-TOKEN",
        "s3+ftp://host/?X-Amz-Security-Token=SECRET-TOKEN#SECRET-KEY",
    ],
)
def test_a_bad_store_url_is_one_line_without_its_credentials(emulator_url: str, store: str) -> None:
    result = run("results", "bi-20240101000000-abcde", "--store", store, "--endpoint", emulator_url)
    assert result.exit_code == 2
    [line] = lines(result.stderr)
    assert line.startswith("Error: --store ")
    assert "SECRET" not in line


# --- input files --------------------------------------------------------------------------


def test_the_documented_example_input_is_valid() -> None:
    result = run("validate", str(EXAMPLE_INPUT))
    assert result.exit_code == 0, result.output
    count = len(lines(EXAMPLE_INPUT.read_text(encoding="utf-8")))
    assert result.stdout.strip() == f"{EXAMPLE_INPUT}: {count} request(s), all valid"


def test_validate_names_each_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"custom_id": "a", "body": {}}\n'
        "\n"
        "not json\n"
        "[1]\n"
        '{"body": {}}\n'
        '{"custom_id": "", "body": {}}\n'
        '{"custom_id": "a", "body": {}}\n'
        '{"custom_id": "b"}\n'
        '{"custom_id": "c", "body": {"x": NaN}}\n',
        encoding="utf-8",
    )
    result = run("validate", str(bad))
    assert result.exit_code == 1
    problems = [line.removeprefix(f"{bad}: ") for line in lines(result.stderr)]
    assert problems[:-1] == [
        "line 3: is not valid JSON (Expecting value: line 1 column 1 (char 0))",
        "line 4: is not a JSON object",
        "line 5: has no custom_id",
        "line 6: custom_id must be a non-empty string",
        'line 7: repeats custom_id "a" of line 1',
        "line 8: has no body object (the request to send)",
        "line 9: is not valid JSON (NaN is not a JSON value)",
    ]
    assert problems[-1].startswith(f"Error: {bad} is not a valid batch input: 7 bad line(s)")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    assert run("validate", str(empty)).exit_code == 1


def test_validate_names_a_line_nested_too_deeply(tmp_path: Path) -> None:
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"custom_id": "a", "body": {}}\n' + "[" * 100_000 + "\n", encoding="utf-8")
    result = run("validate", str(deep))
    assert result.exit_code == 1
    assert lines(result.stderr)[0] == f"{deep}: line 2: is nested too deeply"


def test_submit_checks_the_file_before_uploading(emulator_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"custom_id": "a"}\n', encoding="utf-8")
    objects = tmp_path / "objects"
    objects.mkdir()
    args = [
        "submit", str(bad), "--bucket", "b-1", "--model", "m:1", "--no-wait",
        "--store-dir", str(objects), "--endpoint", emulator_url,
    ]  # fmt: skip
    refused = run(*args)
    assert refused.exit_code == 1
    assert f"{bad}: line 1: has no body object" in refused.stderr
    assert list(objects.iterdir()) == []  # nothing uploaded, no job
    with ArkBatch(emulator_url, credentials=DEV) as ark:
        assert list(ark.iter_jobs()) == []
    unchecked = run(*args, "--no-validate")
    assert unchecked.exit_code == 0, unchecked.output
    assert unchecked.stdout.strip().startswith("bi-")


# --- words for people -----------------------------------------------------------------------


def test_missing_credentials_speak_of_the_cli_not_python(emulator_url: str) -> None:
    nothing = {"VOLCENGINE_ACCESS_KEY": "", "VOLCENGINE_SECRET_KEY": ""}
    result = run("list", "--endpoint", emulator_url, env=nothing)
    assert result.exit_code == 1
    [line] = lines(result.stderr)
    assert line.startswith("Error: MissingCredentialsError: no credentials: set ")
    assert "--profile" in line
    assert "pass access_key" not in line


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--page-size", "0"], "--page-size and PageNumber must be at least 1"),
        (["--set", "PageNumber:=0"], "--page-size and PageNumber must be at least 1"),
        (["--endpoint", "http://[::1"], "--endpoint 'http://[::1' is not a valid URL"),
    ],
)
def test_list_bounds_and_endpoints_that_cannot_work_are_one_line(
    emulator_url: str, flags: list[str], message: str
) -> None:
    endpoint = [] if "--endpoint" in flags else ["--endpoint", emulator_url]
    result = run("list", *endpoint, *flags)
    assert result.exit_code == 2
    [line] = lines(result.stderr)
    assert line.startswith(f"Error: {message}")


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ([], {"VOLCENGINE_SESSION_TOKEN": "STS-SECRET-TOKEN\n"}, "the session_token has"),
        ([], {"VOLCENGINE_REGION": "cn-beijing\n"}, "region 'cn-beijing\\n' is not a region name"),
        (["--region", "cn beijing"], {}, "region 'cn beijing' is not a region name"),
    ],
)
def test_a_setting_that_cannot_be_sent_is_one_line_without_secrets(
    emulator_url: str, flags: list[str], env: dict[str, str], message: str
) -> None:
    result = run("list", "--endpoint", emulator_url, *flags, env=env)
    assert result.exit_code == 1
    [line] = lines(result.stderr)
    assert line.startswith("Error: InvalidSettingError: ")
    assert message in line
    assert "STS-SECRET-TOKEN" not in result.output


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--model", "m:1", "--custom-model-id", "x"],
         "give --model or --custom-model-id, not both"),
        (["--model-version", "1"], "--model-version needs --model NAME"),
        ([], "the CreateBatchInferenceJob request has no ModelReference: give --model "
         "NAME:VERSION or --custom-model-id, --set ModelReference=VALUE or --input-json FILE"),
    ],
)  # fmt: skip
def test_model_errors_name_flags(flags: list[str], message: str) -> None:
    args = ["--name", "n", "--input", "b-1/in.jsonl", "--output", "b-1/out/", *flags]
    result = run("create", *args)
    assert result.exit_code == 2
    assert lines(result.stderr) == [f"Error: {message}"]
    for python_name in ("model_version", "custom_model_id", "access_key"):
        assert python_name not in result.stderr


def test_phase_is_case_insensitive_and_bad_ones_list_the_phases(emulator_url: str) -> None:
    job_id = _create(emulator_url)
    listed = run(
        "list", "--phase", "queued", "--phase", "RUNNING", "--json", "--endpoint", emulator_url
    )
    assert listed.exit_code == 0, listed.output
    assert [job["Id"] for job in json.loads(listed.stdout)] == [job_id]
    bad = run("list", "--phase", "runing", "--endpoint", emulator_url)
    assert bad.exit_code == 2
    assert lines(bad.stderr) == [
        f"Error: Invalid value for --phase: 'runing' is not one of "
        f"{', '.join(sorted(JOB_PHASE_VALUES))} (see ark-batch list --help)"
    ]


def test_a_loopback_endpoint_needs_no_scheme(emulator_url: str) -> None:
    job_id = _create(emulator_url)
    bare = emulator_url.removeprefix("http://")
    got = run("get", job_id, "--endpoint", bare)
    assert got.exit_code == 0, got.output
    assert job_id in got.stdout
    odd = run("get", job_id, "--endpoint", "ftp://example.com")
    assert odd.exit_code == 2
    assert "is not an http:// or https:// URL" in odd.stderr


def test_https_to_a_plain_http_server_says_to_use_http(emulator_url: str) -> None:
    address = emulator_url.removeprefix("http://")
    result = run("list", "--endpoint", f"https://{address}")
    assert result.exit_code == 1
    [line] = lines(result.stderr)
    # The client names where it tried to connect; the CLI adds the hint.
    assert line.startswith(f"Error: ConnectError: cannot connect to https://{address} ")
    assert line.endswith(f"; it does not speak HTTPS: try http://{address}")


# --- conveniences ---------------------------------------------------------------------------


def test_version_and_completion() -> None:
    assert ark_batch.__version__ == version("ark-batch")
    shown = run("--version")
    assert shown.exit_code == 0
    assert shown.stdout.strip() == f"ark-batch {ark_batch.__version__}"
    assert "--install-completion" in run("--help").stdout
    # The script --show-completion prints for bash. That flag names the shell it finds
    # among the test's parent processes, so the shell is named here instead.
    script = run(env={"_ARK_BATCH_COMPLETE": "source_bash"}).stdout
    assert "complete -o default -F _ark_batch_completion ark-batch" in script
    completing = {
        "_ARK_BATCH_COMPLETE": "complete_bash",
        "COMP_WORDS": "ark-batch li",
        "COMP_CWORD": "1",
    }
    assert run(env=completing).stdout.split() == ["list"]


def test_debug_logs_each_request_and_retry_without_secrets(
    emulator_url: str, emulator_faults: Any
) -> None:
    job_id = _create(emulator_url)
    emulator_faults.inject_server_errors(1, actions=["GetBatchInferenceJob"])
    result = run("-v", "get", job_id, "--endpoint", emulator_url)
    assert result.exit_code == 0, result.output
    log = result.stderr
    assert f"POST {emulator_url}/?Action=GetBatchInferenceJob&Version=" in log
    assert "HTTP 500 from GetBatchInferenceJob, RequestId " in log
    assert "retrying GetBatchInferenceJob: attempt 2" in log
    assert "HTTP 200 from GetBatchInferenceJob, RequestId " in log
    assert DEV_SECRET_KEY not in log
    assert not re.search(r"Signature=[0-9a-f]{8}", log)
    quiet = run("get", job_id, "--endpoint", emulator_url)
    assert "HTTP 200" not in quiet.stderr
    after = run("get", job_id, "--debug", "--endpoint", emulator_url)  # after the command too
    assert "HTTP 200 from GetBatchInferenceJob, RequestId " in after.stderr


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return {"ARK_BATCH_CONFIG": str(path)}


def test_profiles_give_endpoint_and_credentials(emulator_url: str, tmp_path: Path) -> None:
    env = _config(
        tmp_path,
        f'[emulator]\nendpoint = "{emulator_url}"\n'
        f'access_key = "{DEV.access_key}"\nsecret_key = "{DEV.secret_key}"\n'
        '[broken]\nsecret_key = "only half"\n',
    )
    no_env_keys = {"VOLCENGINE_ACCESS_KEY": "", "VOLCENGINE_SECRET_KEY": "", **env}
    by_flag = run("list", "--profile", "emulator", "--json", env=no_env_keys)
    assert by_flag.exit_code == 0, by_flag.output
    by_env = run("list", "--json", env={**no_env_keys, "ARK_BATCH_PROFILE": "emulator"})
    assert by_env.exit_code == 0, by_env.output
    unknown = run("list", "--profile", "nope", env=env)
    assert unknown.exit_code == 2
    assert lines(unknown.stderr) == [
        f"Error: profile 'nope' not found in {tmp_path / 'config.toml'} "
        "(profiles: broken, emulator)"
    ]
    half = run("list", "--profile", "broken", env=env)
    assert half.exit_code == 2
    assert "needs both access_key and secret_key" in half.stderr
    assert "only half" not in half.stderr
    where = run("config-path", env=env)
    assert where.stdout.strip() == str(tmp_path / "config.toml")


def test_the_default_profile_sits_beneath_the_environment(
    emulator_url: str, tmp_path: Path
) -> None:
    env = _config(tmp_path, '[default]\nendpoint = "http://127.0.0.1:9"\n')
    from_default = run("list", env=env)
    assert from_default.exit_code == 1
    assert "cannot connect to http://127.0.0.1:9 " in from_default.stderr
    from_env = run("list", "--json", env={**env, "ARK_BATCH_ENDPOINT": emulator_url})
    assert from_env.exit_code == 0, from_env.output


# --- whole request bodies --------------------------------------------------------------------


def test_create_from_input_json_with_set_overrides(emulator_url: str, tmp_path: Path) -> None:
    body = {
        "Name": "from-json",
        "ModelReference": {"FoundationModel": {"Name": "doubao-pro-32k", "ModelVersion": "1"}},
        "InputFileTosLocation": {"BucketName": "b-1", "ObjectKey": "in/a.jsonl"},
        "OutputDirTosLocation": {"BucketName": "b-1", "ObjectKey": "out/"},
    }
    path = tmp_path / "create.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    created = run(
        "create", "--input-json", str(path), "--name", "flag-name",
        "--set", "ModelReference.FoundationModel.ModelVersion=240615",
        "--set", 'Tags:=[{"Key": "team", "Value": "a"}]', "--endpoint", emulator_url,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    job = json.loads(
        run("get", created.stdout.strip(), "--json", "--endpoint", emulator_url).stdout
    )
    assert job["Name"] == "flag-name"
    assert job["ModelReference"]["FoundationModel"] == {
        "Name": "doubao-pro-32k",
        "ModelVersion": "240615",
    }
    assert {"Key": "team", "Value": "a"} in job["Tags"]
    from_stdin = run(
        "create", "--input-json", "-", "--set", "InputFileTosLocation.ObjectKey=in/b.jsonl",
        "--json", "--endpoint", emulator_url, stdin=json.dumps(body),
    )  # fmt: skip
    assert from_stdin.exit_code == 0, from_stdin.output
    assert json.loads(from_stdin.stdout)["Id"] != created.stdout.strip()


def test_the_guide_create_request_example_runs(emulator_url: str) -> None:
    guide = (EXAMPLE_INPUT.parents[1] / "guide.md").read_text(encoding="utf-8")
    [command] = [
        block.replace("\\\n", " ")
        for block in re.findall(r"```sh\n(.*?)```", guide, re.S)
        if "--input-json" in block
    ]
    words = shlex.split(command.replace("docs/examples/", f"{EXAMPLE_INPUT.parent}/"))
    created = run(*words[1:], "--endpoint", emulator_url)
    assert created.exit_code == 0, created.output
    job = json.loads(
        run("get", created.stdout.strip(), "--json", "--endpoint", emulator_url).stdout
    )
    assert (job["Name"], job["CompletionWindow"], job["Description"]) == (
        "nightly-2",
        "3d",
        "Questions for the nightly evaluation",
    )
    assert {"Key": "team", "Value": "ads"} in job["Tags"]


def test_request_bodies_are_checked_by_the_generated_models(tmp_path: Path) -> None:
    unknown = run("create", *CREATE_ARGS, "--set", "Priority:=5")
    assert unknown.exit_code == 2
    assert lines(unknown.stderr) == [
        "Error: the CreateBatchInferenceJob request has no field Priority"
    ]
    nested = run("list", "--set", "Filter.Colour=red")
    assert nested.exit_code == 2
    assert "has no field Filter.Colour" in nested.stderr
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("[1, 2]", encoding="utf-8")
    assert run("get", "--input-json", str(bad_json)).exit_code == 2
    no_id = run("get")
    assert lines(no_id.stderr) == [
        "Error: the GetBatchInferenceJob request has no Id: give the JOB_ID argument, "
        "--set Id=VALUE or --input-json FILE"
    ]
    assert run("list", "--set", "Filter:=3", "--set", "Filter.Name=x").exit_code == 2
    assert run("list", "--set", "PageSize:=five").exit_code == 2


def test_get_and_list_json_print_the_service_json_unchanged(emulator_url: str) -> None:
    job_id = _create(emulator_url, "--tag", "team=a")
    with ArkBatch(emulator_url, credentials=DEV) as ark:
        raw_get = get_batch_inference_job.sync_detailed(
            client=ark.client, body=GetBatchInferenceJobRequest(id=job_id)
        ).content
        raw_list = list_batch_inference_jobs.sync_detailed(
            client=ark.client, body=ListBatchInferenceJobsRequest()
        ).content
    got = run("get", job_id, "--json", "--endpoint", emulator_url).stdout
    expected = json.loads(raw_get)["Result"]
    assert json.loads(got) == expected
    assert list(json.loads(got)) == list(expected)  # same order
    assert f'"CreateTime": "{expected["CreateTime"]}"' in got
    assert expected["CreateTime"].endswith("Z")  # not rewritten as +00:00
    listed = run("list", "--json", "--endpoint", emulator_url).stdout
    assert json.loads(listed) == json.loads(raw_list)["Result"]["Items"]
    waited = json.loads(raw_get)
    assert waited["Result"]["Id"] == job_id


def test_half_a_key_pair_in_the_environment_is_named(emulator_url: str, tmp_path: Path) -> None:
    env = _config(tmp_path, f'[default]\naccess_key = "{DEV.access_key}"\nsecret_key = "x"\n')
    result = run("list", "--endpoint", emulator_url, env={**env, "VOLCENGINE_SECRET_KEY": ""})
    assert result.exit_code == 1
    [line] = lines(result.stderr)
    assert "VOLCENGINE_SECRET_KEY" in line  # not quietly the default profile's keys


def test_the_library_hint_names_the_object_root(emulator_url: str) -> None:
    job_id = _create(emulator_url)
    hint = re.escape("file:///path/to/emulator-data/objects")
    with ArkBatch(emulator_url, credentials=DEV) as ark, pytest.raises(ValueError, match=hint):
        ark.results(job_id)
