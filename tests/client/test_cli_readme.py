"""The README's command-line session runs as written against an executing emulator."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from ark_batch.emulator import EmulatorConfig
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.emulator.execution import ExecutionConfig
from client.cli_support import lines, run

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _session() -> list[str]:
    section = README.split("## The command line", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_the_readme_cli_session_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = EmulatorConfig(
        data_dir=tmp_path / "emulator-data", execution=ExecutionConfig(poll_interval=0.02)
    )
    example = ROOT / "docs" / "examples" / "questions.jsonl"
    variables: dict[str, str] = {}
    outputs: list[str] = []
    with EmbeddedEmulator(config) as emulator:
        env = {"ARK_BATCH_ENDPOINT": emulator.url.removeprefix("http://")}
        for line in _session():
            assigned = re.fullmatch(r"(\w+)=\$\((.*)\)", line)
            command = assigned.group(2) if assigned else line
            for name, value in variables.items():
                command = command.replace(f"${name}", value)
            command = command.replace("docs/examples/questions.jsonl", str(example))
            words = shlex.split(command)
            assert words[0] == "ark-batch"
            result = run(*words[1:], env=env)
            assert result.exit_code == 0, f"{line}\n{result.output}"
            if assigned:
                variables[assigned.group(1)] = result.stdout.strip()
            outputs.append(result.stdout)
    job_id = variables["JOB"]
    count = len(lines(example.read_text(encoding="utf-8")))
    saved = tmp_path / "out" / f"{job_id}.results.jsonl"
    assert len(saved.read_text(encoding="utf-8").splitlines()) == count
    streamed = [json.loads(x) for x in outputs[3].splitlines()]
    assert sorted(r["custom_id"] for r in streamed) == [f"q-{n}" for n in range(1, count + 1)]
    assert job_id in outputs[2]  # get
    assert outputs[4].startswith(job_id)  # list --phase completed
