"""The evidence store's blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, …).

A `Storage` for `lib/blobstore.py`: the bytes it receives are already encrypted,
so the bucket only ever holds ciphertext under keyed-HMAC names. Objects are
laid out like the local store, ``<prefix>/ab/abcdef…`` and ``<prefix>/named/…``.

Writes never show a half-written object:

1. A write buffers up to one part (``part_size``, 8 MiB by default). Content that
   fits is sent with one PUT at commit, straight to its name.
2. Larger content is a multipart upload; each full part is sent as it fills, so
   memory stays at one part whatever the size of the video.
3. When the name is known in advance (bytes, a rotation, a named blob) the
   upload goes to the final key; otherwise (a stream, named by its hash only at
   the end) it goes to ``<prefix>/.staging/<random>``, and commit copies it
   server-side to its name and deletes the staging object.
4. A failure aborts the multipart upload and deletes the staging object. A
   process killed mid-upload leaves an incomplete upload (invisible, but
   billed) or a staging object: `sweep_temp` removes both once they are old,
   and a bucket lifecycle rule (docs/deploy.md) is the second net.

The client is boto3's, configured the standard way: ``AWS_ENDPOINT_URL``,
``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` or
``AWS_PROFILE`` (docs/deploy.md says why boto3).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from openhotline.lib.blobstore import (
    NAMED_PREFIX,
    BlobNotFound,
    PendingWrite,
    is_storage_name,
)

# S3 refuses parts under 5 MiB (except the last); 8 MiB is boto3's own default.
DEFAULT_PART_SIZE = 8 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
# The largest object one CopyObject may copy.
MAX_COPY_SIZE = 5 * 1024 * 1024 * 1024
STAGING = ".staging/"
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _MISSING


class S3Storage:
    """Blobs as objects of one bucket under a prefix; see the module docstring."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 parts must be at least {MIN_PART_SIZE} bytes")
        self.client = client
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.part_size = part_size

    def key_of(self, name: str) -> str:
        if not is_storage_name(name):
            raise BlobNotFound(name)
        if name.startswith(NAMED_PREFIX):
            return self.prefix + name
        return f"{self.prefix}{name[:2]}/{name}"

    def name_of(self, key: str) -> str | None:
        """The blob name of an object key, or None for anything else under the prefix."""
        rest = key[len(self.prefix) :]
        if rest.startswith(NAMED_PREFIX):
            return rest if is_storage_name(rest) else None
        head, _, name = rest.partition("/")
        return name if is_storage_name(name) and head == name[:2] else None

    def exists(self, name: str) -> bool:
        if not is_storage_name(name):
            return False
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key_of(name))
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def open_read(self, name: str) -> BinaryIO:
        """The object's body, streamed: evidence is read as it is decrypted."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key_of(name))
        except ClientError as exc:
            if _is_missing(exc):
                raise BlobNotFound(name) from None
            raise
        return cast(BinaryIO, response["Body"])

    def read_head(self, name: str, size: int) -> bytes:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self.key_of(name), Range=f"bytes=0-{size - 1}"
            )
        except ClientError as exc:
            if _is_missing(exc):
                raise BlobNotFound(name) from None
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # an empty object
            raise
        with response["Body"] as body:
            return bytes(body.read())

    def begin_write(self, name: str | None = None) -> PendingWrite:
        key = self.key_of(name) if name else f"{self.prefix}{STAGING}{secrets.token_hex(16)}"
        return _S3PendingWrite(self, key)

    def delete(self, name: str) -> bool:
        if not self.exists(name):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self.key_of(name))
        return True

    def names(self) -> Iterator[str]:
        content: list[str] = []
        named: list[str] = []
        for key, _ in self._objects(self.prefix):
            name = self.name_of(key)
            if name is not None:
                (named if name.startswith(NAMED_PREFIX) else content).append(name)
        yield from sorted(content)
        yield from sorted(named)

    def _objects(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield entry["Key"], entry["LastModified"]

    def pending_uploads(self) -> list[tuple[str, str, datetime]]:
        """Multipart uploads under the prefix not completed or aborted: (key, id, started)."""
        found: list[tuple[str, str, datetime]] = []
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in page.get("Uploads", []):
                found.append((upload["Key"], upload["UploadId"], upload["Initiated"]))
        return found

    def staging_objects(self) -> list[str]:
        return [key for key, _ in self._objects(self.prefix + STAGING)]

    def sweep_temp(self, older_than: float = 3600.0) -> int:
        """Abort old incomplete uploads and delete old staging objects; return how many.

        Only old ones: a younger upload may belong to a write still in progress.
        """
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        removed = 0
        for key, upload_id, started in self.pending_uploads():
            if started <= cutoff:
                with contextlib.suppress(ClientError):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
                    removed += 1
        for key, modified in self._objects(self.prefix + STAGING):
            if modified <= cutoff:
                self.client.delete_object(Bucket=self.bucket, Key=key)
                removed += 1
        return removed


class _S3PendingWrite:
    def __init__(self, storage: S3Storage, key: str) -> None:
        self._storage = storage
        self._client = storage.client
        self._bucket = storage.bucket
        self._key = key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._size = 0
        self._staged = False  # an object sits at a staging key

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= self._storage.part_size:
            self._send_part(self._storage.part_size)

    def _send_part(self, size: int) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = created["UploadId"]
        part = bytes(self._buffer[:size])
        del self._buffer[:size]
        self._size += len(part)
        number = len(self._parts) + 1
        sent = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=part,
        )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def commit(self, name: str, *, replace: bool) -> bool:
        final = self._storage.key_of(name)
        # Same name, same content: a blob that appeared meanwhile is as good as ours.
        if not replace and self._storage.exists(name):
            self.abort()
            return False
        if self._upload_id is None:
            self._client.put_object(Bucket=self._bucket, Key=final, Body=bytes(self._buffer))
            self._buffer.clear()
            return True
        if self._buffer or not self._parts:
            self._send_part(len(self._buffer))
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None
        if self._key != final:
            self._staged = True
            source = {"Bucket": self._bucket, "Key": self._key}
            if self._size <= MAX_COPY_SIZE:
                self._client.copy_object(Bucket=self._bucket, Key=final, CopySource=source)
            else:  # S3 copies larger objects only part by part; boto3's managed copy does
                self._client.copy(source, self._bucket, final)
            self._client.delete_object(Bucket=self._bucket, Key=self._key)
            self._staged = False
        return True

    def abort(self) -> None:
        self._buffer.clear()
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=upload_id
                )
            except ClientError as exc:
                if not _is_missing(exc):
                    raise
        if self._staged:
            self._staged = False
            self._client.delete_object(Bucket=self._bucket, Key=self._key)


def storage_from_url(url: str, *, part_size: int = DEFAULT_PART_SIZE) -> S3Storage:
    """An `S3Storage` for ``s3://bucket/prefix``, with boto3's standard configuration."""
    import boto3
    from botocore.config import Config

    bucket, prefix = parse_s3_url(url)
    client = boto3.session.Session().client(
        "s3", config=Config(retries={"mode": "standard", "max_attempts": 5})
    )
    return S3Storage(client, bucket, prefix, part_size=part_size)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ("bucket", "some/prefix"); ValueError otherwise."""
    if not url.startswith("s3://"):
        raise ValueError(f"{url!r} is not an s3:// URL")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket")
    return bucket, prefix.strip("/")
