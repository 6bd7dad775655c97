"""List and filter jobs: one page, every page lazily, filters by phase, name and tag.

Run: ``python docs/examples/list_and_filter.py``.
"""

from __future__ import annotations

from _emulator import endpoint

from ark_batch import ArkBatch


def main() -> None:
    with ArkBatch() as ark:
        for n in range(12):
            ark.create_job(
                name=f"nightly-eval-{n}" if n % 3 else f"adhoc-{n}",
                model="doubao-pro-32k:240615",
                input=f"my-bucket/inputs/part-{n}.jsonl",
                output="my-bucket/outputs/",
                tags={"team": "search" if n % 2 else "ads"},
            )

        # One page: .items and .total_count (newest first by default).
        page = ark.list_jobs(page_size=5)
        print(f"first page: {len(page.items or [])} of {page.total_count} jobs")

        # Every job, fetched page by page only as the loop needs them.
        every = list(ark.iter_jobs(page_size=5))
        print(f"all pages: {len(every)} jobs")

        # Filters combine with AND; Name is a case-insensitive substring.
        nightly = [job.name for job in ark.iter_jobs(name="NIGHTLY", tags={"team": ["search"]})]
        print(f"nightly jobs of team search: {sorted(nightly)}")

        # Phases; oldest first.
        for job in ark.iter_jobs(phases=["Queued", "Running", "Completed"], sort_order="Asc"):
            counts = job.request_counts
            print(f"  {job.id}  {job.name:<16} {job.status.phase:<9} {counts.total} requests")
            break


if __name__ == "__main__":
    with endpoint(execute=False):  # jobs stay Queued: the output does not race the worker
        main()
