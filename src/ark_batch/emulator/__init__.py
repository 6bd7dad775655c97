"""Local emulator of the Ark batch-inference-job API (the ``emulator`` extra).

Laid out like moto: :mod:`.routing` dispatches on Action/Version, :mod:`.signature`
verifies requests, :mod:`.parsing` validates bodies against the spec, :mod:`.backend`
holds the business rules over the SQLite :mod:`.store`, and :mod:`.protocol` shapes the
envelope. Start it with ``ark-batch-emulator`` or build it in-process with
:func:`create_app`.
"""

from ark_batch.emulator.app import EmulatorState, create_app
from ark_batch.emulator.config import (
    DEV_ACCESS_KEY,
    DEV_ACCOUNT_ID,
    DEV_SECRET_KEY,
    DEV_USER,
    AccountCredential,
    EmulatorConfig,
)

__all__ = [
    "DEV_ACCESS_KEY",
    "DEV_ACCOUNT_ID",
    "DEV_SECRET_KEY",
    "DEV_USER",
    "AccountCredential",
    "EmulatorConfig",
    "EmulatorState",
    "create_app",
]
