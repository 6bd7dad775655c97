"""Smoke test: the signing benchmark runs end to end (tiny sizes; figures not checked)."""

from __future__ import annotations

import re

from benchmarks import signing


def test_signing_benchmark_reports_all_three_signers_and_a_ratio() -> None:
    line, detail = signing.run(ops=50, repeats=1)
    assert "core vs official" in detail
    assert re.search(
        r"official [\d.]+ us/op \| ours \(httpx.Auth\) [\d.]+ us/op \| ours \(core\) [\d.]+ us/op"
        r" \| ratio [\d.]+x \(target >= 2.5x\)",
        line,
    ), line
