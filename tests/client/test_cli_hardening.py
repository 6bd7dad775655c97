"""Arguments, files and settings the CLI cannot use: one line on stderr, never a traceback."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from ark_batch._api import PHASES
from ark_batch.cli import input_check
from ark_batch.cli.context import normalize_endpoint
from ark_batch.cli.failures import error_line
from ark_batch.cli.output import print_job_table
from ark_batch.errors import TransportError
from ark_batch_client.models import BatchInferenceJob
from client.cli_support import CREATE_ARGS, input_file, lines
from client.cli_support import run as run_cli
from client.client_support import job_dict

JOB = "bi-20240101000000-abcde"
#: Nothing listens here: a command that got as far as a request fails at once.
NOWHERE = "http://127.0.0.1:9"


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    """``ark-batch ARGS`` aimed at a closed port, so none of these reaches a service."""
    return run_cli(*args, env={"ARK_BATCH_ENDPOINT": NOWHERE, **(env or {})})


def _usage_error(result: Any) -> str:
    """The one line of a usage error (exit 2)."""
    assert result.exit_code == 2, result.output
    [line] = lines(result.stderr)
    assert line.startswith("Error: ")
    return line


# --- numbers ------------------------------------------------------------------------------


def test_a_limit_beyond_any_count_is_a_usage_error() -> None:
    line = _usage_error(run("list", "--limit", "9" * 29))
    assert "--limit" in line


@pytest.mark.parametrize(
    "args",
    [
        ["wait", JOB, "--poll-interval", "nan"],
        ["wait", JOB, "--poll-interval", "inf"],
        ["wait", JOB, "--timeout", "nan"],
        ["wait", JOB, "--timeout", "inf"],
        ["--http-timeout", "nan", "list"],
        ["--http-timeout", "inf", "list"],
    ],
)
def test_float_options_refuse_values_that_are_not_finite(args: list[str]) -> None:
    line = _usage_error(run(*args))
    assert "is not a finite number" in line


# --- files --------------------------------------------------------------------------------


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b"\xff\xfe[emu]\n")
    line = _usage_error(run("list", env={"ARK_BATCH_CONFIG": str(config)}))
    assert "is not UTF-8 text" in line


def test_a_config_path_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    line = _usage_error(run("list", env={"ARK_BATCH_CONFIG": str(fifo)}))
    assert line.endswith("is not a regular file")


def test_input_json_that_is_not_utf8_or_too_deep_is_one_line(tmp_path: Path) -> None:
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe{}")
    assert "is not UTF-8 text" in _usage_error(run("get", "--input-json", str(binary)))
    deep = tmp_path / "deep.json"
    deep.write_text('{"Id":' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    assert _usage_error(run("get", "--input-json", str(deep))).endswith("is nested too deeply")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_values_that_are_not_json_are_refused_before_sending(value: str) -> None:
    line = _usage_error(run("create", *CREATE_ARGS, "--set", f"Name:={value}", "--dry-run"))
    assert line.startswith("Error: --set Name:= value is not JSON")


# --- text ---------------------------------------------------------------------------------


def test_an_argument_that_is_not_utf8_is_refused_naming_it(tmp_path: Path) -> None:
    # A byte that is not UTF-8 in argv reaches Python as a lone surrogate.
    not_text = "x\udcff"
    assert _usage_error(run("get", not_text)) == (
        "Error: the JOB_ID argument is not valid UTF-8 text"
    )
    assert _usage_error(run("list", "--name", not_text)) == (
        "Error: --name is not valid UTF-8 text"
    )
    assert _usage_error(run("create", *CREATE_ARGS, "--set", f"Description={not_text}")) == (
        "Error: --set is not valid UTF-8 text"
    )
    valid = input_file(tmp_path, 1)
    odd_name = valid.rename(tmp_path / "q\udce9.jsonl")
    store = tmp_path / "objects"
    store.mkdir()
    submitted = run(
        "submit", str(odd_name), "--bucket", "my-bucket", "--model", "m:1",
        "--store-dir", str(store), "--no-wait",
    )  # fmt: skip
    assert _usage_error(submitted) == "Error: the FILE argument is not valid UTF-8 text"
    validated = run("validate", str(odd_name))
    assert _usage_error(validated) == "Error: the FILE argument is not valid UTF-8 text"


# --- object stores ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--s3-endpoint", "not a url"),
        ("--s3-endpoint", "http://AKX:HUSHS3@127.0.0.1:abc"),
        ("--s3-endpoint", "http://AKX:HUSHS3@bad host"),
        ("--s3-endpoint", "http://AKX:HUSHS3@127.0.0.1:99999"),
        ("--s3-endpoint", "http://AKX:HUSHS3@127.0.0.1:9000"),
        ("--store", "s3+http://AK:HUSHSK@127.0.0.1:abc"),
        ("--store", "s3+http://AK:HUSHSK@[::1"),
        ("--store", "s3+http://AK:HUSHSK@127.0.0.1:99999"),
        ("--store", "s3+http://AK:HUSHSK@bad host:1"),
        # A secret key with a "/": urllib reads "abc" as the port and quotes it.
        ("--store", "s3+http://AK:abcHUSH/HUSHdef@127.0.0.1:9000"),
        ("--s3-endpoint", "http://AK:abcHUSH/HUSHdef@127.0.0.1:9000"),
    ],
)
def test_a_malformed_store_address_is_one_line_without_its_secret(flag: str, value: str) -> None:
    result = run("results", JOB, flag, value)
    line = _usage_error(result)
    assert line.startswith(f"Error: {flag} ")
    assert "HUSH" not in result.output


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        (["--endpoint", "http://u:HUSHPW@127.0.0.1:abc"], {}),
        (["--endpoint", "http://u:HUSHPW@[::1"], {}),
        (["--endpoint", "http://u:abcHUSH/HUSHpw@127.0.0.1:9"], {}),
        ([], {"ARK_BATCH_ENDPOINT": "gopher://u:HUSHPW@h"}),
        ([], {"ARK_BATCH_ENDPOINT": "u:HUSHPW@[::1"}),
    ],
)
def test_an_unusable_endpoint_is_shown_without_its_password(
    flags: list[str], env: dict[str, str]
) -> None:
    result = run_cli("get", JOB, *flags, env=env)
    assert result.exit_code == 2, result.output
    assert len(lines(result.stderr)) == 1
    assert "HUSH" not in result.output


def test_error_lines_never_print_the_user_info_of_an_endpoint() -> None:
    endpoint = "http://user:SECRETPW@127.0.0.1:1"
    refused = error_line(TransportError("connection refused"), endpoint)
    named = error_line(TransportError(f"cannot connect to {endpoint}/"), endpoint)
    assert refused == "Error: TransportError: connection refused (endpoint http://***@127.0.0.1:1)"
    assert named == "Error: TransportError: cannot connect to http://***@127.0.0.1:1/"


# --- submit -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        ["--set", "InputFileTosLocation.ObjectKey=o.jsonl"],
        ["--set", "InputFileTosLocation.BucketName=other-bucket"],
        ["--set", 'InputFileTosLocation:={"BucketName": "my-bucket", "ObjectKey": "o.jsonl"}'],
    ],
)
def test_submit_refuses_to_start_the_job_on_another_object_than_it_uploads(
    tmp_path: Path, override: list[str]
) -> None:
    data = input_file(tmp_path, 1, "q.jsonl")
    store = tmp_path / "objects"
    store.mkdir()
    result = run(
        "submit", str(data), "--bucket", "my-bucket", "--model", "m:1",
        "--store-dir", str(store), "--no-wait", *override,
    )  # fmt: skip
    line = _usage_error(result)
    assert "cannot change InputFileTosLocation" in line
    assert line.startswith("Error: submit uploads q.jsonl to tos://my-bucket/batch-inputs/q-")
    assert list(store.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "kind"),
    [('"3"', "a string"), ("5.5", "a number"), ("-2.5", "a number"), ("true", "true or false")],
)
@pytest.mark.parametrize("field", ["PageNumber", "PageSize"])
def test_list_refuses_a_page_number_or_size_that_is_not_an_integer(
    field: str, value: str, kind: str
) -> None:
    line = _usage_error(run("list", "--set", f"{field}:={value}"))
    assert line == f"Error: {_LIST} is not valid: {field}: expects an integer, not {kind}"


def test_an_integer_written_as_a_float_is_taken_as_an_integer() -> None:
    from ark_batch.cli.body import build_request  # noqa: PLC0415
    from ark_batch_client.models import ListBatchInferenceJobsRequest  # noqa: PLC0415

    request = build_request(ListBatchInferenceJobsRequest, {"PageSize": 2.0, "PageNumber": 3.0})
    assert (request.page_size, request.page_number) == (2, 3)
    assert type(request.page_size) is int


# --- endpoints ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "env", "config", "message"),
    [
        ([], {"ARK_BATCH_ENDPOINT": "ftp://x"}, "",
         "Error: ARK_BATCH_ENDPOINT 'ftp://x' is not an http:// or https:// URL"),
        (["--profile", "emu"], {}, '[emu]\nendpoint = "ftp://x"\n',
         "Error: the endpoint of profile 'emu' 'ftp://x' is not an http:// or https:// URL"),
        ([], {}, '[default]\nendpoint = "http://"\n',
         "Error: the endpoint of profile 'default' 'http://' has no host"),
        (["--endpoint", "http://"], {}, "", "Error: --endpoint 'http://' has no host"),
        (["--endpoint", "https:///x"], {}, "", "Error: --endpoint 'https:///x' has no host"),
    ],
)  # fmt: skip
def test_an_endpoint_error_names_where_the_endpoint_came_from(
    tmp_path: Path, flags: list[str], env: dict[str, str], config: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    result = run_cli("list", *flags, env={"ARK_BATCH_CONFIG": str(path), **env})
    assert _usage_error(result).startswith(message)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("[::1]:18431", "http://[::1]:18431"),
        ("127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("localhost", "http://localhost"),
        ("example.com:443", "https://example.com:443"),
        ("http://[::1]:18431/", "http://[::1]:18431"),
    ],
)
def test_a_loopback_address_needs_no_scheme_ipv6_included(given: str, expected: str) -> None:
    assert normalize_endpoint(given) == expected


# --- input files --------------------------------------------------------------------------


def test_validate_stops_at_a_line_longer_than_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(input_check, "MAX_LINE_BYTES", 64)
    long_line = tmp_path / "long.jsonl"
    long_line.write_bytes(b'{"custom_id": "a", "body": {}}\n' + b" " * 100)
    result = run("validate", str(long_line))
    assert result.exit_code == 1
    assert lines(result.stderr)[0] == (
        f"{long_line}: line 2: is longer than 64 bytes; the check stops here"
    )
    # A file with no newline at all is not read whole.
    endless = run("validate", "/dev/zero")
    assert endless.exit_code == 1
    assert "/dev/zero: line 1: is longer than 64 bytes" in endless.stderr


# --- request bodies -----------------------------------------------------------------------

_CREATE = "the CreateBatchInferenceJob request"
_LIST = "the ListBatchInferenceJobs request"


@pytest.mark.parametrize(
    ("command", "assignments", "message"),
    [
        ("create", ['Tags:=[{"Key": "a"}]'],
         f"{_CREATE} has no Tags[0].Value: give the whole list with --set Tags:=JSON or "
         "--input-json FILE"),
        ("list", ['TagFilters:=[{"Values": ["a"]}]'],
         f"{_LIST} has no TagFilters[0].Key: give the whole list with --set TagFilters:=JSON "
         "or --input-json FILE"),
        ("create", ["InputFileTosLocation:={}"],
         f"{_CREATE} has no InputFileTosLocation.BucketName: give --set "
         "InputFileTosLocation.BucketName=VALUE or --input-json FILE"),
        ("create", ["Tags:=\"x\""],
         f"{_CREATE} is not valid: Tags: expects an array, not a string"),
        ("create", ["InputFileTosLocation:=[]"],
         f"{_CREATE} is not valid: InputFileTosLocation: expects an object, not an array"),
        ("list", ['Filter.Phases:="Running"'],
         f"{_LIST} is not valid: Filter.Phases: expects an array, not a string"),
        ("list", ['Filter.Phases:=["Running", "Done"]'],
         f"{_LIST} is not valid: Filter.Phases[1]: 'Done' is not one of "
         + ", ".join(sorted(PHASES))),
        ("create", ["CompletionWindow:=5"],
         f"{_CREATE} is not valid: CompletionWindow: expects a string, not an integer"),
    ],
)  # fmt: skip
def test_request_body_errors_name_the_member_and_a_fix_that_works(
    command: str, assignments: list[str], message: str
) -> None:
    base = CREATE_ARGS if command == "create" else []
    sets = [arg for assignment in assignments for arg in ("--set", assignment)]
    assert _usage_error(run(command, *base, *sets)) == f"Error: {message}"


def test_the_fixes_suggested_for_a_missing_member_work(emulator_url: str) -> None:
    at = ["--endpoint", emulator_url, "--dry-run"]
    fixed = run_cli(
        "create", *CREATE_ARGS, *at, "--set", "InputFileTosLocation:={}",
        "--set", "InputFileTosLocation.BucketName=my-bucket",
        "--set", "InputFileTosLocation.ObjectKey=in/a.jsonl",
    )  # fmt: skip
    assert fixed.exit_code == 0, fixed.output
    tags = run_cli("create", *CREATE_ARGS, *at, "--set", 'Tags:=[{"Key": "a", "Value": "b"}]')
    assert tags.exit_code == 0, tags.output


def test_a_null_member_reads_as_absent(emulator_url: str) -> None:
    result = run_cli(
        "create", *CREATE_ARGS, "--set", "Description:=null", "--endpoint", emulator_url,
        "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("flag", ["--input", "--output"])
def test_an_empty_location_flag_is_refused_by_name(flag: str) -> None:
    args = [*CREATE_ARGS]
    args[args.index(flag) + 1] = ""
    line = _usage_error(run("create", *args))
    assert line == f"Error: {flag} expects tos://BUCKET/KEY or BUCKET/KEY, got ''"


# --- tables -------------------------------------------------------------------------------


def _jobs() -> list[BatchInferenceJob]:
    counts = {"Total": 5000, "Completed": 4988, "Failed": 12}
    return [
        BatchInferenceJob.from_dict(
            job_dict("bi-20261201185028-8f65y", "Running", Name="a rather long job name here",
                     RequestCounts=counts)
        ),
        BatchInferenceJob.from_dict(job_dict("bi-20261201185029-8f65z", "Completed", Name="n")),
    ]  # fmt: skip


@pytest.mark.parametrize("width", [120, 80, 60, 50])
def test_a_narrow_table_leaves_columns_out_rather_than_cutting_numbers(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("LINES", "25")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    print_job_table(_jobs())
    text = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert "…" not in text, text
    assert max(len(line) for line in text.splitlines()) <= width, text
    for job, done in zip(_jobs(), ["5000/5000", "0/10"], strict=True):
        assert job.id in text
        assert job.status.phase in text
        assert done in text
