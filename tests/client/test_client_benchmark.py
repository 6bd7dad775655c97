"""Smoke test: the client benchmark runs end to end (tiny sizes; figures not checked)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.slow
def test_client_benchmark_runs_every_client_and_action() -> None:
    from benchmarks import client  # noqa: PLC0415

    lines = client.run(ops=20, async_ops=32, repeats=1, startup_repeats=1)
    text = "\n".join(lines)
    assert text.startswith("machine: ")
    assert "versions: " in text
    for name in (
        client.OFFICIAL,
        client.GENERATED,
        client.GENERATED_STOCK,
        client.FACADE,
        client.FACADE_STOCK,
        client.FLOOR,
    ):
        for action in ("Create", "List"):
            assert f"{name:<48} {action}" in text
    for pool in client.POOL_SIZES:
        assert f"AsyncArkBatch(max_connections={pool}) Create:" in text
        # The default runs on httpx-aiohttp (installed for the tests): the stock transport
        # is measured beside it.
        assert f"AsyncArkBatch, stock httpx transport ({pool} conn.)" in text
    # The async CPU verdict shows each median's range over the repeats.
    assert re.search(r"us CPU/req \(\d+-\d+\) vs ArkBatch \d+ \(\d+-\d+; target <=", text)
    assert "generated Create:" in text
    # pyreqwest is installed for the tests: the default rows say they measured it.
    assert "sync transport of make_client() and ArkBatch: pyreqwest" in text
    assert "ark-batch --help startup" in text


def test_the_stub_refuses_a_bad_signature() -> None:
    from ark_batch import ArkBatch  # noqa: PLC0415
    from ark_batch.credentials import Credentials  # noqa: PLC0415
    from ark_batch.errors import ApiError  # noqa: PLC0415
    from ark_batch.retries import NO_RETRY  # noqa: PLC0415
    from benchmarks.stub import ACCESS_KEY, JOB_ID, SECRET_KEY, StubServer  # noqa: PLC0415

    with StubServer() as stub:
        with ArkBatch(stub.url, credentials=Credentials(ACCESS_KEY, SECRET_KEY)) as ark:
            assert ark.get_job(JOB_ID).id == JOB_ID
        wrong = Credentials(ACCESS_KEY, "not-the-secret")
        with (
            ArkBatch(stub.url, credentials=wrong, retry=NO_RETRY) as ark,
            pytest.raises(ApiError) as raised,
        ):
            ark.get_job(JOB_ID)
    assert raised.value.status == 401
