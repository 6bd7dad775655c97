"""A user's ``mypy --strict`` sees the generated models and the facade's types, not Any."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_SCRIPT = """
from ark_batch import ArkBatch
from ark_batch_client import Client
from ark_batch_client.api.batch_inference_job import (
    get_batch_inference_job,
    list_batch_inference_jobs,
)
from ark_batch_client.models import GetBatchInferenceJobRequest, ListBatchInferenceJobsRequest


def use(client: Client, ark: ArkBatch) -> None:
    got = get_batch_inference_job.sync(client=client, body=GetBatchInferenceJobRequest(id="x"))
    reveal_type(got)
    page = list_batch_inference_jobs.sync(client=client, body=ListBatchInferenceJobsRequest())
    reveal_type(page)
    reveal_type(ark.get_job("x"))
"""


def test_mypy_strict_on_a_user_script_reveals_the_generated_models(tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    # An empty config: the user's project, not this repository's mypy settings.
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(script),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    revealed = [line for line in output.splitlines() if "Revealed type" in line]
    assert len(revealed) == 3, output
    assert (
        "ErrorResponse | ark_batch_client.models.get_batch_inference_job_response." in revealed[0]
    )
    assert "ListBatchInferenceJobsResponse" in revealed[1]
    assert "ark_batch_client.models.batch_inference_job.BatchInferenceJob" in revealed[2]
    assert not any("Any" in line for line in revealed), output
    assert "import-untyped" not in output
    # reveal_type notes are the only findings.
    assert "error:" not in output, output
