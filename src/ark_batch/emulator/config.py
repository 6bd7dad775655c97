"""Emulator configuration: accounts and their credentials, limits, clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ark_batch.emulator.app import EmulatorState

__all__ = [
    "CREDENTIALS_ENV",
    "DEV_ACCESS_KEY",
    "DEV_ACCOUNT_ID",
    "DEV_SECRET_KEY",
    "DEV_USER",
    "AccountCredential",
    "Clock",
    "EmulatorConfig",
    "ExecutionInstaller",
    "credentials_from_env",
    "dev_credential",
]

#: The development pair accepted when no credential is configured. Public on purpose:
#: it only ever opens a local emulator.
DEV_ACCESS_KEY = "AKLTARKBATCHEMULATOR000000"
DEV_SECRET_KEY = "ark-batch-emulator-development-secret"  # noqa: S105  # public by design
DEV_ACCOUNT_ID = "2100000000"
DEV_USER = "developer"

#: Comma-separated ``AK:SK[:ACCOUNT_ID[:USER]]`` entries, the env form of ``--credential``.
CREDENTIALS_ENV = "ARK_BATCH_EMULATOR_CREDENTIALS"

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, repr=False)
class AccountCredential:
    """An access key the emulator accepts, and the account/user it belongs to.

    With ``session_token`` set the key is an STS key: every request must carry that
    exact ``X-Security-Token`` (signed), otherwise ``InvalidSecretToken``.
    """

    access_key: str
    secret_key: str
    account_id: str = DEV_ACCOUNT_ID
    user: str = DEV_USER
    session_token: str | None = None

    def __post_init__(self) -> None:
        if not self.access_key or not self.secret_key:
            raise ValueError("a credential needs a non-empty access key and secret key")
        if not self.account_id or not self.user:
            raise ValueError("a credential needs a non-empty account id and user")

    def __repr__(self) -> str:
        return (
            f"AccountCredential(access_key={self.access_key!r}, secret_key='***', "
            f"account_id={self.account_id!r}, user={self.user!r})"
        )

    @classmethod
    def parse(cls, text: str) -> AccountCredential:
        """Parse ``AK:SK[:ACCOUNT_ID[:USER]]``; account and user default to the dev ones."""
        parts = text.strip().split(":")
        if not 2 <= len(parts) <= 4 or not all(parts):
            raise ValueError("expected AK:SK[:ACCOUNT_ID[:USER]] with no empty part")
        access_key, secret_key, *rest = parts
        account_id = rest[0] if rest else DEV_ACCOUNT_ID
        user = rest[1] if len(rest) > 1 else DEV_USER
        return cls(access_key, secret_key, account_id, user)


def dev_credential() -> AccountCredential:
    """The documented development credential."""
    return AccountCredential(DEV_ACCESS_KEY, DEV_SECRET_KEY, DEV_ACCOUNT_ID, DEV_USER)


def credentials_from_env(environ: Mapping[str, str] | None = None) -> list[AccountCredential]:
    """Credentials from :data:`CREDENTIALS_ENV` (empty list when unset)."""
    env = os.environ if environ is None else environ
    raw = env.get(CREDENTIALS_ENV, "")
    return [AccountCredential.parse(item) for item in raw.split(",") if item.strip()]


class ExecutionInstaller(Protocol):
    """What ``EmulatorConfig.execution`` holds (an ``ExecutionConfig``, say).

    ``create_app`` calls ``install(state)`` once; it adds lifespan hooks that start and
    stop job execution with the server.
    """

    def install(self, state: EmulatorState) -> object:
        """Hook job execution into the app whose state this is."""


@dataclass(slots=True)
class EmulatorConfig:
    """Everything :func:`ark_batch.emulator.create_app` needs.

    ``accounts`` defaults to the development credential. ``clock`` returns an aware
    datetime and drives job times, Ids, RequestIds and the X-Date window (tests inject
    a fixed one). ``max_inflight_body_bytes`` caps the request-body bytes held at once
    across all connections (more gets a 503 with Retry-After). ``execution`` is reserved
    for job execution, which installs itself through the app's lifespan hooks (see
    :class:`ark_batch.emulator.app.EmulatorState`). ``spec_dirs`` are the directories of
    the OpenAPI documents served, one per Version (empty: the shipped spec/).
    """

    data_dir: Path
    accounts: Sequence[AccountCredential] = field(default_factory=lambda: (dev_credential(),))
    region: str = "cn-beijing"
    verify_signatures: bool = True
    clock_skew: timedelta = timedelta(minutes=15)
    max_body_bytes: int = 1024 * 1024
    max_inflight_body_bytes: int = 16 * 1024 * 1024
    clock: Clock = _utc_now
    execution: ExecutionInstaller | None = None
    spec_dirs: Sequence[Path] = ()

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if not self.accounts:
            raise ValueError("the emulator needs at least one account credential")
        keys = [account.access_key for account in self.accounts]
        if len(set(keys)) != len(keys):
            raise ValueError("access keys must be unique")
        if self.max_inflight_body_bytes < self.max_body_bytes:
            raise ValueError("max_inflight_body_bytes must be at least max_body_bytes")

    @property
    def database_path(self) -> Path:
        """The SQLite file holding the jobs."""
        return self.data_dir / "jobs.sqlite3"
