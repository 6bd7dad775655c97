"""The ark-batch-emulator console script and credential configuration."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from emulator_support import LIST, query_for, signed_headers

from ark_batch.credentials import Credentials
from ark_batch.emulator import DEV_ACCESS_KEY, DEV_ACCOUNT_ID, DEV_SECRET_KEY, DEV_USER
from ark_batch.emulator.cli import build_parser, main
from ark_batch.emulator.config import AccountCredential, EmulatorConfig, credentials_from_env
from ark_batch.emulator.execution import ExecutionConfig
from ark_batch.redaction import redact_url, redact_url_in


def test_credential_parsing_defaults_account_and_user() -> None:
    assert AccountCredential.parse("AK:SK") == AccountCredential(
        "AK", "SK", DEV_ACCOUNT_ID, DEV_USER
    )
    assert AccountCredential.parse("AK:SK:42") == AccountCredential("AK", "SK", "42", DEV_USER)
    assert AccountCredential.parse("AK:SK:42:bob") == AccountCredential("AK", "SK", "42", "bob")
    for bad in ("AK", "AK:", ":SK", "a:b:c:d:e", "AK:SK::bob"):
        with pytest.raises(ValueError, match="AK:SK"):
            AccountCredential.parse(bad)


def test_credential_repr_hides_the_secret() -> None:
    assert "SECRET" not in repr(AccountCredential("AK", "SECRET"))


def test_credentials_from_env() -> None:
    env = {"ARK_BATCH_EMULATOR_CREDENTIALS": "A1:S1:1, A2:S2:2:carol ,"}
    assert credentials_from_env(env) == [
        AccountCredential("A1", "S1", "1"),
        AccountCredential("A2", "S2", "2", "carol"),
    ]
    assert credentials_from_env({}) == []


def test_config_rejects_duplicate_access_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unique"):
        EmulatorConfig(
            tmp_path, accounts=(AccountCredential("A", "1"), AccountCredential("A", "2"))
        )


def test_parser_collects_repeated_credentials() -> None:
    args = build_parser().parse_args(
        ["--credential", "A:B", "--credential", "C:D:7:eve", "--port", "9000", "--data-dir", "x"]
    )
    assert [c.access_key for c in args.credential] == ["A", "C"]
    assert args.port == 9000
    assert args.data_dir == Path("x")


def _start(
    args: list[str], env: dict[str, str], banner_lines: int = 2
) -> tuple[subprocess.Popen[str], str, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ark_batch.emulator.cli", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
    )
    assert process.stdout is not None
    lines = [process.stdout.readline().strip() for _ in range(banner_lines)]
    url = lines[0].rsplit(" ", 1)[-1]
    return process, url, lines


@pytest.mark.slow
def test_console_script_prints_url_and_dev_credentials_and_serves(tmp_path: Path) -> None:
    env = {"ARK_BATCH_EMULATOR_CREDENTIALS": ""}
    process, url, lines = _start(["--data-dir", str(tmp_path)], env)
    try:
        assert lines[0].startswith("ark-batch emulator listening on http://127.0.0.1:")
        assert DEV_ACCESS_KEY in lines[1]
        assert DEV_SECRET_KEY in lines[1]
        query = query_for(LIST)
        body = json.dumps({}).encode()
        headers = signed_headers(query, body, host=url.removeprefix("http://"))
        response = httpx.post(f"{url}/?{query}", content=body, headers=headers)
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "jobs.sqlite3").exists()


@pytest.mark.slow
def test_console_script_never_prints_user_secrets(tmp_path: Path) -> None:
    env = {"ARK_BATCH_EMULATOR_CREDENTIALS": "AKENV:envsecret:77:dan"}
    process, url, lines = _start(["--data-dir", str(tmp_path)], env)
    try:
        assert "AKENV" in lines[1]
        assert "envsecret" not in "\n".join(lines)
        query = query_for(LIST)
        body = b"{}"
        creds = Credentials("AKENV", "envsecret")
        headers = signed_headers(query, body, host=url.removeprefix("http://"), credentials=creds)
        assert httpx.post(f"{url}/?{query}", content=body, headers=headers).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_config_reprs_never_show_a_secret(tmp_path: Path) -> None:
    execution = ExecutionConfig(
        backend="openai",
        openai_base_url="http://proxyuser:PROXYPASS@127.0.0.1:8000/v1",
        openai_api_key="sk-UPSTREAMKEY",
        storage_url="s3+http://STORAGEAK:STORAGESECRET@127.0.0.1:9000",
    )
    account = AccountCredential("AKPLAIN", "ACCOUNTSECRET", session_token="SESSIONTOKEN")
    config = EmulatorConfig(tmp_path, accounts=(account,), execution=execution)
    for text in (repr(execution), str(execution), repr(config), str(config)):
        for secret in (
            "PROXYPASS", "sk-UPSTREAMKEY", "STORAGEAK", "STORAGESECRET", "ACCOUNTSECRET",
            "SESSIONTOKEN",
        ):  # fmt: skip
            assert secret not in text
    assert "AKPLAIN" in repr(config)
    assert "chunk_lines=1000" in repr(execution)


@pytest.mark.parametrize(
    "url",
    [
        "s3+ftp://AK:SECRETKEY@host",
        "s3+http://AK:SECRETKEY@",
        "s3+http://AK:SECRETKEY@host:notaport",
        "s3+http://[AK:SECRETKEY@host",
    ],
)
def test_a_malformed_storage_url_is_one_redacted_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    assert main(["--storage", url, "--data-dir", str(tmp_path), "--port", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ark-batch-emulator: --storage: ")
    assert "SECRETKEY" not in captured.err
    assert "AK:" not in captured.err


def _read_until(process: subprocess.Popen[str], needle: str, timeout: float = 20.0) -> str:
    """Lines of ``process``'s output up to the first containing ``needle``."""
    assert process.stdout is not None
    stream = process.stdout
    seen: list[str] = []
    found = threading.Event()

    def pump() -> None:
        for line in stream:
            seen.append(line)
            if needle in line:
                found.set()
                return

    threading.Thread(target=pump, daemon=True).start()
    assert found.wait(timeout), "".join(seen)
    return "".join(seen)


@pytest.mark.slow
def test_access_log_prints_at_the_default_log_level(tmp_path: Path) -> None:
    process, url, _ = _start(["--data-dir", str(tmp_path), "--access-log"], {})
    try:
        query = query_for(LIST)
        headers = signed_headers(query, b"{}", host=url.removeprefix("http://"))
        assert httpx.post(f"{url}/?{query}", content=b"{}", headers=headers).status_code == 200
        assert "POST /?Action=ListBatchInferenceJobs" in _read_until(process, "POST /?Action=")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_the_banner_never_prints_credentials_in_the_openai_base_url(tmp_path: Path) -> None:
    url = "http://proxyuser:PROXYPASS@127.0.0.1:9/v1?api_key=QUERYTOKEN#access_token=FRAGTOKEN"
    args = ["--data-dir", str(tmp_path), "--model-backend", "openai", "--openai-base-url", url]
    process, _, lines = _start(args, {}, banner_lines=3)
    process.terminate()
    rest, _ = process.communicate(timeout=10)
    printed = "\n".join(lines) + rest
    for secret in ("proxyuser", "PROXYPASS", "QUERYTOKEN", "FRAGTOKEN"):
        assert secret not in printed
    assert "openai backend at http://***@127.0.0.1:9/v1?api_key=***#access_token=***" in printed


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("http://u:p@host/v1", "http://***@host/v1"),
        ("http://host/v1?token=abc&api-version=2", "http://host/v1?token=***&api-version=***"),
        ("http://host/v1?sk-bare-token", "http://host/v1?***"),
        ("http://host/v1?empty=&", "http://host/v1?empty=&"),
        ("http://host/v1#access_token=abc", "http://host/v1#access_token=***"),
        ("s3+http://[AK:SECRET@host?x=1", "s3+http://***@host?x=***"),
    ],
)
def test_redact_url_hides_user_info_and_query_values(url: str, shown: str) -> None:
    """Also inside a message, with the redacted URL left whole."""
    assert redact_url(url) == shown
    assert redact_url_in(f"cannot reach {url}", url) == f"cannot reach {shown}"


@pytest.mark.slow
@pytest.mark.parametrize("interrupts", [1, 2])
def test_ctrl_c_stops_without_a_traceback(tmp_path: Path, interrupts: int) -> None:
    process, _, _ = _start(["--data-dir", str(tmp_path)], {}, banner_lines=3)
    for _ in range(interrupts):
        process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=20)
    assert "Traceback" not in output
    assert "KeyboardInterrupt" not in output
    assert "ark-batch-emulator: stopped" in output
    # 130 is the shell's code for SIGINT; a second Ctrl-C landing after the server has
    # handed signals back may end the interpreter by SIGINT itself, which reads the same.
    assert process.returncode in (130, -signal.SIGINT)


def test_every_flag_is_documented() -> None:
    # The flags come from the parser itself, so a new flag without a line in the
    # reference fails here.
    reference = (Path(__file__).parents[2] / "docs" / "emulator.md").read_text()
    flags = [
        option
        for action in build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]
    assert len(flags) >= 20
    undocumented = [flag for flag in flags if f"| `{flag}" not in reference]
    assert undocumented == []
