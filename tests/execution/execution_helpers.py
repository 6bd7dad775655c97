"""Helpers shared by the execution tests (importable; conftest.py is not)."""

from __future__ import annotations

import itertools
import socket
import time
import urllib.error
import urllib.request

from ark_batch.storage import ObjectStore, S3ObjectStore

S3_ACCESS_KEY = "test-access-key"
S3_SECRET_KEY = "test-secret-key"

_bucket_counter = itertools.count()


def make_bucket(store: ObjectStore, bucket: str) -> None:
    """Create `bucket` where the backend needs it (S3); local buckets appear on write."""
    if isinstance(store, S3ObjectStore):
        region = store.client.meta.region_name
        store.client.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
        )


def fresh_bucket(store: ObjectStore, stem: str = "bkt") -> str:
    """A bucket name not used before in this session, created on `store`."""
    name = f"{stem}-{next(_bucket_counter)}"
    make_bucket(store, name)
    return name


def free_port() -> int:
    """A TCP port that was free on loopback a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_http(url: str, timeout: float = 20.0) -> None:
    """Poll `url` until anything answers over HTTP (any status), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
