"""Object storage on an S3-compatible endpoint (TOS, MinIO, moto, AWS) through boto3.

Needs the `s3` extra. boto3 is imported when a store is created, not when this module is
imported, so the rest of the package works without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ark_batch.storage.base import (
    ObjectNotFoundError,
    StorageError,
    split_lines,
    validate_bucket,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["AddressingStyle", "S3ObjectStore"]

AddressingStyle = Literal["path", "virtual", "auto"]

_READ_CHUNK = 1 << 16
# S3's minimum part size is 5 MiB; 8 MiB matches boto3's own multipart threshold.
PART_SIZE = 8 * 1024 * 1024
_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})


def _error_code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _import_boto3() -> Any:
    try:
        import boto3  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise StorageError(
            "the S3 storage backend needs boto3: pip install 'ark-batch[s3]'"
        ) from exc
    return boto3


class _MultipartWriter:
    """Buffers one part at a time; switches to a multipart upload once a part is full."""

    def __init__(self, client: S3Client, bucket: str, key: str, part_size: int) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._part_size = part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= self._part_size:
            self._flush_part()

    def _flush_part(self) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        part = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"ETag": part["ETag"], "PartNumber": number})
        self._buffer.clear()

    def commit(self) -> None:
        if self._upload_id is None:
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer))
            return
        if self._buffer:
            self._flush_part()
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},  # type: ignore[typeddict-item]
        )

    def abort(self) -> None:
        if self._upload_id is not None:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )


class S3ObjectStore:
    """`ObjectStore` on an S3-compatible endpoint.

    `access_key`/`secret_key` of None fall back to boto3's credential chain. Path-style
    addressing is the default because local servers (MinIO, moto) need it; pass
    `addressing_style="virtual"` for TOS. A ready boto3 client can be passed as `client`.
    """

    def __init__(
        self,
        endpoint_url: str | None,
        access_key: str | None,
        secret_key: str | None,
        region: str = "cn-beijing",
        *,
        client: S3Client | None = None,
        addressing_style: AddressingStyle = "path",
        part_size: int = PART_SIZE,
    ) -> None:
        if client is None:
            boto3 = _import_boto3()
            from botocore.config import Config  # noqa: PLC0415

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                region_name=region,
                config=Config(
                    s3={"addressing_style": addressing_style},
                    signature_version="s3v4",
                    retries={"max_attempts": 3, "mode": "standard"},
                    # Every read has a bounded wait: a stalled server fails the call
                    # (and the job's read is retried) instead of hanging it.
                    connect_timeout=10,
                    read_timeout=60,
                ),
            )
        self.client: S3Client = client
        self.endpoint_url = endpoint_url
        self._part_size = max(part_size, 5 * 1024 * 1024)

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.endpoint_url!r})"

    def _translate(self, exc: Exception, bucket: str, key: str) -> StorageError:
        if _error_code(exc) in _MISSING_CODES:
            return ObjectNotFoundError(bucket, key)
        return StorageError(f"S3 error on {bucket}/{key}: {exc}")

    def iter_lines(self, bucket: str, key: str) -> Iterator[bytes]:
        """Stream the object's lines from the response body, chunk by chunk."""
        validate_bucket(bucket)
        validate_key(key)
        try:
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        except Exception as exc:
            raise self._translate(exc, bucket, key) from exc
        return self._lines(body, bucket, key)

    @staticmethod
    def _lines(body: Any, bucket: str, key: str) -> Iterator[bytes]:
        try:
            yield from split_lines(body.iter_chunks(chunk_size=_READ_CHUNK))
        except Exception as exc:
            # Timeouts and dropped connections mid-body surface as urllib3/botocore
            # errors; callers only need to know the read failed (and may reopen).
            raise StorageError(f"reading {bucket}/{key} failed: {exc}") from exc
        finally:
            body.close()

    @contextmanager
    def open_writer(self, bucket: str, key: str) -> Iterator[_MultipartWriter]:
        """Write an object; a multipart upload is completed on success, aborted on error."""
        validate_bucket(bucket)
        validate_key(key)
        writer = _MultipartWriter(self.client, bucket, key, self._part_size)
        try:
            yield writer
            writer.commit()
        except BaseException as exc:
            # Best effort: a failed abort leaves an invisible upload, never a partial object,
            # and must not mask the error that got us here.
            with suppress(Exception):
                writer.abort()
            if isinstance(exc, Exception) and _error_code(exc):
                raise self._translate(exc, bucket, key) from exc
            raise

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object exists (HEAD)."""
        validate_bucket(bucket)
        validate_key(key)
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            if _error_code(exc) in _MISSING_CODES:
                return False
            raise self._translate(exc, bucket, key) from exc
        return True

    def upload_file(self, bucket: str, key: str, path: Path) -> None:
        """Upload a local file; boto3 switches to multipart above the part size."""
        validate_bucket(bucket)
        validate_key(key)
        from boto3.s3.transfer import TransferConfig  # noqa: PLC0415

        # Bounded buffers: at most 4 parts in flight (s3transfer's default is 10 x 8 MiB).
        config = TransferConfig(
            multipart_threshold=self._part_size,
            multipart_chunksize=self._part_size,
            max_concurrency=4,
        )
        try:
            self.client.upload_file(str(path), bucket, key, Config=config)
        except Exception as exc:
            raise self._translate(exc, bucket, key) from exc

    def download_file(self, bucket: str, key: str, path: Path) -> None:
        """Download an object to `path`."""
        validate_bucket(bucket)
        validate_key(key)
        try:
            self.client.download_file(bucket, key, str(path))
        except Exception as exc:
            raise self._translate(exc, bucket, key) from exc

    def list_keys(self, bucket: str, prefix: str = "") -> Iterator[str]:
        """Keys under `prefix`, in the server's (lexicographic) order."""
        validate_bucket(bucket)
        validate_prefix(prefix)
        return self._list(bucket, prefix)

    def _list(self, bucket: str, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except Exception as exc:
            if _error_code(exc) == "NoSuchBucket":
                return
            raise self._translate(exc, bucket, prefix) from exc
