"""Per-signature cost: official SDK signer vs ours (httpx.Auth path and core signer).

Run with ``PYTHONPATH=src python -m benchmarks.signing``. Needs ``volcenginesdk-core``
for the official signer; it is imported lazily so the package never depends on it.
The three measurements are interleaved per repeat so machine noise hits all alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from ark_batch.auth import VolcengineAuth
from ark_batch.credentials import Credentials
from ark_batch.signing import SigningKeyCache, format_x_date, sign

ACCESS_KEY = "AKLTEXAMPLEAK1234567890"
SECRET_KEY = "ExampleSecretKey+/0123456789abcdefEXAMPLE=="  # the published test-vector SK
HOST = "open.volcengineapi.com"
QUERY = "Action=GetBatchInferenceJob&Version=2024-01-01"
URL = f"https://{HOST}/?{QUERY}"
BODY = '{"Id": "bi-20240918194641-r2nwq"}'
TARGET_RATIO = 2.5


def _time_official(ops: int) -> float:
    # Lazy: the official SDK is a benchmark-only comparison, never a package dependency.
    from volcenginesdkcore.signv4 import SignerV4  # noqa: PLC0415

    query = [("Action", "GetBatchInferenceJob"), ("Version", "2024-01-01")]
    start = time.perf_counter_ns()
    for _ in range(ops):
        # The SDK mutates the dict it signs, so a real call builds a fresh one each time.
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "volcstack-python-sdk/5.0.54",
            "Host": HOST,
        }
        SignerV4.sign(
            "/", "POST", headers, BODY, [], query, ACCESS_KEY, SECRET_KEY, "cn-beijing", "ark"
        )
    return (time.perf_counter_ns() - start) / ops


def _time_auth(ops: int, auth: VolcengineAuth, client: httpx.Client) -> float:
    # Requests are built outside the timed loop: only the auth flow is measured.
    requests = [
        client.build_request(
            "POST", URL, content=BODY.encode(), headers={"Content-Type": "application/json"}
        )
        for _ in range(ops)
    ]
    start = time.perf_counter_ns()
    for request in requests:
        next(auth.sync_auth_flow(request))
    return (time.perf_counter_ns() - start) / ops


def _time_core(ops: int, key_cache: SigningKeyCache) -> float:
    body = BODY.encode()
    start = time.perf_counter_ns()
    for _ in range(ops):
        sign(
            method="POST",
            path="/",
            query=QUERY,
            headers={"Host": HOST, "Content-Type": "application/json"},
            body=body,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            region="cn-beijing",
            service="ark",
            x_date=format_x_date(datetime.now(UTC)),
            key_cache=key_cache,
        )
    return (time.perf_counter_ns() - start) / ops


def run(ops: int = 2000, repeats: int = 9) -> list[str]:
    """Measure the three signers side by side; return printable result lines."""
    auth = VolcengineAuth(Credentials(ACCESS_KEY, SECRET_KEY), region="cn-beijing")
    key_cache = SigningKeyCache()
    samples: dict[str, list[float]] = {"official": [], "auth": [], "core": []}
    runners: dict[str, Callable[[], float]] = {
        "official": lambda: _time_official(ops),
        "auth": lambda: _time_auth(ops, auth, client),
        "core": lambda: _time_core(ops, key_cache),
    }
    with httpx.Client() as client:
        for runner in runners.values():  # warm-up: imports, caches, signing keys
            runner()
        for _ in range(repeats):
            for name, runner in runners.items():
                samples[name].append(runner())
    official, ours_auth, ours_core = (
        statistics.median(samples[name]) / 1000 for name in ("official", "auth", "core")
    )
    ratio = official / ours_auth
    return [
        f"signing  official {official:.1f} us/op | ours (httpx.Auth) {ours_auth:.1f} us/op | "
        f"ours (core) {ours_core:.1f} us/op | ratio {ratio:.1f}x (target >= {TARGET_RATIO}x)",
        f"         medians of {repeats} repeats x {ops} signatures; "
        f"core vs official {official / ours_core:.1f}x",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
