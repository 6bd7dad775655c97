"""Job execution throughput: 1,000,000 input lines through the echo backend.

The job runs in a child process that is a bare emulator core (job store, execution
worker, local object store, no HTTP server), so its peak RSS is execution's own. The
figure covers the whole job: validation pass, execution, publishing the output files.

The target is relative: at least 0.3x "the JSON floor", ``json.loads`` + ``json.dumps``
of the same input lines, measured in the same run just before and just after the job
(the faster of the two counts, so load on the machine cannot flatter the ratio).
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
TARGET_FLOOR_RATIO = 0.3
TARGET_RSS_MB = 150
_LINE = (
    '{"custom_id": "request-%07d", "body": {"messages": ['
    '{"role": "system", "content": "You are a helpful assistant."}, '
    '{"role": "user", "content": "Summarise item number %d in one sentence."}], '
    '"max_tokens": 64}}\n'
)


def _write_input(data_dir: Path, lines: int) -> int:
    from ark_batch.storage import LocalObjectStore  # noqa: PLC0415

    objects = LocalObjectStore(data_dir / "objects")
    size = 0
    with objects.open_writer("bench", "in/batch.jsonl") as writer:
        for start in range(0, lines, 10_000):
            stop = min(start + 10_000, lines)
            chunk = "".join(_LINE % (i, i) for i in range(start, stop)).encode()
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
    cpu_started = time.process_time()
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
    cpu = time.process_time() - cpu_started
    worker.stop()
    jobs.close()
    print(
        json.dumps(
            {
                "phase": job.phase,
                "message": job.status_message,
                "completed": job.completed,
                "elapsed": elapsed,
                "cpu": cpu,
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


def json_floor(path: Path) -> tuple[float, float]:
    """``json.loads`` + ``json.dumps`` of every line of `path`: (wall, CPU) seconds."""
    loads, dumps = json.loads, json.dumps
    cpu_started = time.process_time()
    started = time.perf_counter()
    with path.open("rb") as source:
        for line in source:
            dumps(loads(line))
    return time.perf_counter() - started, time.process_time() - cpu_started


def run(lines: int = LINES) -> list[str]:
    """Measure a job of `lines` lines and return printable lines."""
    with tempfile.TemporaryDirectory(prefix="ark-batch-bench-") as tmp:
        data_dir = Path(tmp)
        size = _write_input(data_dir, lines)
        input_path = data_dir / "objects" / "bench" / "in" / "batch.jsonl"
        floors = [json_floor(input_path)]
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.execution", "--child", str(data_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        floors.append(json_floor(input_path))
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        output = data_dir / "objects" / "bench" / "out"
        output_size = sum(path.stat().st_size for path in output.rglob("*.jsonl"))
    if figures["phase"] != "Completed" or figures["completed"] != lines:
        return [f"execution FAILED: {figures['phase']}: {figures['message']}"]
    rate = lines / figures["elapsed"]
    cpu_rate = lines / figures["cpu"]
    floor_rate = lines / min(wall for wall, _ in floors)
    floor_cpu_rate = lines / min(cpu for _, cpu in floors)
    ratio = rate / floor_rate
    # The child's own figure: RUSAGE_CHILDREN would be the largest child this process ever
    # waited for, e.g. the emulator benchmark's server under `python -m benchmarks`.
    rss_mb = figures["max_rss_kb"] / 1024
    return [
        f"input: {lines:,} lines, {size / 1e6:.0f} MB; output: {output_size / 1e6:.0f} MB",
        f"whole job (validate + execute + publish): {figures['elapsed']:.1f} s "
        f"(validation {figures['validation']:.1f} s), {figures['cpu']:.1f} s CPU",
        f"JSON floor (json.loads + json.dumps per line, best of before/after the job): "
        f"{floor_rate:,.0f} lines/s, {floor_cpu_rate:,.0f} lines per CPU second",
        f"throughput: {rate:,.0f} lines/s = {ratio:.2f}x the JSON floor "
        f"(target >= {TARGET_FLOOR_RATIO}x) {'OK' if ratio >= TARGET_FLOOR_RATIO else 'MISSED'}; "
        f"per CPU second {cpu_rate:,.0f} lines = {cpu_rate / floor_cpu_rate:.2f}x",
        f"peak RSS of the executing process: {rss_mb:.0f} MB (target < {TARGET_RSS_MB}) "
        f"{'OK' if rss_mb < TARGET_RSS_MB else 'MISSED'}",
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]))
    else:
        for line in run():
            print(line)
