"""Async: create jobs concurrently, wait for all, iterate pages and results.

Run: ``python docs/examples/async_usage.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

from _emulator import endpoint

from ark_batch import AsyncArkBatch
from ark_batch.storage import open_store


def upload_inputs(count: int) -> None:
    store = open_store(os.environ["ARK_BATCH_STORE"])
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(count):
            path = Path(tmp) / f"part-{n}.jsonl"
            lines = [
                {
                    "custom_id": f"p{n}-{i}",
                    "body": {"messages": [{"role": "user", "content": "hi"}]},
                }
                for i in range(5)
            ]
            path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
            store.upload_file("my-bucket", f"inputs/part-{n}.jsonl", path)


async def main() -> None:
    upload_inputs(3)
    store = open_store(os.environ["ARK_BATCH_STORE"])
    async with AsyncArkBatch(store=store) as ark:
        created = await asyncio.gather(
            *(
                ark.create_job(
                    name=f"part-{n}",
                    model="doubao-pro-32k:240615",
                    input=f"my-bucket/inputs/part-{n}.jsonl",
                    output="my-bucket/outputs/",
                )
                for n in range(3)
            )
        )
        jobs = await asyncio.gather(
            *(
                ark.wait(c.id, poll_interval=0.2, timeout=60, raise_on_failure=False)
                for c in created
            )
        )
        for job in jobs:
            print(f"{job.name}: {job.status.phase}")

        names = [job.name async for job in ark.iter_jobs(page_size=2)]
        print(f"listed {len(names)} jobs")

        ok = [record.custom_id async for record in ark.results(jobs[0])]
        failed = [record.custom_id async for record in ark.errors(jobs[0])]
        print(f"{jobs[0].name}: {len(ok)} results, {len(failed)} errors")


if __name__ == "__main__":
    with endpoint():
        asyncio.run(main())
