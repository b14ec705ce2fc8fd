"""An evidence store of the test's own, for the conftests whose tests store media."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_django import Settings as SettingsWrapper

from openhotline.evidence.store import reset_store


@dataclass
class EvidenceBackend:
    """Where a test's evidence lives, and a look at the raw bytes stored there."""

    kind: str  # "local" or "s3"
    directory: Path
    url: str = ""
    client: Any = None  # boto3's, for the S3 runs

    def raw_objects(self) -> dict[str, bytes]:
        """Every stored object or file (path or key relative to the store), as bytes."""
        if self.kind == "local":
            return {
                p.relative_to(self.directory).as_posix(): p.read_bytes()
                for p in sorted(self.directory.rglob("*"))
                if p.is_file()
            }
        bucket, _, prefix = self.url[len("s3://") :].partition("/")
        found: dict[str, bytes] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/"):
            for entry in page.get("Contents", []):
                body = self.client.get_object(Bucket=bucket, Key=entry["Key"])["Body"]
                found[entry["Key"][len(prefix) + 1 :]] = body.read()
        return found


@contextmanager
def own_evidence_store(
    settings: SettingsWrapper, tmp_path: Path, *, s3_url: str = ""
) -> Iterator[Path]:
    """Point the store (a directory, or ``s3_url``) and its key ring into the test's own.

    Yields the store's directory (unused with ``s3_url``). The store is built once
    per process from the settings, so it is reset on the way in (to read the new
    ones) and on the way out (to forget them).
    """
    settings.OPENHOTLINE_EVIDENCE_DIR = tmp_path / "evidence"
    settings.OPENHOTLINE_EVIDENCE_URL = s3_url
    settings.OPENHOTLINE_EVIDENCE_KEYRING_FILE = tmp_path / "keyring.json"
    reset_store()
    try:
        yield tmp_path / "evidence"
    finally:
        reset_store()
