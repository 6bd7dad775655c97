"""schemathesis CLI hooks: sign every request and add the emulator-specific checks.

Loaded by ``python -m contract.fuzz`` through ``SCHEMATHESIS_HOOKS=contract.hooks``.
Credentials: ``ARK_BATCH_FUZZ_ACCESS_KEY`` / ``ARK_BATCH_FUZZ_SECRET_KEY`` (optionally
``ARK_BATCH_FUZZ_SESSION_TOKEN``), defaulting to the emulator's development pair.
"""

from __future__ import annotations

import schemathesis

from contract import checks
from contract.auth import VolcengineRequestsAuth

# set_from_requests is attached to the auth decorator at runtime; its stub lacks it.
schemathesis.auth.set_from_requests(VolcengineRequestsAuth.from_env())  # type: ignore[attr-defined]
checks.register()
