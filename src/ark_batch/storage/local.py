"""Object storage in a local directory: one folder per bucket under a root."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ark_batch.storage.base import (
    InvalidObjectKeyError,
    NotARegularFileError,
    ObjectConflictError,
    ObjectNotFoundError,
    validate_bucket,
    validate_key,
    validate_prefix,
)

__all__ = ["LocalObjectStore"]

_READ_BUFFER = 1 << 20
# Writers stage here, outside every bucket (bucket names cannot start with a dot), so a
# half-written object is never listed and the final rename stays on one filesystem.
_STAGING = ".staging"
# A key segment may be longer than a file name may be (NAME_MAX, 255 bytes on the usual
# filesystems; keys go to 1024). Such a segment is stored under a short name: a readable
# head and a hash, with the full segment kept in this folder (outside every bucket) so
# listing can give the key back.
_NAME_MAX = 255
_LONG_NAMES = ".long-names"
_HEAD_BYTES = 64
_LONG_NAME = re.compile(r".*~([0-9a-f]{40})\Z", re.DOTALL)


class _FileWriter:
    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def write(self, data: bytes) -> None:
        self._handle.write(data)


def _open_regular(path: Path, bucket: str, key: str) -> BinaryIO:
    """Open an object for reading; only regular files, so a read never blocks forever.

    Opened non-blocking first: opening a FIFO for reading would otherwise wait for a
    writer, with no timeout. The type is checked on the open descriptor (no race with a
    swap of the path), then the file is read normally.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise ObjectNotFoundError(bucket, key) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):  # a folder is a prefix, not an object
            raise ObjectNotFoundError(bucket, key)
        if not stat.S_ISREG(mode):
            raise NotARegularFileError(bucket, key)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=_READ_BUFFER)
    except BaseException:
        os.close(fd)
        raise


def _resolve(path: Path, what: str) -> Path:
    """``path`` with its symlinks resolved; a symlink loop makes the name invalid.

    Python raises RuntimeError (3.12 and older) or OSError ELOOP for a loop, with the
    host path in its text: neither may reach a job's message or a log.
    """
    try:
        return path.resolve()
    except RuntimeError:
        pass
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
    raise InvalidObjectKeyError(f"{what} leads into a symlink loop")


class LocalObjectStore:
    """`ObjectStore` over a directory: `<root>/<bucket>/<key>`.

    Buckets are created on first write. Every path is checked after resolving symlinks, so
    neither a crafted key nor a symlink planted inside a bucket reaches outside it.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._root_resolved = self.root.resolve(strict=True)

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # -- path safety ---------------------------------------------------------------------

    def _bucket_dir(self, bucket: str) -> Path:
        validate_bucket(bucket)
        path = _resolve(self._root_resolved / bucket, f"bucket {bucket!r}")
        if path.parent != self._root_resolved:
            raise InvalidObjectKeyError(f"bucket {bucket!r} resolves outside the store root")
        return path

    def _object_path(self, bucket: str, key: str) -> Path:
        validate_key(key)
        bucket_dir = self._bucket_dir(bucket)
        path = _resolve(bucket_dir / self._disk_relative(key), f"object key {key!r}")
        if not path.is_relative_to(bucket_dir) or path == bucket_dir:
            raise InvalidObjectKeyError(f"object key {key!r} resolves outside bucket {bucket!r}")
        return path

    def _disk_relative(self, key: str) -> str:
        """``key`` with each segment too long for a file name mapped to a short one."""
        return "/".join(map(_disk_name, key.split("/")))

    def _remember_long_names(self, key: str) -> None:
        for segment in key.split("/"):
            name = _disk_name(segment)
            if name == segment:
                continue
            record = self._root_resolved / _LONG_NAMES / name.rpartition("~")[2]
            if not record.exists():
                record.parent.mkdir(exist_ok=True)
                tmp = record.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(segment, encoding="utf-8")
                os.replace(tmp, record)

    def _key_name(self, name: str) -> str:
        """The key segment stored under the file or folder ``name``."""
        match = _LONG_NAME.match(name)
        if match is None:
            return name
        record = self._root_resolved / _LONG_NAMES / match.group(1)
        try:
            segment = record.read_text(encoding="utf-8")
        except FileNotFoundError:
            return name
        return segment if _disk_name(segment) == name else name

    # -- ObjectStore -----------------------------------------------------------------------

    def iter_lines(self, bucket: str, key: str) -> Iterator[bytes]:
        """Stream the object's lines (see `ObjectStore.iter_lines`)."""
        path = self._object_path(bucket, key)
        return self._lines(_open_regular(path, bucket, key))

    @staticmethod
    def _lines(handle: BinaryIO) -> Iterator[bytes]:
        with handle:
            for raw in handle:
                if raw.endswith(b"\r\n"):
                    yield raw[:-2]
                elif raw.endswith((b"\n", b"\r")):
                    yield raw[:-1]
                else:
                    yield raw

    @contextmanager
    def open_writer(self, bucket: str, key: str) -> Iterator[_FileWriter]:
        """Write an object atomically (staged, then renamed into place)."""
        path = self._object_path(bucket, key)
        self._remember_long_names(key)
        staging = self._root_resolved / _STAGING
        staging.mkdir(exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=staging, prefix="obj-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb", buffering=_READ_BUFFER) as handle:
                yield _FileWriter(handle)
            self._publish(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _publish(self, tmp: Path, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            raise ObjectConflictError(
                f"cannot write {path.name}: a folder and an object collide"
            ) from exc

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object exists."""
        return self._object_path(bucket, key).is_file()

    def upload_file(self, bucket: str, key: str, path: Path) -> None:
        """Copy a local file in, atomically."""
        with Path(path).open("rb") as source, self.open_writer(bucket, key) as writer:
            while chunk := source.read(_READ_BUFFER):
                writer.write(chunk)

    def download_file(self, bucket: str, key: str, path: Path) -> None:
        """Copy an object to `path`."""
        source = self._object_path(bucket, key)
        with _open_regular(source, bucket, key) as handle, Path(path).open("wb") as target:
            shutil.copyfileobj(handle, target, _READ_BUFFER)

    def list_keys(self, bucket: str, prefix: str = "") -> Iterator[str]:
        """Keys under `prefix`, sorted."""
        validate_prefix(prefix)
        bucket_dir = self._bucket_dir(bucket)
        if not bucket_dir.is_dir():
            return iter(())
        # Walk only the folder the prefix names; symlinked folders are not followed.
        folder, _, _ = prefix.rpartition("/")
        start = bucket_dir / self._disk_relative(folder) if folder else bucket_dir
        keys: list[str] = []
        for dirpath, _dirs, files in os.walk(start):
            rel_dir = Path(dirpath).relative_to(bucket_dir)
            key_dir = "/".join(self._key_name(part) for part in rel_dir.parts)
            for name in files:
                key_name = self._key_name(name)
                key = f"{key_dir}/{key_name}" if key_dir else key_name
                if key.startswith(prefix) and not (Path(dirpath) / name).is_symlink():
                    keys.append(key)
        return iter(sorted(keys))


def _disk_name(segment: str) -> str:
    """``segment`` if it fits in a file name, else ``<head>~<sha1 hex>`` (under 255 bytes)."""
    encoded = segment.encode("utf-8", "surrogatepass")
    if len(encoded) <= _NAME_MAX:
        return segment
    head = encoded[:_HEAD_BYTES].decode("utf-8", "ignore")
    return f"{head}~{hashlib.sha1(encoded, usedforsecurity=False).hexdigest()}"
