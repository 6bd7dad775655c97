"""Object storage for batch-job inputs and outputs: a local directory or S3-compatible.

`open_store(url)` builds a store from a URL:

- `file:///abs/path` or a plain filesystem path: `LocalObjectStore` (bucket = folder).
- `s3+http://HOST:PORT` or `s3+https://HOST[:PORT]`: `S3ObjectStore` at that endpoint.
  Optional `ACCESS_KEY:SECRET_KEY@` user info (percent-encoded); without it boto3's own
  credential chain applies (`AWS_ACCESS_KEY_ID`, ...). Query parameters: `region`
  (default `cn-beijing`) and `addressing_style` (`path`, the default, or `virtual` for TOS).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, unquote, urlsplit

from ark_batch.storage.base import (
    InvalidObjectKeyError,
    NotARegularFileError,
    ObjectConflictError,
    ObjectNotFoundError,
    ObjectStore,
    ObjectWriter,
    PermanentStorageError,
    StorageError,
    is_permanent,
    validate_bucket,
    validate_key,
    validate_prefix,
)
from ark_batch.storage.local import LocalObjectStore
from ark_batch.storage.s3 import AddressingStyle, S3ObjectStore

__all__ = [
    "InvalidObjectKeyError",
    "LocalObjectStore",
    "NotARegularFileError",
    "ObjectConflictError",
    "ObjectNotFoundError",
    "ObjectStore",
    "ObjectWriter",
    "PermanentStorageError",
    "S3ObjectStore",
    "StorageError",
    "is_permanent",
    "open_store",
    "validate_bucket",
    "validate_key",
    "validate_prefix",
]


def open_store(url: str) -> ObjectStore:
    """Build an `ObjectStore` from a URL (grammar in the module docstring)."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        path = unquote(parts.path) if parts.scheme == "file" else url
        if not path:
            raise StorageError(f"storage URL {url!r} names no directory")
        return LocalObjectStore(Path(path))
    if parts.scheme in ("s3+http", "s3+https"):
        if not parts.hostname:
            raise StorageError(f"storage URL {url!r} names no host")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        style = query.get("addressing_style", "path")
        if style not in ("path", "virtual", "auto"):
            raise StorageError(f"addressing_style must be path, virtual or auto, not {style!r}")
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
        endpoint = f"{parts.scheme.removeprefix('s3+')}://{netloc}"
        return S3ObjectStore(
            endpoint,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            query.get("region", "cn-beijing"),
            addressing_style=cast("AddressingStyle", style),
        )
    raise StorageError(
        f"unsupported storage URL {url!r}: use file:///path or s3+http(s)://host:port"
    )
