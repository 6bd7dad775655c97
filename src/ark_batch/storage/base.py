"""The object-storage interface shared by the emulator and the client.

TOS speaks the S3 protocol, so one small interface covers a local directory (tests, the
emulator's default) and any S3-compatible endpoint. Buckets and keys follow the same rules
in every backend (`validate_bucket`, `validate_key`), so a key that is rejected locally is
rejected against S3 too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from ark_batch.errors import ArkBatchError

__all__ = [
    "InvalidObjectKeyError",
    "NotARegularFileError",
    "ObjectConflictError",
    "ObjectNotFoundError",
    "ObjectStore",
    "ObjectWriter",
    "PermanentStorageError",
    "StorageError",
    "is_permanent",
    "split_lines",
    "validate_bucket",
    "validate_key",
    "validate_prefix",
]


class StorageError(ArkBatchError):
    """An object-storage operation failed (possibly for a while only: a lost connection)."""


class PermanentStorageError(StorageError):
    """A storage failure that retrying cannot fix (a missing object, an unsafe key)."""


class ObjectNotFoundError(PermanentStorageError):
    """The bucket or object does not exist."""

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(f"object tos://{bucket}/{key} not found")
        self.bucket = bucket
        self.key = key


class InvalidObjectKeyError(PermanentStorageError):
    """A bucket name, object key or prefix is unsafe or malformed."""


class NotARegularFileError(PermanentStorageError):
    """The object is a FIFO, device, socket or folder: reading it could block forever."""

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(f"object tos://{bucket}/{key} is not a regular file")
        self.bucket = bucket
        self.key = key


class ObjectConflictError(PermanentStorageError):
    """An object cannot be written because a folder and an object would share a name."""


def is_permanent(exc: BaseException) -> bool:
    """Whether a storage error is one that retrying cannot fix."""
    return isinstance(exc, PermanentStorageError)


class ObjectWriter(Protocol):
    """A byte sink for one object, handed out by `ObjectStore.open_writer`."""

    def write(self, data: bytes) -> None:
        """Append `data` to the object being written."""


class ObjectStore(Protocol):
    """Buckets of objects addressed by `(bucket, key)`.

    Line iteration yields each line without its terminator (`\\n` or `\\r\\n`); a last line
    without a terminator is yielded too, an empty tail after the final newline is not.
    """

    def iter_lines(self, bucket: str, key: str) -> Iterator[bytes]:
        """Stream the object's lines; memory stays bounded by the longest line.

        Raises `ObjectNotFoundError` from the call itself (before any line is consumed)
        if the bucket or object is missing.
        """

    def open_writer(self, bucket: str, key: str) -> AbstractContextManager[ObjectWriter]:
        """Write an object; it appears atomically on a clean exit, not at all on an error."""

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object exists."""

    def upload_file(self, bucket: str, key: str, path: Path) -> None:
        """Copy a local file into the store (atomically; multipart where supported)."""

    def download_file(self, bucket: str, key: str, path: Path) -> None:
        """Copy an object to a local file; raises `ObjectNotFoundError` if missing."""

    def list_keys(self, bucket: str, prefix: str = "") -> Iterator[str]:
        """Keys in `bucket` starting with `prefix`, in lexicographic order."""


# Bucket names: one safe path segment. Looser than TOS (which wants 3-63 lowercase letters,
# digits and hyphens) so that S3-compatible servers with dotted names still work; the
# leading alphanumeric keeps `.`/`..` and hidden names out.
_BUCKET_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_MAX_KEY_BYTES = 1024


def validate_bucket(bucket: str) -> str:
    """Return `bucket` if it is a safe bucket name, else raise `InvalidObjectKeyError`."""
    if not isinstance(bucket, str) or not _BUCKET_RE.fullmatch(bucket):
        raise InvalidObjectKeyError(f"invalid bucket name {bucket!r}")
    return bucket


def _check_segments(text: str, what: str, *, allow_trailing_slash: bool) -> None:
    if "\x00" in text or "\\" in text:
        raise InvalidObjectKeyError(f"{what} {text!r} contains a NUL or backslash")
    if text.startswith("/"):
        raise InvalidObjectKeyError(f"{what} {text!r} is absolute")
    if len(text.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
        raise InvalidObjectKeyError(f"{what} is longer than {_MAX_KEY_BYTES} bytes")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise InvalidObjectKeyError(f"{what} {text!r} contains a control character")
    segments = text.split("/")
    if allow_trailing_slash and segments[-1] == "":
        segments.pop()
    for segment in segments:
        # Empty segments would alias ("a//b" is "a/b" on disk); dot segments are path
        # traversal on disk and get normalised away by some HTTP layers in S3 paths.
        if segment in ("", ".", ".."):
            raise InvalidObjectKeyError(f"{what} {text!r} has an empty, '.' or '..' segment")


def validate_key(key: str) -> str:
    """Return `key` if it is a safe object key, else raise `InvalidObjectKeyError`.

    Rejected: empty keys, absolute keys, backslashes, NUL and control characters, empty,
    `.` or `..` segments, a trailing `/` (that names a folder, not an object), and keys
    over 1024 UTF-8 bytes.
    """
    if not isinstance(key, str) or not key:
        raise InvalidObjectKeyError("object key must be a non-empty string")
    _check_segments(key, "object key", allow_trailing_slash=False)
    return key


def validate_prefix(prefix: str) -> str:
    """Return `prefix` if it is a safe listing/folder prefix (may be empty or end in `/`)."""
    if not isinstance(prefix, str):
        raise InvalidObjectKeyError("prefix must be a string")
    if prefix:
        _check_segments(prefix, "prefix", allow_trailing_slash=True)
    return prefix


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-split a stream of byte chunks into lines (the `ObjectStore.iter_lines` rules)."""
    parts: list[bytes] = []  # pieces of a line that spans chunks; joined once, not per chunk
    for chunk in chunks:
        lines = chunk.split(b"\n")
        if len(lines) == 1:
            if chunk:
                parts.append(chunk)
            continue
        parts.append(lines[0])
        lines[0] = b"".join(parts)
        tail = lines.pop()
        parts = [tail] if tail else []
        for line in lines:
            yield line[:-1] if line.endswith(b"\r") else line
    if parts:
        line = b"".join(parts)
        yield line[:-1] if line.endswith(b"\r") else line
