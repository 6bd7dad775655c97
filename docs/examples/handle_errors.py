"""Handle errors: typed API errors, the active-job rule, dry runs, retries, timeouts.

Run: ``python docs/examples/handle_errors.py``.
"""

from __future__ import annotations

import attrs
from _emulator import endpoint

from ark_batch import ArkBatch, RetryPolicy, create_request, errors


def main() -> None:
    # Retries (throttling, 5xx and connection errors on Get/List) are on by default;
    # this client allows 6 attempts within 30 s, and one call below turns them off.
    with ArkBatch(retry=RetryPolicy(max_attempts=6, total_timeout=30)) as ark:
        # A documented service error carries status, code, message and RequestId.
        try:
            ark.get_job("bi-20240101000000-nojob", retry=RetryPolicy(max_attempts=1))
        except errors.NotFoundError as exc:
            print(f"not found: {exc.code} (HTTP {exc.status}, RequestId {exc.request_id})")

        # Validation errors: a dry run raises what a real Create would, and returns None
        # when the request would be accepted.
        request = create_request(
            name="eval",
            model="doubao-pro-32k:240615",
            input="my-bucket/inputs/eval.jsonl",
            output="my-bucket/outputs/",
        )
        try:
            ark.validate_job(attrs.evolve(request, completion_window="90d"))
        except errors.InvalidParameterError as exc:
            print(f"invalid: {exc.code}: {exc.message}")
        ark.validate_job(request)
        print("dry run passed")

        # One active job per project + input file: a second Create returns the first
        # job's Id; on_active_job="raise" makes it an error instead.
        first = ark.create_job(request)
        assert ark.create_job(request).id == first.id
        try:
            ark.create_job(request, on_active_job="raise")
        except errors.ActiveJobExistsError as exc:
            print(f"already running: {exc.job_id}")

        # Waiting has its own errors: a timeout keeps the last state seen.
        try:
            ark.wait(first.id, poll_interval=0.05, timeout=0)
        except errors.WaitTimeoutError as exc:
            print(f"timed out while {exc.job.status.phase if exc.job else 'unanswered'}")
        except errors.JobFailedError as exc:
            print(f"job failed: {exc.message}")

        # Everything derives from ArkBatchError; transport failures are TransportError.
        with ArkBatch("http://127.0.0.1:9", retry=RetryPolicy(max_attempts=2)) as down:
            try:
                down.list_jobs()
            except errors.TransportError as exc:
                print(f"transport: {type(exc).__name__}, request sent: {exc.sent}")


if __name__ == "__main__":
    with endpoint(execute=False):  # jobs stay Queued: the output does not race the worker
        main()
