"""schemathesis against the in-process ASGI app: examples, coverage, fuzzing (positive and
negative data) and the stateful phase, every request signed, with a fixed seed.

Configuration is contract/schemathesis.toml, shared with ``python -m contract.fuzz``; the
deviations from schemathesis' defaults are explained in docs/decisions/0005.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from starlette.applications import Starlette

from ark_batch.emulator import EmulatorConfig, create_app
from ark_batch.spec import spec_path
from contract import checks
from contract.auth import VolcengineRequestsAuth
from contract.checks import (
    auth_is_enforced,
    valid_create_refused_only_for_documented_reasons,
    valid_lifecycle_refused_only_for_documented_reasons,
)

CONFIG = Path(__file__).resolve().parents[2] / "contract" / "schemathesis.toml"
EXTRA_CHECKS: list[Any] = [
    auth_is_enforced,
    valid_create_refused_only_for_documented_reasons,
    valid_lifecycle_refused_only_for_documented_reasons,
]
SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def load_schema(app: Starlette) -> Any:
    schema = schemathesis.openapi.from_path(
        spec_path(), config=SchemathesisConfig.from_path(CONFIG)
    )
    schema.app = app
    schema.config.update(base_url="http://emulator.local")
    schema.auth.set_from_requests(VolcengineRequestsAuth.from_env({}))
    return schema


# schemathesis parametrizes at import time, so the app exists at import time too (the
# lazy from_fixture loader does not work with this pytest); a module fixture cleans up.
FUZZ_DIR = Path(tempfile.mkdtemp(prefix="ark-batch-fuzz-"))
# Real clock: schemathesis' requests are signed with the wall clock.
FUZZ_APP = create_app(EmulatorConfig(data_dir=FUZZ_DIR))
schema = load_schema(FUZZ_APP)


@pytest.fixture(scope="module", autouse=True)
def _close_fuzz_app() -> Iterator[None]:
    yield
    FUZZ_APP.state.emulator.close()
    shutil.rmtree(FUZZ_DIR, ignore_errors=True)


@schema.parametrize()  # type: ignore[untyped-decorator]
@SETTINGS
def test_every_operation_conforms(case: Any) -> None:
    case.call_and_validate(additional_checks=EXTRA_CHECKS)


def test_stateful_links() -> None:
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            # Each scenario starts empty, or an earlier scenario's active job would turn
            # its Create into a 409 and hypothesis would see the rules change under it.
            FUZZ_APP.state.emulator.store.clear()

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            super().validate_response(response, case, EXTRA_CHECKS, **kwargs)

    run_state_machine_as_test(
        Machine,
        settings=settings(SETTINGS, max_examples=40, stateful_step_count=6),
    )


def test_auth_check_catches_an_api_that_ignores_signatures(tmp_path: Path) -> None:
    # The replacement for ignored_auth must fail against an emulator that does not verify.
    app = create_app(EmulatorConfig(data_dir=tmp_path / "open", verify_signatures=False))
    try:
        open_schema = load_schema(app)
        operation = open_schema["/#Action=ListBatchInferenceJobs"]["POST"]
        case = operation.Case(
            body={}, query={"Action": "ListBatchInferenceJobs", "Version": "2024-01-01"}
        )
        checks._probed.clear()
        with pytest.raises(FailureGroup) as info:
            case.call_and_validate(additional_checks=[auth_is_enforced])
        [failure] = info.value.exceptions
        assert "auth_is_enforced" in str(failure)
        assert "MissingAuthenticationToken" in str(failure)
    finally:
        checks._probed.clear()
        app.state.emulator.close()
