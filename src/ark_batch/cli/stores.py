"""The object store a command uploads to or reads results from.

A local store directory must exist (nothing is created by mistake). When it is an
emulator's data dir (``jobs.sqlite3`` beside ``objects/``), its object root
``objects/`` is used instead, with a note on stderr: that is where the emulator reads
inputs and writes results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import unquote, urlsplit

import typer

from ark_batch.cli.failures import UsageError
from ark_batch.cli.output import location
from ark_batch.redaction import redact_url, redact_url_in

if TYPE_CHECKING:
    from ark_batch.storage import ObjectStore

__all__ = ["S3EndpointOpt", "StoreChoice", "StoreDirOpt", "StoreOpt", "choose_store"]

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="ARK_BATCH_STORE",
        show_envvar=True,
        help=(
            "Object store URL: file:///path (a local directory, bucket = folder; the "
            "emulator's object root) or s3+http(s)://[AK:SK@]host[:port][?region=..]."
        ),
    ),
]
StoreDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--store-dir",
        help="Local object-store directory: the emulator's DATA_DIR/objects (DATA_DIR "
        "itself is recognised).",
        file_okay=False,
    ),
]
S3EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--s3-endpoint",
        envvar="ARK_BATCH_S3_ENDPOINT",
        show_envvar=True,
        help=(
            "S3-compatible endpoint, path-style addressing (MinIO, moto, ...). Keys from "
            "ARK_BATCH_S3_ACCESS_KEY/ARK_BATCH_S3_SECRET_KEY, else boto3's own chain "
            "(AWS_ACCESS_KEY_ID, ...). For TOS use --store "
            "'s3+https://AK:SK@tos-s3-cn-beijing.volces.com?addressing_style=virtual'."
        ),
    ),
]

#: What an emulator keeps in its data dir, beside its object root.
EMULATOR_STATE_FILE = "jobs.sqlite3"
EMULATOR_OBJECT_ROOT = "objects"


@dataclass(frozen=True)
class StoreChoice:
    """The store, and how to say where an object in it is."""

    store: ObjectStore
    #: The local directory holding the buckets, for a local store.
    root: Path | None
    #: The store as the user named it, secrets removed.
    description: str

    def where(self, bucket: str, key: str) -> str:
        """``tos://bucket/key``, and its local file for a local store."""
        where = location(bucket, key)
        if self.root is not None:
            return f"{where} ({self.root / bucket / key})"
        return f"{where} (in {self.description})"


def object_root(directory: Path, flag: str) -> Path:
    """The directory holding the buckets: ``directory``, or an emulator's object root."""
    if not directory.exists():
        raise UsageError(
            f"{flag} {directory}: no such directory (for the emulator, give its "
            f"DATA_DIR/{EMULATOR_OBJECT_ROOT})"
        )
    if not directory.is_dir():
        raise UsageError(f"{flag} {directory}: not a directory")
    if (directory / EMULATOR_STATE_FILE).is_file():
        root = directory / EMULATOR_OBJECT_ROOT
        typer.echo(
            f"Note: {directory} is an emulator's data dir; using its object root {root}",
            err=True,
        )
        return root
    return directory


def _check_s3_endpoint(url: str) -> None:
    """Refuse an --s3-endpoint that is not an http(s) URL with a host and a valid port.

    boto3 would otherwise fail later with the URL, credentials and all, in its message.
    """
    shown = f"--s3-endpoint {redact_url(url)}"
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is not a number in range raises here
    except ValueError as exc:
        raise UsageError(f"{shown} is not a valid URL: {redact_url_in(str(exc), url)}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{shown} is not an http(s)://host[:port] URL")
    if any(c.isspace() for c in url) or (port is None and parts.netloc.endswith(":")):
        raise UsageError(f"{shown} is not a valid URL")
    if "@" in parts.netloc:
        # boto3 does not read keys from the URL; it would only repeat them in its errors.
        raise UsageError(
            f"{shown}: give the keys in ARK_BATCH_S3_ACCESS_KEY and ARK_BATCH_S3_SECRET_KEY, "
            "not in the URL (or use --store s3+http(s)://AK:SK@host)"
        )


def choose_store(store: str | None, store_dir: Path | None, s3_endpoint: str | None) -> StoreChoice:
    """The one store the flags name."""
    from ark_batch.storage import (  # noqa: PLC0415  # boto3 is heavy
        LocalObjectStore,
        S3ObjectStore,
        StorageError,
        open_store,
    )

    chosen = [x for x in (store, store_dir, s3_endpoint) if x]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --store, --store-dir or --s3-endpoint")
    if store_dir is not None:
        root = object_root(store_dir, "--store-dir")
        return StoreChoice(LocalObjectStore(root), root, f"--store-dir {root}")
    if s3_endpoint is not None:
        shown = f"--s3-endpoint {redact_url(s3_endpoint)}"
        _check_s3_endpoint(s3_endpoint)
        try:
            s3 = S3ObjectStore(
                s3_endpoint,
                os.environ.get("ARK_BATCH_S3_ACCESS_KEY") or None,
                os.environ.get("ARK_BATCH_S3_SECRET_KEY") or None,
                os.environ.get("ARK_BATCH_S3_REGION") or "cn-beijing",
            )
        except ValueError:  # botocore's message repeats the URL, credentials included
            raise UsageError(f"{shown} is not a valid URL") from None
        return StoreChoice(s3, None, shown)
    assert store is not None
    try:
        parts = urlsplit(store)
    except ValueError as exc:  # an unclosed [IPv6 host
        detail = redact_url_in(str(exc), store)
        raise UsageError(f"--store {redact_url(store)} is not a valid URL: {detail}") from None
    if parts.scheme in ("", "file"):
        path = Path(unquote(parts.path) if parts.scheme == "file" else store)
        root = object_root(path, "--store")
        return StoreChoice(LocalObjectStore(root), root, f"--store {root.resolve().as_uri()}")
    try:
        opened = open_store(store)
    except ValueError as exc:  # urllib's parse of a bad port or IPv6 host; no URL in it
        detail = redact_url_in(str(exc), store)
        raise UsageError(f"--store {redact_url(store)} is not a valid URL: {detail}") from None
    except StorageError:
        raise UsageError(
            f"--store {redact_url(store)}: use file:///path or s3+http(s)://host[:port]"
        ) from None
    return StoreChoice(opened, None, f"--store {redact_url(store)}")
