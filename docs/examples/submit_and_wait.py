"""Submit a batch job and wait for it: upload a JSONL, create, wait with progress, read.

Run: ``python docs/examples/submit_and_wait.py`` (an in-process emulator is started
unless ARK_BATCH_ENDPOINT is set; see _emulator.py).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from _emulator import endpoint

from ark_batch import ArkBatch
from ark_batch.storage import open_store
from ark_batch_client.models import JobStatus, RequestCounts


def main() -> None:
    store = open_store(os.environ["ARK_BATCH_STORE"])

    # 1. The input: one chat request per line, each with a unique custom_id.
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "questions.jsonl"
        with source.open("w", encoding="utf-8") as out:
            for n, question in enumerate(["What is 2+2?", "Name a colour.", "Say hi."] * 4):
                line = {
                    "custom_id": f"q-{n}",
                    "body": {"messages": [{"role": "user", "content": question}]},
                }
                out.write(json.dumps(line) + "\n")
        store.upload_file("my-bucket", "inputs/questions.jsonl", source)

    def show(status: JobStatus, counts: RequestCounts) -> None:
        print(f"  {status.phase}: {counts.completed} ok, {counts.failed} failed of {counts.total}")

    with ArkBatch(store=store) as ark:  # endpoint and credentials from the environment
        # 2. Create. Re-running while the job is Queued/Running returns the same Id.
        created = ark.create_job(
            name="questions",
            model="doubao-pro-32k:240615",
            input="tos://my-bucket/inputs/questions.jsonl",
            output="tos://my-bucket/outputs/",
            completion_window="1d",
        )
        print(f"created {created.id}")

        # 3. Wait (raises JobFailedError if it ends Failed/Terminated, WaitTimeoutError
        #    after `timeout` seconds).
        job = ark.wait(created.id, poll_interval=0.2, timeout=60, on_update=show)

        # 4. Stream the results and the errors as typed records.
        for record in ark.results(job):
            print(f"  {record.custom_id}: {record.content!r}")
        for record in ark.errors(job):
            assert record.error is not None
            print(f"  {record.custom_id} failed: {record.error.code} {record.error.message}")
        counts = job.request_counts
        print(f"done: {counts.completed} results, {counts.failed} errors")


if __name__ == "__main__":
    with endpoint():
        main()
