"""The README's Python examples run as written against an emulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ark_batch.emulator import EmulatorConfig
from ark_batch.emulator.embedded import EmbeddedEmulator

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
def test_readme_example_runs(
    source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    # Jobs stay Queued (no execution), so the examples' output does not race a worker.
    with EmbeddedEmulator(EmulatorConfig(data_dir=tmp_path / "state")) as emulator:
        monkeypatch.setenv("ARK_BATCH_ENDPOINT", emulator.url)
        monkeypatch.setenv("VOLCENGINE_ACCESS_KEY", emulator.credentials.access_key)
        monkeypatch.setenv("VOLCENGINE_SECRET_KEY", emulator.credentials.secret_key)
        for name in ("VOLCENGINE_SESSION_TOKEN", "VOLCENGINE_REGION"):
            monkeypatch.delenv(name, raising=False)
        exec(compile(source, str(README), "exec"), {"__name__": "readme_example"})
        out = capsys.readouterr().out
        if "create_" not in source:
            # An example that starts its own emulator prints where it serves.
            assert re.search(r"^http://127\.0\.0\.1:\d+ AKLT", out), out
            return
        printed = re.findall(r"bi-\d{14}-[a-z0-9]{5}", out)
        assert printed, out
        # Every job the example reports is one it really created on the emulator.
        for job_id in printed:
            job = emulator.state.store.get_any(job_id)
            assert job is not None
            assert job.name == "nightly-eval"
