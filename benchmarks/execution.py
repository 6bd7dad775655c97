"""Job execution throughput: 1,000,000 input lines through the echo backend.

The job runs in a child process that is a bare emulator core (job store, execution
worker, local object store, no HTTP server), so its peak RSS is execution's own. The
figure covers the whole job: validation pass, execution, publishing the output files.
Run with ``python -m benchmarks execution``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

LINES = 1_000_000
TARGET_LINES_PER_S = 20_000
TARGET_RSS_MB = 150
_LINE = (
    '{"custom_id": "request-%07d", "body": {"messages": ['
    '{"role": "system", "content": "You are a helpful assistant."}, '
    '{"role": "user", "content": "Summarise item number %d in one sentence."}], '
    '"max_tokens": 64}}\n'
)


def _write_input(data_dir: Path) -> int:
    from ark_batch.storage import LocalObjectStore  # noqa: PLC0415

    objects = LocalObjectStore(data_dir / "objects")
    size = 0
    with objects.open_writer("bench", "in/batch.jsonl") as writer:
        for start in range(0, LINES, 10_000):
            chunk = "".join(_LINE % (i, i) for i in range(start, start + 10_000)).encode()
            size += len(chunk)
            writer.write(chunk)
    return size


def _child(data_dir: Path) -> None:
    """Create the job, run it to the end with an `ExecutionWorker`, print the figures."""
    from ark_batch.emulator.backend import Backend  # noqa: PLC0415
    from ark_batch.emulator.config import dev_credential  # noqa: PLC0415
    from ark_batch.emulator.execution import ExecutionConfig, ExecutionWorker  # noqa: PLC0415
    from ark_batch.emulator.store import JobStore  # noqa: PLC0415

    def clock() -> datetime:
        return datetime.now(UTC)

    jobs = JobStore.open(data_dir, clock)
    job_id = Backend(jobs, clock).create(
        dev_credential(),
        {
            "Name": "bench",
            "ModelReference": {"FoundationModel": {"Name": "doubao-pro", "ModelVersion": "1"}},
            "InputFileTosLocation": {"BucketName": "bench", "ObjectKey": "in/batch.jsonl"},
            "OutputDirTosLocation": {"BucketName": "bench", "ObjectKey": "out/"},
        },
    )["Id"]
    worker = ExecutionWorker(jobs, ExecutionConfig(poll_interval=0.01), data_dir, clock)
    started = time.perf_counter()
    worker.start()
    running_at = None
    while True:
        job = jobs.get_any(job_id)
        assert job is not None
        if running_at is None and job.total:
            running_at = time.perf_counter()  # validation done: Total is known
        if job.phase in ("Completed", "Failed", "Terminated"):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    worker.stop()
    jobs.close()
    print(
        json.dumps(
            {
                "phase": job.phase,
                "message": job.status_message,
                "completed": job.completed,
                "elapsed": elapsed,
                "validation": (running_at or started) - started,
                "max_rss_kb": _peak_rss_kb(),
            }
        )
    )


def _peak_rss_kb() -> int:
    """This process's peak RSS since it started.

    Linux keeps ``ru_maxrss`` across ``execve``, so a child would report its parent's
    high-water mark from before the fork; ``VmHWM`` belongs to the new address space.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run() -> list[str]:
    """Measure and return printable lines."""
    with tempfile.TemporaryDirectory(prefix="ark-batch-bench-") as tmp:
        data_dir = Path(tmp)
        size = _write_input(data_dir)
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.execution", "--child", str(data_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        output = data_dir / "objects" / "bench" / "out"
        output_size = sum(path.stat().st_size for path in output.rglob("*.jsonl"))
    if figures["phase"] != "Completed" or figures["completed"] != LINES:
        return [f"execution FAILED: {figures['phase']}: {figures['message']}"]
    rate = LINES / figures["elapsed"]
    # The child's own figure: RUSAGE_CHILDREN would be the largest child this process ever
    # waited for, e.g. the emulator benchmark's server under `python -m benchmarks`.
    rss_mb = figures["max_rss_kb"] / 1024
    return [
        f"input: {LINES:,} lines, {size / 1e6:.0f} MB; output: {output_size / 1e6:.0f} MB",
        f"whole job (validate + execute + publish): {figures['elapsed']:.1f} s "
        f"(validation {figures['validation']:.1f} s)",
        f"throughput: {rate:,.0f} lines/s (target >= {TARGET_LINES_PER_S:,}) "
        f"{'OK' if rate >= TARGET_LINES_PER_S else 'MISSED'}",
        f"peak RSS of the executing process: {rss_mb:.0f} MB (target < {TARGET_RSS_MB}) "
        f"{'OK' if rss_mb < TARGET_RSS_MB else 'MISSED'}",
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]))
    else:
        for line in run():
            print(line)
