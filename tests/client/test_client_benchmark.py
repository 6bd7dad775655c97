"""Smoke test: the client benchmark runs end to end (tiny sizes; figures not checked)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_client_benchmark_runs() -> None:
    from benchmarks import client  # noqa: PLC0415

    lines = client.run(ops=40, repeats=1, startup_repeats=1)
    text = "\n".join(lines)
    assert "client CPU/request (sync)" in text
    assert "official List" in text
    assert "async List (default pool)" in text
    assert "ark-batch --help startup" in text
