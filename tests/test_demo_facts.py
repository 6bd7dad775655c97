"""The quick-start demo restates no API fact: phases and the Version come from the spec."""

from __future__ import annotations

import re
from pathlib import Path

from ark_batch import demo
from ark_batch_client.models.job_phase import JOB_PHASE_VALUES


def test_the_demo_names_no_phase_and_no_version() -> None:
    source = Path(demo.__file__).read_text(encoding="utf-8")
    quoted = set(re.findall(r"[\"']([^\"']+)[\"']", source))
    assert not quoted & set(JOB_PHASE_VALUES)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", source)  # an API Version
    assert "results.jsonl" not in source  # the output layout is ark_batch.results.
