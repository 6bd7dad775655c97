"""Run the examples against a real endpoint or, by default, an in-process emulator.

If ``ARK_BATCH_ENDPOINT`` is set, the examples use it as is (with your credentials from
``VOLCENGINE_ACCESS_KEY``/``VOLCENGINE_SECRET_KEY`` and your object store from
``ARK_BATCH_STORE``). Otherwise :func:`endpoint` starts the emulator on loopback with job
execution on (an echo model), points those variables at it and stops it afterwards.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def endpoint(*, execute: bool = True) -> Iterator[None]:
    """Make ``ArkBatch()`` and ``open_store(ARK_BATCH_STORE)`` reach a working service.

    ``execute=False`` leaves created jobs Queued (a pure API emulator), for examples
    whose output must not depend on how fast jobs finish.
    """
    if os.environ.get("ARK_BATCH_ENDPOINT"):
        yield
        return
    import uvicorn  # noqa: PLC0415

    from ark_batch.emulator import DEV_ACCESS_KEY, DEV_SECRET_KEY, EmulatorConfig, create_app  # noqa: PLC0415
    from ark_batch.emulator.execution import ExecutionConfig  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as data_dir, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        execution = ExecutionConfig(
            enabled=execute, poll_interval=0.05, failure_rate=0.2, failure_seed="docs"
        )
        app = create_app(EmulatorConfig(data_dir=Path(data_dir), execution=execution))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        os.environ.update(
            ARK_BATCH_ENDPOINT=f"http://127.0.0.1:{port}",
            VOLCENGINE_ACCESS_KEY=DEV_ACCESS_KEY,
            VOLCENGINE_SECRET_KEY=DEV_SECRET_KEY,
            ARK_BATCH_STORE=(Path(data_dir) / "objects").as_uri(),
        )
        try:
            yield
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            app.state.emulator.close()
