"""Memory stays flat with input size: streaming, on-disk id index, spooled output."""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path

import pytest

from ark_batch.emulator.execution import ExecutionConfig, JobRunner, build_backend, output_keys
from ark_batch.emulator.execution.progress import ProgressStore
from execution.execution_helpers import ExecEnv

LINE = '{"custom_id": "mem-%06d", "body": {"messages": [{"role": "user", "content": "%s"}]}}\n'


def _traced_run(env: ExecEnv, tmp_path: Path, lines: int) -> tuple[int, int]:
    """Run a `lines`-line job in this thread; ``(peak traced bytes, results file size)``."""
    key = f"in/mem-{lines}.jsonl"
    with env.objects.open_writer(env.bucket, key) as writer:
        for start in range(0, lines, 2_000):
            chunk = "".join(LINE % (i, "word " * 40) for i in range(start, start + 2_000))
            writer.write(chunk.encode())
    job_id = env.create(key)
    env.jobs.transition(job_id, "Running", "The job is running.", env.clock())
    config = ExecutionConfig(failure_rate=0.05, chunk_lines=500)
    progress = ProgressStore(tmp_path / f"progress-{lines}.sqlite3")
    runner = JobRunner(
        jobs=env.jobs,
        progress=progress,
        objects=env.objects,
        backend=build_backend(config),
        config=config,
        spool_root=tmp_path / "spool",
        clock=env.clock,
        shutdown=threading.Event(),
    )
    tracemalloc.start()
    try:
        lease = progress.claim(job_id, "memory-test")
        assert lease is not None
        runner.run(lease)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        progress.close()
    job = env.job(job_id)
    assert job.phase == "Completed"
    assert job.completed + job.failed == lines
    results_key, _ = output_keys(job)
    return peak, (tmp_path / "objects" / env.bucket / results_key).stat().st_size


@pytest.mark.slow
def test_job_memory_does_not_grow_with_the_file(local_env: ExecEnv, tmp_path: Path) -> None:
    small_peak, _ = _traced_run(local_env, tmp_path, 4_000)
    big_peak, big_output = _traced_run(local_env, tmp_path, 16_000)
    # Four times the lines, (about) the same peak: it is set by a chunk and a validation
    # batch, not by the file. The big job's results alone are several times the peak.
    assert big_peak < small_peak * 1.25 + 256 * 1024, (small_peak, big_peak)
    assert big_peak * 3 < big_output, (big_peak, big_output)
