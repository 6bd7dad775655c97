"""Named profiles: endpoint, region and credentials kept in a TOML file.

The file is ``config.toml`` in the platform's user config directory (platformdirs: e.g.
``~/.config/ark-batch/config.toml`` on Linux), or the path in ``ARK_BATCH_CONFIG``. Each
table is one profile::

    [emulator]
    endpoint = "http://127.0.0.1:8080"
    access_key = "AKLTARKBATCHEMULATOR000000"
    secret_key = "ark-batch-emulator-development-secret"

    [prod]
    region = "cn-beijing"
    access_key = "AKLT..."
    secret_key = "..."
    session_token = "..."     # optional, for STS credentials
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["CONFIG_ENV", "PROFILE_ENV", "Profile", "ProfileError", "config_path", "load_profile"]

#: Environment variable naming the config file (instead of the platform's default).
CONFIG_ENV = "ARK_BATCH_CONFIG"
#: Environment variable naming the profile to use (like ``--profile``).
PROFILE_ENV = "ARK_BATCH_PROFILE"
#: The profile used, beneath the environment variables, when none is named.
DEFAULT_PROFILE = "default"


class ProfileError(Exception):
    """The config file or the named profile cannot be used."""


@dataclass(frozen=True, slots=True, repr=False)
class Profile:
    """One table of the config file; every field is optional."""

    name: str
    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    session_token: str | None = None

    def __repr__(self) -> str:
        # Never show a key: this may end up in a log line or a traceback.
        return f"Profile({self.name!r}, endpoint={self.endpoint!r}, region={self.region!r})"


_KEYS = frozenset(f.name for f in fields(Profile)) - {"name"}


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the profiles are read from."""
    env = os.environ if environ is None else environ
    override = env.get(CONFIG_ENV)
    if override:
        return Path(override)
    from platformdirs import user_config_path  # noqa: PLC0415  # only when a command runs

    return user_config_path("ark-batch") / "config.toml"


def _read_config(path: Path) -> str:
    """The text of the config file, which must be a regular file.

    Opened without blocking and checked first: reading a FIFO or a device named by
    ``ARK_BATCH_CONFIG`` would hang every command, or never end.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ProfileError(f"config file {path} is not a regular file")
        return handle.read().decode("utf-8")


def load_profile(name: str | None, environ: Mapping[str, str] | None = None) -> Profile | None:
    """The profile ``name`` (must exist), or the ``default`` profile if any when ``None``."""
    path = config_path(environ)
    try:
        text = _read_config(path)
    except FileNotFoundError:
        if name is None:
            return None
        raise ProfileError(f"profile {name!r} not found: there is no config file {path}") from None
    except OSError as exc:
        raise ProfileError(f"cannot read config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(
            f"config file {path} is not UTF-8 text (byte {exc.start} is not)"
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"config file {path} is not valid TOML: {exc}") from None
    wanted = name or DEFAULT_PROFILE
    table = document.get(wanted)
    if table is None:
        if name is None:
            return None
        known = ", ".join(sorted(document)) or "none"
        raise ProfileError(f"profile {name!r} not found in {path} (profiles: {known})")
    if not isinstance(table, dict):
        raise ProfileError(f"profile {wanted!r} in {path} is not a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ProfileError(
            f"profile {wanted!r} in {path} has unknown keys {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_KEYS))})"
        )
    for key, value in table.items():
        if not isinstance(value, str):
            raise ProfileError(f"profile {wanted!r} in {path}: {key} must be a string")
    return Profile(name=wanted, **table)
