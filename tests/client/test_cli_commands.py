"""The ark-batch CLI through typer's runner, against the emulator."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from emulator_support import free_port, poll_until

from ark_batch.cli.waiting import PROGRESS_LINE_SECONDS, wait_with_progress
from ark_batch.emulator import EmulatorState
from ark_batch.facade import ArkBatch
from client.cli_support import CREATE_ARGS, input_file, lines, run
from client.client_support import DEV, FakeTime, ScriptedService, job_dict, mock_client


def test_create_get_and_list_json(emulator_url: str) -> None:
    created = run("create", *CREATE_ARGS, "--tag", "team=a", "--endpoint", emulator_url)
    assert created.exit_code == 0, created.output
    job_id = created.stdout.strip()
    assert job_id.startswith("bi-")
    again = run("create", *CREATE_ARGS, "--json", "--endpoint", emulator_url)
    assert again.exit_code == 1  # never quietly the active job instead of a new one
    assert again.stdout == ""
    [line] = lines(again.stderr)
    assert line.startswith(f"Error: job {job_id} is already Queued or Running on ")
    assert "--reuse-active" in line
    reused = run("create", *CREATE_ARGS, "--reuse-active", "--json", "--endpoint", emulator_url)
    assert reused.exit_code == 0
    assert json.loads(reused.stdout) == {"Id": job_id}
    assert lines(reused.stderr) == [
        f"Reusing job {job_id}: it is already Queued or Running on tos://my-bucket/in/cli.jsonl"
    ]
    got = run("get", job_id, "--json", "--endpoint", emulator_url)
    assert got.exit_code == 0
    assert json.loads(got.stdout)["Status"]["Phase"] == "Queued"
    shown = run("get", job_id, "--endpoint", emulator_url)
    assert job_id in shown.stdout
    assert "doubao-pro-32k:240615" in shown.stdout
    assert "tos://my-bucket/in/cli.jsonl" in shown.stdout
    listed = run("list", "--json", "--tag", "team=a", "--endpoint", emulator_url)
    assert [j["Id"] for j in json.loads(listed.stdout)] == [job_id]


def test_dry_run(emulator_url: str) -> None:
    result = run("create", *CREATE_ARGS, "--dry-run", "--endpoint", emulator_url)
    assert result.exit_code == 0
    assert "Dry run passed" in result.stdout
    assert json.loads(run("list", "--json", "--endpoint", emulator_url).stdout) == []


def test_list_reads_every_page_as_a_table_and_as_json(emulator_url: str) -> None:
    with ArkBatch(emulator_url, credentials=DEV) as ark:
        ids = [
            ark.create_job(
                name=f"job-{n}", model="m:1", input=f"b-1/in/{n}.jsonl", output="b-1/out/"
            ).id
            for n in range(9)
        ]
    as_json = run("list", "--json", "--page-size", "2", "--endpoint", emulator_url)
    assert as_json.exit_code == 0
    assert sorted(j["Id"] for j in json.loads(as_json.stdout)) == sorted(ids)
    piped = run("list", "--page-size", "2", "--endpoint", emulator_url)
    assert piped.exit_code == 0
    # Piped: one tab-separated row per job, whole, with no header and no padding.
    rows = [line.split("\t") for line in piped.stdout.splitlines()]
    assert sorted(row[0] for row in rows) == sorted(ids)
    assert {row[5] for row in rows} == {"m:1"}
    assert all(len(row) == 7 and row == [cell.strip() for cell in row] for row in rows)
    limited = run("list", "--json", "--limit", "3", "--page-size", "2", "--endpoint", emulator_url)
    assert len(json.loads(limited.stdout)) == 3
    filtered = run("list", "--json", "--name", "JOB-4", "--endpoint", emulator_url)
    assert [j["Name"] for j in json.loads(filtered.stdout)] == ["job-4"]
    # Piped and empty: no rows on stdout, and a count on stderr rather than silence.
    empty = run("list", "--name", "no-such-job", "--endpoint", emulator_url)
    assert empty.exit_code == 0
    assert empty.stdout == ""
    assert lines(empty.stderr) == ["0 job(s)"]


def test_errors_print_one_line_without_traceback(emulator_url: str) -> None:
    result = run("get", "bi-20240101000000-nope1", "--endpoint", emulator_url)
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = lines(result.stderr)
    assert line.startswith("Error: InvalidBatchInferenceJob.NotFound: ")
    assert "(RequestId: " in line
    assert "HTTP 404" in line
    assert "Traceback" not in result.output


def test_bad_credentials_and_missing_credentials(emulator_url: str) -> None:
    wrong = run("list", "--endpoint", emulator_url, env={"VOLCENGINE_SECRET_KEY": "not-the-secret"})
    assert wrong.exit_code == 1
    [line] = lines(wrong.stderr)
    assert "SignatureDoesNotMatch" in line
    missing = run("list", "--endpoint", emulator_url, env={"VOLCENGINE_ACCESS_KEY": ""})
    assert missing.exit_code == 1
    [line] = lines(missing.stderr)
    assert line.startswith("Error: MissingCredentialsError: ")


def test_usage_errors_exit_2(emulator_url: str) -> None:
    bad_model = run(
        "create", *CREATE_ARGS[:2], "--model", "no-version", *CREATE_ARGS[4:],
        "--endpoint", emulator_url,
    )  # fmt: skip
    assert bad_model.exit_code == 2
    assert lines(bad_model.stderr) == [
        "Error: --model 'no-version' needs a version: --model NAME:VERSION, "
        "or --model NAME --model-version VERSION"
    ]
    no_name = run(
        "create", *CREATE_ARGS[:2], "--model", ":240615", *CREATE_ARGS[4:],
        "--endpoint", emulator_url,
    )  # fmt: skip
    assert no_name.exit_code == 2
    assert lines(no_name.stderr)[0].startswith("Error: --model ':240615' needs a name: ")
    assert run("list", "--limit", "0").exit_code == 2


def test_connection_refused_is_one_line_naming_the_endpoint() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = run("get", "bi-1", "--endpoint", url)
    assert result.exit_code == 1
    [line] = lines(result.stderr)
    assert line.startswith(f"Error: ConnectError: cannot connect to {url} (GetBatchInferenceJob): ")
    assert line.count(url) == 1


def test_wait_times_out_with_exit_4(emulator_url: str) -> None:
    job_id = run("create", *CREATE_ARGS, "--endpoint", emulator_url).stdout.strip()
    started = time.monotonic()
    result = run(
        "wait", job_id, "--timeout", "0.3", "--poll-interval", "0.1", "--endpoint", emulator_url
    )
    assert time.monotonic() - started < 5
    assert result.exit_code == 4
    assert f"Error: WaitTimeoutError: job {job_id} still Queued after 0.3s" in result.stderr
    # Off a terminal, progress is a line per phase, not a bar drawn at the end.
    assert lines(result.stderr)[0].startswith(f"{job_id} Queued: 0/0 done, 0 failed, ")


def test_wait_exits_3_when_the_job_fails(
    emulator: tuple[Any, EmulatorState], emulator_url: str
) -> None:
    job_id = run("create", *CREATE_ARGS, "--endpoint", emulator_url).stdout.strip()
    emulator[1].store.update_job(job_id, phase="Failed", status_message="bad input line 2")
    result = run("wait", job_id, "--poll-interval", "0.05", "--endpoint", emulator_url)
    assert result.exit_code == 3
    assert lines(result.stderr)[-1] == (
        f"Error: JobFailedError: job {job_id} ended Failed: bad input line 2"
    )


def test_submit_waits_with_progress_and_downloads_results(
    running_emulator: tuple[str, Path, EmulatorState], tmp_path: Path
) -> None:
    url, objects, _ = running_emulator
    source = input_file(tmp_path, 40)
    downloads = tmp_path / "downloads"
    result = run(
        "submit", str(source), "--bucket", "my-bucket", "--model", "doubao-pro-32k:240615",
        "--store-dir", str(objects), "--download", str(downloads), "--poll-interval", "0.05",
        "--timeout", "30", "--json", "--endpoint", url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    job_id = summary["Id"]
    counts = summary["Job"]["RequestCounts"]
    assert summary["Job"]["Status"]["Phase"] == "Completed"
    assert counts["Total"] == 40
    assert counts["Completed"] + counts["Failed"] == 40
    assert 0 < counts["Failed"] < 40
    # The default key carries the content's hash, so same-named files never collide.
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    uploaded = objects / "my-bucket" / "batch-inputs" / f"prompts-{digest}.jsonl"
    assert uploaded.read_bytes() == source.read_bytes()
    assert (
        summary["Job"]["InputFileTosLocation"]["ObjectKey"]
        == f"batch-inputs/prompts-{digest}.jsonl"
    )
    results_file = downloads / f"{job_id}.results.jsonl"
    errors_file = downloads / f"{job_id}.errors.jsonl"
    assert sorted(summary["Files"]) == sorted([str(results_file), str(errors_file)])
    assert len(results_file.read_text().splitlines()) == counts["Completed"]
    assert len(errors_file.read_text().splitlines()) == counts["Failed"]
    assert f"{job_id} Completed: {counts['Completed']} completed" in result.stderr
    # Off a terminal, progress is plain lines: one per phase at least.
    assert f"{job_id} Completed: 40/40 done, {counts['Failed']} failed, " in result.stderr
    assert "━" not in result.stderr

    # results streams the same records as JSON Lines.
    streamed = run("results", job_id, "--store-dir", str(objects), "--endpoint", url)
    assert streamed.exit_code == 0
    records = [json.loads(line) for line in streamed.stdout.splitlines()]
    assert len(records) == counts["Completed"]
    assert all(r["error"] is None and r["response"]["status_code"] == 200 for r in records)
    errors = run("results", job_id, "--errors", "--store", objects.as_uri(), "--endpoint", url)
    assert [json.loads(x)["response"] for x in errors.stdout.splitlines()] == [None] * counts[
        "Failed"
    ]
    both = run("results", job_id, "--all", "--store-dir", str(objects), "--endpoint", url)
    custom_ids = {json.loads(x)["custom_id"] for x in both.stdout.splitlines()}
    assert custom_ids == {f"req-{n}" for n in range(40)}


def test_submit_without_wait_then_wait_command(
    running_emulator: tuple[str, Path, EmulatorState], tmp_path: Path
) -> None:
    url, objects, _ = running_emulator
    source = input_file(tmp_path, 5)
    submitted = run(
        "submit", str(source), "--bucket", "my-bucket", "--key", "custom/in.jsonl",
        "--model", "m:1", "--no-wait", "--store-dir", str(objects), "--endpoint", url,
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.output
    job_id = submitted.stdout.strip()
    waited = run("wait", job_id, "--poll-interval", "0.05", "--json", "--endpoint", url)
    assert waited.exit_code == 0, waited.output
    assert json.loads(waited.stdout)["Status"]["Phase"] == "Completed"
    downloads = tmp_path / "dl"
    fetched = run(
        "results", job_id, "--download", str(downloads), "--store-dir", str(objects),
        "--endpoint", url,
    )  # fmt: skip
    assert fetched.exit_code == 0
    assert (downloads / f"{job_id}.results.jsonl").exists()


def test_an_empty_errors_stream_says_so_on_stderr(
    running_emulator: tuple[str, Path, EmulatorState], tmp_path: Path
) -> None:
    from ark_batch.emulator.execution.model_backends import (  # noqa: PLC0415
        EchoBackend,
        FaultyBackend,
    )

    url, objects, _ = running_emulator
    # The fixture's injection (rate 0.25, seed "t") fails none of these custom_ids.
    injection = FaultyBackend(EchoBackend(), rate=0.25, seed="t", latency=0)
    passing = [f"ok-{n}" for n in range(40) if not injection.fails(f"ok-{n}")][:3]
    source = tmp_path / "passing.jsonl"
    source.write_text(
        "".join(
            json.dumps({"custom_id": cid, "body": {"messages": [{"role": "user", "content": cid}]}})
            + "\n"
            for cid in passing
        )
    )
    submitted = run(
        "submit", str(source), "--bucket", "my-bucket", "--model", "m:1", "--json",
        "--download", str(tmp_path / "dl"), "--store-dir", str(objects), "--endpoint", url,
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.output
    summary = json.loads(submitted.stdout)
    job_id = summary["Id"]
    assert summary["Job"]["RequestCounts"] == {"Total": 3, "Completed": 3, "Failed": 0}
    errors = run("results", job_id, "--errors", "--store-dir", str(objects), "--endpoint", url)
    assert errors.exit_code == 0
    assert errors.stdout == ""
    assert f"{job_id}: 0 error lines" in lines(errors.stderr)


def test_submit_needs_exactly_one_store(tmp_path: Path) -> None:
    source = input_file(tmp_path, 1)
    result = run("submit", str(source), "--bucket", "b-1", "--model", "m:1")
    assert result.exit_code == 2
    assert "exactly one of --store, --store-dir or --s3-endpoint" in result.stderr


def test_help_lists_every_command_and_store_flags() -> None:
    top = run("--help")
    for command in ("create", "get", "list", "wait", "submit", "results"):
        assert command in top.stdout
    submit = run("submit", "--help")
    for flag in ("--store", "--store-dir", "--s3-endpoint", "--download", "--wait"):
        assert flag in submit.stdout


def test_help_starts_fast_without_loading_the_http_stack() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); sys.argv = ['ark-batch', '--help'];\n"
        "from ark_batch.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('httpx', 'rich', 'ark_batch_client', 'boto3') if m in sys.modules]\n"
        "print('HEAVY', heavy, time.perf_counter() - t, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert "Usage: ark-batch" in done.stdout
    marker = done.stderr.split("HEAVY ")[1]
    assert marker.startswith("[]"), marker
    assert float(marker.split()[-1]) < 1.0


def test_submit_and_results_through_an_s3_compatible_store(tmp_path: Path) -> None:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    from ark_batch.emulator import EmulatorConfig, create_app  # noqa: PLC0415
    from ark_batch.emulator.embedded import EmbeddedEmulator  # noqa: PLC0415
    from ark_batch.emulator.execution import ExecutionConfig  # noqa: PLC0415
    from ark_batch.storage import S3ObjectStore  # noqa: PLC0415

    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    s3 = f"http://127.0.0.1:{port}"
    try:
        S3ObjectStore(s3, "testing", "testing", "us-east-1").client.create_bucket(
            Bucket="s3-bucket"
        )
        execution = ExecutionConfig(
            poll_interval=0.02,
            storage_url=f"s3+http://testing:testing@127.0.0.1:{port}?region=us-east-1",
        )
        app = create_app(EmulatorConfig(data_dir=tmp_path / "emu", execution=execution))
        with EmbeddedEmulator(app=app) as server:
            s3_env = {
                "ARK_BATCH_S3_ACCESS_KEY": "testing",
                "ARK_BATCH_S3_SECRET_KEY": "testing",
                "ARK_BATCH_S3_REGION": "us-east-1",
            }
            submitted = run(
                "submit", str(input_file(tmp_path, 6)), "--bucket", "s3-bucket",
                "--model", "m:1", "--s3-endpoint", s3, "--poll-interval", "0.05",
                "--download", str(tmp_path / "dl"), "--endpoint", server.url,
                env=s3_env,
            )  # fmt: skip
            assert submitted.exit_code == 0, submitted.output
            job_id = submitted.stdout.strip()
            assert len((tmp_path / "dl" / f"{job_id}.results.jsonl").read_text().splitlines()) == 6
            store_url = f"s3+http://testing:testing@127.0.0.1:{port}?region=us-east-1"
            streamed = run("results", job_id, "--store", store_url, "--endpoint", server.url)
            assert streamed.exit_code == 0, streamed.output
            assert len(streamed.stdout.splitlines()) == 6
        app.state.emulator.close()
    finally:
        moto.stop()


def test_missing_cli_extra_is_one_clear_line() -> None:
    code = "import sys; sys.modules['typer'] = None\nfrom ark_batch.cli import main\nmain()\n"
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "ark-batch needs the 'cli' extra (typer is missing): pip install 'ark-batch[cli]'"
    )


def test_wait_json_prints_the_job_before_exiting_3(
    emulator: tuple[Any, EmulatorState], emulator_url: str
) -> None:
    job_id = run("create", *CREATE_ARGS, "--endpoint", emulator_url).stdout.strip()
    emulator[1].store.update_job(job_id, phase="Failed", status_message="bad input line 2")
    result = run("wait", job_id, "--poll-interval", "0.05", "--json", "--endpoint", emulator_url)
    assert result.exit_code == 3
    assert json.loads(result.stdout)["Status"]["Phase"] == "Failed"


def _input_file_in(directory: Path, count: int) -> Path:
    directory.mkdir()
    return input_file(directory, count)


def _submit(source: Path, objects: Path, url: str, *extra: str) -> Any:
    objects.mkdir(exist_ok=True)
    return run(
        "submit", str(source), "--bucket", "my-bucket", "--model", "m:1",
        "--store-dir", str(objects), "--endpoint", url, *extra,
    )  # fmt: skip


def test_submit_never_replaces_the_input_of_an_active_job(
    emulator_url: str, tmp_path: Path
) -> None:
    objects = tmp_path / "objects"
    first = _input_file_in(tmp_path / "a", 3)
    created = _submit(first, objects, emulator_url, "--key", "in/x.jsonl", "--no-wait")
    assert created.exit_code == 0, created.output
    job_id = created.stdout.strip()

    second = _input_file_in(tmp_path / "b", 5)
    refused = _submit(second, objects, emulator_url, "--key", "in/x.jsonl", "--no-wait")
    assert refused.exit_code == 1
    [error] = [line for line in lines(refused.stderr) if line.startswith("Error:")]
    assert error.startswith("Error: OperationDenied.ActiveJobExists:")
    assert job_id in error
    assert "Uploaded" not in refused.stderr
    assert (objects / "my-bucket" / "in" / "x.jsonl").read_bytes() == first.read_bytes()


def test_same_named_files_get_their_own_objects_and_jobs(emulator_url: str, tmp_path: Path) -> None:
    objects = tmp_path / "objects"
    one = _submit(_input_file_in(tmp_path / "a", 3), objects, emulator_url, "--no-wait")
    two = _submit(_input_file_in(tmp_path / "b", 5), objects, emulator_url, "--no-wait")
    assert one.exit_code == 0, one.output
    assert two.exit_code == 0, two.output
    assert one.stdout.strip() != two.stdout.strip()
    assert len(list((objects / "my-bucket" / "batch-inputs").iterdir())) == 2


def test_submit_downloads_what_a_terminated_job_kept_then_exits_3(
    emulator: tuple[Any, EmulatorState], emulator_url: str, tmp_path: Path
) -> None:
    state = emulator[1]
    objects = tmp_path / "objects"
    downloads = tmp_path / "downloads"
    kept = '{"id": "r-0", "custom_id": "req-0", "error": null, "response": {"status_code": 200}}\n'

    def expire_the_job() -> None:
        # Stands in for the worker: one request finished, then the window ran out.
        [job] = poll_until(lambda: state.store.queued_jobs(1), timeout=10, interval=0.02)
        results = objects / job.output_bucket / job.output_key / job.id / "output"
        results.mkdir(parents=True)
        (results / "results.jsonl").write_text(kept)
        state.store.transition(job.id, "Terminated", "expired", datetime.now(UTC))

    helper = threading.Thread(target=expire_the_job)
    helper.start()
    result = _submit(
        input_file(tmp_path, 4), objects, emulator_url,
        "--download", str(downloads), "--poll-interval", "0.05", "--json", "--no-progress",
    )  # fmt: skip
    helper.join()
    assert result.exit_code == 3
    summary = json.loads(result.stdout)
    assert summary["Job"]["Status"]["Phase"] == "Terminated"
    assert (downloads / f"{summary['Id']}.results.jsonl").read_text() == kept


def test_wait_off_a_terminal_prints_a_line_on_a_beat_even_when_nothing_changes(
    fake_time: FakeTime, capsys: pytest.CaptureFixture[str]
) -> None:
    service = ScriptedService()
    counts = {"Total": 10, "Completed": 1, "Failed": 0}
    for _ in range(6):  # polled at 0, 5, ..., 25 s: the same state every time
        service.then_ok(job_dict("bi-1", "Running", RequestCounts=counts))
    service.then_ok(job_dict("bi-1", "Completed", RequestCounts={**counts, "Completed": 10}))
    with ArkBatch(
        client=mock_client(service, clock=fake_time.now),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    ) as ark:
        job = wait_with_progress(ark, "bi-1", poll_interval=5, timeout=None, progress=True)
    assert job.status.phase == "Completed"
    assert sum(fake_time.sleeps) == 30
    assert PROGRESS_LINE_SECONDS == 10
    shown = [line.split(",")[0] for line in lines(capsys.readouterr().err)]
    # At 0, 10 and 20 s for Running (stderr is not a terminal here), at once for Completed,
    # then the summary.
    assert shown == [
        "bi-1 Running: 1/10 done",
        "bi-1 Running: 1/10 done",
        "bi-1 Running: 1/10 done",
        "bi-1 Completed: 10/10 done",
        "bi-1 Completed: 10 completed",
    ]
