"""Helpers shared by the execution tests (importable; conftest.py is not)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_support import LiveClock, poll_until

from ark_batch.auth import VolcengineAuth
from ark_batch.credentials import Credentials
from ark_batch.emulator import DEV_ACCESS_KEY, DEV_SECRET_KEY
from ark_batch.emulator.backend import Backend
from ark_batch.emulator.config import dev_credential
from ark_batch.emulator.execution import ExecutionConfig, ExecutionWorker, output_keys
from ark_batch.emulator.store import Job, JobStore
from ark_batch.storage import ObjectStore, S3ObjectStore

S3_ACCESS_KEY = "test-access-key"
S3_SECRET_KEY = "test-secret-key"

_bucket_counter = itertools.count()


def make_bucket(store: ObjectStore, bucket: str) -> None:
    """Create `bucket` where the backend needs it (S3); local buckets appear on write."""
    if isinstance(store, S3ObjectStore):
        region = store.client.meta.region_name
        store.client.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
        )


def fresh_bucket(store: ObjectStore, stem: str = "bkt") -> str:
    """A bucket name not used before in this session, created on `store`."""
    name = f"{stem}-{next(_bucket_counter)}"
    make_bucket(store, name)
    return name


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def wait_for_http(url: str, timeout: float = 20.0) -> None:
    """Poll `url` until anything answers over HTTP (any status), or fail after `timeout`."""
    poll_until(lambda: _answers(url), timeout=timeout, interval=0.05)


def chat_line(custom_id: str, text: str = "hello batch world", **body: Any) -> dict[str, Any]:
    """An input line with a one-message chat body."""
    return {
        "custom_id": custom_id,
        "body": {"messages": [{"role": "user", "content": text}], **body},
    }


def write_jsonl(store: ObjectStore, bucket: str, key: str, lines: Iterable[Any]) -> None:
    """Write `lines` (dicts are JSON-encoded, bytes/str written as they are) as JSONL."""
    with store.open_writer(bucket, key) as writer:
        for line in lines:
            if isinstance(line, bytes):
                writer.write(line + b"\n")
            elif isinstance(line, str):
                writer.write(line.encode() + b"\n")
            else:
                writer.write(json.dumps(line).encode() + b"\n")


def read_jsonl(store: ObjectStore, bucket: str, key: str) -> list[dict[str, Any]]:
    """Every line of an object, decoded."""
    return [json.loads(line) for line in store.iter_lines(bucket, key)]


TERMINAL = ("Completed", "Failed", "Terminated")


class ExecEnv:
    """A job store, the emulator's Create logic, an object store and workers on top.

    Jobs are created through the emulator's own `Backend.create`, so rows are exactly
    what the API would store.
    """

    def __init__(self, data_dir: Path, objects: ObjectStore) -> None:
        self.data_dir = data_dir
        self.objects = objects
        self.clock = LiveClock()
        self.jobs = JobStore.open(data_dir, self.clock)
        self.api = Backend(self.jobs, self.clock)
        self.workers: list[ExecutionWorker] = []
        self.bucket = fresh_bucket(objects, "data")

    def worker(self, **settings: Any) -> ExecutionWorker:
        """Start a worker with `ExecutionConfig(**settings)` (fast polling by default)."""
        settings.setdefault("poll_interval", 0.02)
        config = ExecutionConfig(object_store=self.objects, **settings)
        worker = ExecutionWorker(self.jobs, config, self.data_dir, self.clock)
        worker.start()
        self.workers.append(worker)
        return worker

    def create(
        self,
        input_key: str,
        *,
        output_prefix: str = "out/",
        window: str = "1d",
        input_bucket: str | None = None,
        name: str = "job",
    ) -> str:
        """Create a job the way CreateBatchInferenceJob does; returns its Id."""
        body = {
            "Name": name,
            "ModelReference": {"FoundationModel": {"Name": "doubao-pro", "ModelVersion": "240615"}},
            "InputFileTosLocation": {
                "BucketName": input_bucket or self.bucket,
                "ObjectKey": input_key,
            },
            "OutputDirTosLocation": {"BucketName": self.bucket, "ObjectKey": output_prefix},
            "CompletionWindow": window,
        }
        job_id: str = self.api.create(dev_credential(), body)["Id"]
        return job_id

    def job(self, job_id: str) -> Job:
        job = self.jobs.get_any(job_id)
        assert job is not None
        return job

    def wait(self, job_id: str, phases: tuple[str, ...] = TERMINAL, timeout: float = 30.0) -> Job:
        """Poll until the job is in one of `phases`."""
        return self.wait_for(job_id, lambda job: job.phase in phases, timeout)

    def wait_for(self, job_id: str, predicate: Callable[[Job], bool], timeout: float = 30.0) -> Job:
        """Poll until `predicate(job)` holds."""
        return poll_until(
            lambda: self.job(job_id),
            predicate,
            timeout=timeout,
            interval=0.005,
            describe=lambda job: f"job {job_id} is {job.phase}: {job.status_message}",
        )

    def outputs(self, job: Job) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``(results lines, errors lines)``; a missing file reads as no lines."""
        results_key, errors_key = output_keys(job)
        results = (
            read_jsonl(self.objects, job.output_bucket, results_key)
            if self.objects.exists(job.output_bucket, results_key)
            else []
        )
        errors = (
            read_jsonl(self.objects, job.output_bucket, errors_key)
            if self.objects.exists(job.output_bucket, errors_key)
            else []
        )
        return results, errors

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.jobs.close()


VERSION = "2024-01-01"


class ApiClient:
    """Signed calls to an emulator over HTTP with the development credential."""

    def __init__(self, url: str) -> None:
        auth = VolcengineAuth(Credentials(DEV_ACCESS_KEY, DEV_SECRET_KEY), "cn-beijing")
        self.http = httpx.Client(base_url=url, auth=auth, timeout=10.0)

    def post(self, action: str, body: dict[str, Any]) -> httpx.Response:
        """The raw response to one signed call, whatever its status."""
        return self.http.post(f"/?Action={action}&Version={VERSION}", json=body)

    def call(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(action, body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["Result"]
        return result

    def create(self, bucket: str, input_key: str, output_prefix: str = "out/") -> str:
        response = self.create_response(bucket, input_key, output_prefix)
        assert response.status_code == 200, response.text
        job_id: str = response.json()["Result"]["Id"]
        return job_id

    def create_response(
        self, bucket: str, input_key: str, output_prefix: str = "out/"
    ) -> httpx.Response:
        """The raw response to a Create of a job over ``bucket/input_key``."""
        return self.post(
            "CreateBatchInferenceJob",
            {
                "Name": "e2e",
                "ModelReference": {"FoundationModel": {"Name": "doubao-pro", "ModelVersion": "1"}},
                "InputFileTosLocation": {"BucketName": bucket, "ObjectKey": input_key},
                "OutputDirTosLocation": {"BucketName": bucket, "ObjectKey": output_prefix},
            },
        )

    def get(self, job_id: str) -> dict[str, Any]:
        return self.call("GetBatchInferenceJob", {"Id": job_id})

    def wait(
        self, job_id: str, until: Any, timeout: float = 60.0, interval: float = 0.05
    ) -> dict[str, Any]:
        """Poll Get until `until(job)` holds."""
        return poll_until(
            lambda: self.get(job_id),
            until,
            timeout=timeout,
            interval=interval,
            describe=lambda job: f"last state {job['Status']}",
        )

    def close(self) -> None:
        self.http.close()


class EmulatorProcess:
    """``python -m ark_batch.emulator.cli`` on a free port, as a separate process."""

    def __init__(self, data_dir: Path, *flags: str, prefix: tuple[str, ...] = ()) -> None:
        """Start it; `prefix` goes before the interpreter (``setpriv ...``, say)."""
        self.log_path = data_dir.parent / f"emulator-{time.monotonic_ns()}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                *prefix,
                sys.executable,
                "-m",
                "ark_batch.emulator.cli",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
                *flags,
            ],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().strip()
        assert first.startswith("ark-batch emulator listening on "), first
        self.url = first.rsplit(" ", 1)[-1]
        # The banner's remaining lines (credentials, execution) follow at once.
        self.banner = [first] + [self.process.stdout.readline().strip() for _ in range(2)]

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing, no goodbyes."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def freeze(self) -> None:
        """SIGSTOP: alive but doing nothing, as a process stuck in swap or a debugger."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after `freeze`."""
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


def record_transitions(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Every phase change a `JobStore` makes, as (job id, phase, message).

    Both `transition` and the conditional `transition_from` (only when it moved the job).
    """
    seen: list[tuple[str, str, str]] = []
    transition = JobStore.transition
    transition_from = JobStore.transition_from

    def spy(self: JobStore, job_id: str, phase: str, message: str, now: datetime) -> bool:
        seen.append((job_id, phase, message))
        return transition(self, job_id, phase, message, now)

    def spy_from(
        self: JobStore,
        job_id: str,
        from_phases: Any,
        phase: str,
        message: str,
        now: datetime,
        **kwargs: Any,
    ) -> bool:
        moved = transition_from(self, job_id, from_phases, phase, message, now, **kwargs)
        if moved:
            seen.append((job_id, phase, message))
        return moved

    monkeypatch.setattr(JobStore, "transition", spy)
    monkeypatch.setattr(JobStore, "transition_from", spy_from)
    return seen


def lease_owner_pid(data_dir: Path, job_id: str) -> int | None:
    """The pid of the emulator process holding the job's lease (owner ``host:pid:...``)."""
    path = data_dir / "execution" / "progress.sqlite3"
    if not path.exists():
        return None
    conn = sqlite3.connect(path, timeout=30.0)
    try:
        row = conn.execute(
            "SELECT owner FROM leases WHERE job_id = ? AND expires_at > ?", (job_id, time.time())
        ).fetchone()
    except sqlite3.OperationalError:  # the table is created by the first worker
        return None
    finally:
        conn.close()
    return None if row is None else int(str(row[0]).split(":")[1])


def write_numbered_input(objects: ObjectStore, bucket: str, key: str, lines: int) -> None:
    """`lines` chat lines with custom_ids ``line-0`` ... (written in blocks, quickly)."""
    line = '{"custom_id": "line-%d", "body": {"messages": [{"role": "user", "content": "%d"}]}}\n'
    with objects.open_writer(bucket, key) as writer:
        for start in range(0, lines, 10_000):
            stop = min(lines, start + 10_000)
            writer.write("".join(line % (i, i) for i in range(start, stop)).encode())


def count_custom_ids(path: Path, counter: Counter[str]) -> int:
    """Add the custom_ids of a JSONL output file to `counter`; returns its line count."""
    lines = 0
    with path.open("rb") as handle:
        for raw in handle:
            counter[json.loads(raw)["custom_id"]] += 1
            lines += 1
    return lines
