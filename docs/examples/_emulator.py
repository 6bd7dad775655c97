"""Run the examples against a real endpoint or, by default, an in-process emulator.

If ``ARK_BATCH_ENDPOINT`` is set, the examples use it as is (with your credentials from
``VOLCENGINE_ACCESS_KEY``/``VOLCENGINE_SECRET_KEY`` and your object store from
``ARK_BATCH_STORE``). Otherwise :func:`endpoint` starts
:class:`~ark_batch.emulator.embedded.EmbeddedEmulator` with job execution on (the echo
model, one line in five failed on purpose), points those variables at it and stops it
afterwards.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def endpoint(*, execute: bool = True, latency: float = 0.0) -> Iterator[None]:
    """Make ``ArkBatch()`` and ``open_store(ARK_BATCH_STORE)`` reach a working service.

    ``execute=False`` leaves created jobs Queued (a pure API emulator), for examples
    whose output must not depend on how fast jobs finish. ``latency`` (seconds per model
    request) keeps jobs running long enough to be stopped.
    """
    if os.environ.get("ARK_BATCH_ENDPOINT"):
        yield
        return
    from ark_batch.emulator import EmulatorConfig  # noqa: PLC0415
    from ark_batch.emulator.embedded import EmbeddedEmulator  # noqa: PLC0415
    from ark_batch.emulator.execution import ExecutionConfig  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as data_dir:
        execution = ExecutionConfig(
            enabled=execute,
            poll_interval=0.05,
            failure_rate=0.2,
            failure_seed="docs",
            latency=latency,
        )
        config = EmulatorConfig(data_dir=Path(data_dir), execution=execution)
        with EmbeddedEmulator(config) as emulator:
            credentials = emulator.credentials
            os.environ.update(
                ARK_BATCH_ENDPOINT=emulator.url,
                VOLCENGINE_ACCESS_KEY=credentials.access_key,
                VOLCENGINE_SECRET_KEY=credentials.secret_key,
                ARK_BATCH_STORE=(Path(data_dir) / "objects").as_uri(),
            )
            yield
