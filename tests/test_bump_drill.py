"""The API-version bump drill: a new Version is a spec edit plus regeneration, nothing else.

On a copy of spec/, the drill adds a Version document with an optional request field
(which the job also holds, as the service echoes its Create fields), an optional job
field and a phase, regenerates the client into a temporary directory and runs
``tests/drill/smoke.py`` against that code in a subprocess. Two drills with different
names show that nothing outside spec/ knows the names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from emulator_support import spec_as_version

from ark_batch.spec import default_registry, spec_dir
from generator import pipeline

SMOKE = Path(__file__).parent / "drill" / "smoke.py"
NEW_VERSION = "2099-01-01"
#: How many checks smoke.py holds; a run that collected fewer lost some.
SMOKE_CHECKS = 12


def bump(spec: Path, request_field: str, job_field: str, phase: str) -> None:
    """Add a Version document to ``spec``, derived from the newest, with the new names."""
    document = spec_as_version(NEW_VERSION)
    schemas = document["components"]["schemas"]
    schemas["CreateBatchInferenceJobRequest"]["properties"][request_field] = {
        "type": "integer",
        "description": "A request field the drill adds.",
    }
    schemas["BatchInferenceJob"]["properties"][request_field] = {
        "type": "integer",
        "description": "The request field, as the job holds it.",
    }
    schemas["BatchInferenceJob"]["properties"].setdefault(
        job_field, {"type": "string", "description": "A job field the drill adds."}
    )
    schemas["JobPhase"]["enum"].append(phase)
    target = spec / f"openapi-{NEW_VERSION}.yaml"
    target.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("request_field", "job_field", "phase"),
    [("Priority", "Priority", "Paused"), ("Urgency", "OwnerTeam", "Suspended")],
)
def test_a_version_bump_needs_no_edit_outside_spec(
    tmp_path: Path, request_field: str, job_field: str, phase: str
) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(spec_dir(), spec)
    bump(spec, request_field, job_field, phase)
    generated = tmp_path / "generated"
    pipeline.generate(generated, spec=spec)

    facts = {
        "spec_dir": str(spec),
        "old_version": default_registry().newest,
        "new_version": NEW_VERSION,
        "request_field": request_field,
        "job_field": job_field,
        "phase": phase,
    }
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(generated), os.environ.get("PYTHONPATH", "")]),
        "ARK_BATCH_DRILL": json.dumps(facts),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(SMOKE), "-q", "-p", "no:cacheprovider"],
        cwd=Path(__file__).parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in [\d.]+s", summary), result.stdout
    assert int(summary.split()[0]) >= SMOKE_CHECKS, result.stdout
