"""The stub Ark server the client benchmark talks to, as cheap as a server can be in Python.

uvicorn with the httptools parser serving a bare ASGI callable, in a child process pinned
to its own core, so its CPU is never counted as the client's and never competes with it.
It verifies every signature (with ``ark_batch.signing``), so every client does the whole
job, and answers canned Create/Get/List bodies. Run alone with
``python -m benchmarks.stub [CORE]``: it prints its port, then serves until stdin closes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
from typing import Any

from ark_batch.emulator import DEV_ACCESS_KEY, DEV_SECRET_KEY
from ark_batch.signing import compute_signature, parse_authorization

ACCESS_KEY = DEV_ACCESS_KEY
SECRET_KEY = DEV_SECRET_KEY
REGION = "cn-beijing"
JOB_ID = "bi-20240918194641-00000"
LIST_PAGE = 10


def _job(n: int) -> dict[str, Any]:
    return {
        "Id": f"bi-20240918194641-{n:05d}",
        "Name": f"批量推理任务 {n}",
        "Description": "这是一个批量推理任务",
        "ProjectName": "default",
        "ModelReference": {"FoundationModel": {"Name": "doubao-pro-32k", "ModelVersion": "240615"}},
        "InputFileTosLocation": {
            "BucketName": "my-bucket-name",
            "ObjectKey": "batch-inference-job/dataset/my-job.jsonl",
        },
        "OutputDirTosLocation": {
            "BucketName": "my-bucket-name",
            "ObjectKey": "batch-inference-job/output/",
        },
        "CompletionWindow": "1d",
        "Status": {
            "Phase": "Completed",
            "PhaseTime": "2024-09-18T11:50:00Z",
            "Message": "批量推理任务已完成",
        },
        "RequestCounts": {"Total": 2, "Completed": 2, "Failed": 0},
        "Tags": [
            {"Key": "sys:ark:createdBy", "Value": "IAMUser/30805480/test@bytedance.com"},
            {"Key": "test_key", "Value": "test_value"},
        ],
        "CreateTime": "2024-09-18T11:46:41Z",
        "UpdateTime": "2024-09-18T11:50:00Z",
        "ExpireTime": "2024-09-19T11:46:41Z",
    }


def bodies() -> dict[bytes, bytes]:
    """The canned 200 body of each action by Action name, and the error bodies by status."""

    def envelope(action: str, result: Any) -> bytes:
        metadata = {
            "RequestId": "2024091910512025A35A851624E4541879",
            "Action": action,
            "Version": "2024-01-01",
            "Service": "ark",
            "Region": REGION,
        }
        return json.dumps({"ResponseMetadata": metadata, "Result": result}).encode()

    def error(code: str, status: int) -> bytes:
        metadata = {
            "RequestId": "2024091910512025A35A851624E4541879",
            "Action": "",
            "Version": "2024-01-01",
            "Service": "ark",
            "Region": REGION,
            "Error": {"CodeN": status, "Code": code, "Message": code},
        }
        return json.dumps({"ResponseMetadata": metadata}).encode()

    items = [_job(n) for n in range(LIST_PAGE)]
    page = {"TotalCount": LIST_PAGE, "PageNumber": 1, "PageSize": LIST_PAGE, "Items": items}
    return {
        b"GetBatchInferenceJob": envelope("GetBatchInferenceJob", _job(0)),
        b"ListBatchInferenceJobs": envelope("ListBatchInferenceJobs", page),
        b"CreateBatchInferenceJob": envelope("CreateBatchInferenceJob", {"Id": JOB_ID}),
        b"401": error("SignatureDoesNotMatch", 401),
        b"404": error("InvalidActionOrVersion", 404),
    }


def _action(query: bytes) -> bytes:
    for pair in query.split(b"&"):
        key, _, value = pair.partition(b"=")
        if key == b"Action":
            return value
    return b""


def _verified(scope: dict[str, Any], body: bytes) -> bool:
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    try:
        auth = parse_authorization(headers["authorization"])
        expected = compute_signature(
            method=scope["method"],
            path=scope["raw_path"].decode("ascii") or "/",
            query=scope["query_string"].decode("ascii"),
            headers=headers,
            signed_headers=auth.signed_headers,
            body_sha256=hashlib.sha256(body).hexdigest(),
            x_date=headers["x-date"],
            date=auth.date,
            region=auth.region,
            service=auth.service,
            secret_key=SECRET_KEY,
        )
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(expected, auth.signature)


def make_app() -> Any:
    """The ASGI callable: a signed POST with a known Action gets its canned body."""
    canned = bodies()
    json_type = [(b"content-type", b"application/json")]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        payload = canned.get(_action(scope["query_string"]))
        status = 200
        if not _verified(scope, body):
            status, payload = 401, canned[b"401"]
        elif payload is None:
            status, payload = 404, canned[b"404"]
        headers = [*json_type, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


def serve(core: int | None) -> None:
    """Child-process entry: pin to `core`, print the port, serve until stdin closes."""
    import socket  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415

    if core is not None:
        os.sched_setaffinity(0, {core})
    # Explicitly TCP: asyncio sets TCP_NODELAY only on sockets whose proto says so, and
    # without it each response's second write waits out the client's delayed ACK (40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        make_app(),
        http="httptools",
        loop="asyncio",
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=512,
        timeout_keep_alive=600,  # idle clients between rounds keep their connections
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
            await asyncio.sleep(0.01)
        print(sock.getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        server.should_exit = True
        await serving

    asyncio.run(main())


class StubServer:
    """The stub in a child process, pinned to `core` when one is given."""

    def __init__(self, core: int | None = None) -> None:
        self.core = core

    def __enter__(self) -> StubServer:
        args = [] if self.core is None else [str(self.core)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.stub", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.strip():
            self.process.kill()
            raise RuntimeError("the stub server did not start")
        self.url = f"http://127.0.0.1:{int(line)}"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else None)
