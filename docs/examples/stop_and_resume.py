"""Stop a job, resume it, rename it and delete it; stop a job when your code fails.

Run: ``python docs/examples/stop_and_resume.py`` (an in-process emulator is started
unless ARK_BATCH_ENDPOINT is set; see _emulator.py).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from _emulator import endpoint

from ark_batch import ArkBatch
from ark_batch.errors import NotFoundError
from ark_batch.storage import open_store


def main() -> None:
    store = open_store(os.environ["ARK_BATCH_STORE"])
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "lines.jsonl"
        with source.open("w", encoding="utf-8") as out:
            for n in range(2000):
                body = {"messages": [{"role": "user", "content": f"Line {n}"}]}
                out.write(json.dumps({"custom_id": f"line-{n}", "body": body}) + "\n")
        store.upload_file("my-bucket", "inputs/lines.jsonl", source)

    with ArkBatch(store=store) as ark:
        job_id = ark.create_job(
            name="lines",
            model="doubao-pro-32k:240615",
            input="tos://my-bucket/inputs/lines.jsonl",
            output="tos://my-bucket/outputs/",
        ).id

        # 1. Stop: Queued/Running -> Terminating -> Terminated. Lines already run keep
        #    their results; RequestCounts say how many.
        ark.stop_job(job_id)
        stopped = ark.wait(job_id, poll_interval=0.1, timeout=60, raise_on_failure=False)
        print(f"stopped: {stopped.status.phase}")

        # 2. Resume: only the lines without a result run; every line ends up exactly once.
        ark.resume_job(job_id)
        job = ark.wait(job_id, poll_interval=0.1, timeout=60)
        ids = {record.custom_id for record in ark.records(job)}
        counts = job.request_counts
        print(f"resumed: {job.status.phase}, {len(ids)} distinct lines of {counts.total}")

        # 3. Update the name or description (nothing else can change).
        ark.update_job(job_id, name="lines-v2", description="stopped once, resumed")
        print(f"renamed: {ark.get_job(job_id).name}")

        # 4. Delete an ended job: Get and List forget it; its output objects stay.
        ark.delete_job(job_id)
        try:
            ark.get_job(job_id)
        except NotFoundError as exc:
            print(f"deleted: {exc.code}")

        # 5. Stop the job if your own code fails while it runs (Ctrl-C included).
        other = ark.create_job(
            name="guarded",
            model="doubao-pro-32k:240615",
            input="tos://my-bucket/inputs/lines.jsonl",
            output="tos://my-bucket/outputs/",
        ).id
        try:
            with ark.stop_on_error(other):
                raise RuntimeError("the code waiting for the job failed")
        except RuntimeError:
            phase = ark.get_job(other).status.phase
            print(f"guarded job stopped: {phase in ('Terminating', 'Terminated')}")

        # wait(..., cancel_on_timeout=True) stops a job that outlives your patience.


if __name__ == "__main__":
    # 20 ms per line (16 in flight): a job runs for a few seconds, long enough to stop it
    # on purpose.
    with endpoint(latency=0.02):
        main()
