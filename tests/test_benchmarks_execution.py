"""Smoke test: the execution benchmark runs end to end (tiny input; figures not checked)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.slow
def test_execution_benchmark_reports_the_job_against_the_json_floor() -> None:
    from benchmarks import execution  # noqa: PLC0415

    lines = execution.run(lines=2_500)
    text = "\n".join(lines)
    assert "input: 2,500 lines" in text
    assert re.search(r"JSON floor .*: [\d,]+ lines/s, [\d,]+ lines per CPU second", text), text
    assert re.search(
        r"throughput: [\d,]+ lines/s = [\d.]+x the JSON floor \(target >= 0.3x\)", text
    )
    assert re.search(r"peak RSS of the executing process: \d+ MB \(target < 150\)", text), text
