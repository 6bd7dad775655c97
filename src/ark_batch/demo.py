"""The quick-start job: a batch job from JSONL to results against an embedded emulator.

``python -m ark_batch.demo`` starts the emulator on loopback (signature checks on, jobs
executed by the built-in echo model), uploads a JSONL input, then drives the *generated*
client, signed by :func:`ark_batch.make_client`: Create → Get → List → poll Get until the
job ends, and prints where the results and errors are. Needs the ``emulator`` extra.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from ark_batch._api import FAILED_PHASES
from ark_batch.connect import make_client
from ark_batch.emulator import EmulatorConfig
from ark_batch.emulator.embedded import EmbeddedEmulator
from ark_batch.emulator.execution import ExecutionConfig
from ark_batch.results import error_locations, results_location
from ark_batch.storage import LocalObjectStore
from ark_batch.waiter import is_terminal
from ark_batch_client import Client
from ark_batch_client.api.batch_inference_job import (
    create_batch_inference_job,
    get_batch_inference_job,
    list_batch_inference_jobs,
)
from ark_batch_client.models import (
    BatchInferenceJob,
    CreateBatchInferenceJobRequest,
    ErrorResponse,
    FoundationModelInput,
    GetBatchInferenceJobRequest,
    ListBatchInferenceJobsRequest,
    ListFilter,
    ModelReferenceInput,
    TagInput,
    TosLocationInput,
)

T = TypeVar("T")

BUCKET = "demo-bucket"
INPUT_KEY = "batch-inference-job/dataset/demo.jsonl"
OUTPUT_PREFIX = "batch-inference-job/output/"


class DemoError(RuntimeError):
    """The service answered an error the demo cannot go on from."""


def _ok(response: T | ErrorResponse | None) -> T:
    if isinstance(response, ErrorResponse):
        error = response.response_metadata.error
        raise DemoError(f"{error.code}: {error.message}")
    if response is None:
        raise DemoError("undocumented response")
    return response


def write_input(store: LocalObjectStore, lines: int) -> None:
    """Upload ``lines`` chat requests, one JSON object per line."""
    topics = ["the sea", "a lighthouse", "autumn", "a train", "the moon"]
    with store.open_writer(BUCKET, INPUT_KEY) as out:
        for n in range(lines):
            request = {
                "custom_id": f"request-{n:05d}",
                "body": {
                    "messages": [
                        {"role": "system", "content": "You are a poet."},
                        {"role": "user", "content": f"Write a haiku about {topics[n % 5]}."},
                    ],
                    "max_tokens": 64,
                },
            }
            out.write(json.dumps(request).encode() + b"\n")


def wait_for(client: Client, job_id: str, timeout: float) -> BatchInferenceJob:
    """Poll Get until the job is in a terminal phase, printing every change."""
    deadline = time.monotonic() + timeout
    seen = ""
    while True:
        body = GetBatchInferenceJobRequest(id=job_id)
        job = _ok(get_batch_inference_job.sync(client=client, body=body)).result
        counts = job.request_counts
        line = f"{job.status.phase}: {counts.completed} completed, {counts.failed} failed"
        line += f" of {counts.total}"
        if line != seen:
            print(f"  {line}")
            seen = line
        if is_terminal(job):
            return job
        if time.monotonic() > deadline:
            raise DemoError(f"job {job_id} did not finish within {timeout:.0f} s")
        time.sleep(0.1)


def run(data_dir: Path, lines: int, failure_rate: float, latency: float) -> BatchInferenceJob:
    """Start the emulator over ``data_dir`` and push one job through; returns the job."""
    execution = ExecutionConfig(
        failure_rate=failure_rate, failure_seed="demo", latency=latency, poll_interval=0.05
    )
    config = EmulatorConfig(data_dir=data_dir, execution=execution)
    with EmbeddedEmulator(config) as emulator:
        print(f"emulator   {emulator.url}  (signatures verified, data in {data_dir})")
        store = LocalObjectStore(data_dir / "objects")
        write_input(store, lines)
        print(f"input      tos://{BUCKET}/{INPUT_KEY}  ({lines} requests)")

        with make_client(emulator.url, credentials=emulator.credentials) as client:
            request = CreateBatchInferenceJobRequest(
                name="quick-start",
                description="ark-batch quick start",
                model_reference=ModelReferenceInput(
                    foundation_model=FoundationModelInput(
                        name="doubao-pro-32k", model_version="240615"
                    )
                ),
                input_file_tos_location=TosLocationInput(bucket_name=BUCKET, object_key=INPUT_KEY),
                output_dir_tos_location=TosLocationInput(
                    bucket_name=BUCKET, object_key=OUTPUT_PREFIX
                ),
                tags=[TagInput(key="purpose", value="quick-start")],
            )
            created = _ok(create_batch_inference_job.sync(client=client, body=request))
            job_id = created.result.id
            print(f"created    {job_id}  (RequestId {created.response_metadata.request_id})")

            listed = _ok(
                list_batch_inference_jobs.sync(
                    client=client,
                    body=ListBatchInferenceJobsRequest(filter_=ListFilter(ids=[job_id])),
                )
            ).result
            listed_ids = [j.id for j in listed.items or []]
            print(f"listed     TotalCount={listed.total_count}  {listed_ids}")

            print("waiting")
            job = wait_for(client, job_id, timeout=300)

        bucket, results_key = results_location(job)
        print(f"status     {job.status.phase}: {job.status.message}")
        print(f"results    tos://{bucket}/{results_key}")
        print(f"           {data_dir / 'objects' / bucket / results_key}")
        if job.request_counts.failed:
            errors_bucket, errors_key = error_locations(job)[0]
            print(f"errors     tos://{errors_bucket}/{errors_key}")
            print(f"           {data_dir / 'objects' / errors_bucket / errors_key}")
        first = next(iter(store.iter_lines(bucket, results_key)), None)
        if first is not None:
            record = json.loads(first)
            answer = record["response"]["body"]["choices"][0]["message"]["content"]
            print(f"first      {record['custom_id']}: {answer[:70]!r}")
        return job


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ark_batch.demo", description=__doc__)
    parser.add_argument("--lines", type=int, default=500, help="requests in the input file")
    parser.add_argument(
        "--failure-rate",
        type=float,
        default=0.02,
        help="fraction of requests the emulator fails on purpose, to show the errors file",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.02,
        help="seconds the echo model takes per request, so the lifecycle can be watched",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("emulator-data"),
        help="the emulator's state and object store; kept afterwards (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.lines < 1:
        parser.error("--lines must be at least 1")
    try:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        job = run(args.data_dir.resolve(), args.lines, args.failure_rate, args.latency)
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 1 if job.status.phase in FAILED_PHASES else 0


if __name__ == "__main__":
    sys.exit(main())
