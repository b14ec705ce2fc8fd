"""Snapshots of the PDQ indexes in the object store, for machines that start empty.

A snapshot is one tar stream per index (``pdq``, ``vpdq``): its entries,
segments and manifest, and the serial of the last change it holds. A new
machine installs the newest one and then applies only the changes after that
serial (``matching.indexing.catch_up``), instead of reading every entry from
the database. ``hashset snapshot-index`` and the ``snapshot_index`` sweep
write them (``matching.indexing.write_snapshots``); ``hashset rebuild-index``
is still there for a full rebuild.

Snapshots hold hashes, never images. They are kept as named blobs of the
evidence store (``pdq-index/pdq.tar``, ``pdq-index/vpdq.tar``), encrypted like
evidence, on the local directory or on S3 (``OPENHOTLINE_EVIDENCE_URL``): where
every machine of the installation reaches them. ``OPENHOTLINE_INDEX_SNAPSHOTS``
set to a directory keeps them there instead.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from django.conf import settings

from openhotline.evidence.store import get_store
from openhotline.matching.index import get_index

logger = logging.getLogger(__name__)


class SnapshotStore(Protocol):
    def put(self, name: str, source: BinaryIO) -> None:
        """Store ``source`` (read to its end) under ``name``, replacing any older one."""
        ...

    def open(self, name: str) -> BinaryIO | None:
        """The stored object, or None if there is none."""
        ...


class LocalSnapshotStore:
    """Snapshots in a directory (on one machine, or a shared file system)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, name: str, source: BinaryIO) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                while chunk := source.read(1 << 20):
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.root / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, name: str) -> BinaryIO | None:
        try:
            return open(self.root / name, "rb")  # noqa: SIM115 (the caller closes it)
        except FileNotFoundError:
            return None


class EvidenceSnapshotStore:
    """Snapshots as named blobs of the evidence store (lib/blobstore.py)."""

    PREFIX = "pdq-index/"

    def put(self, name: str, source: BinaryIO) -> None:
        get_store().put_blob(self.PREFIX + name, source)

    def open(self, name: str) -> BinaryIO | None:
        store = get_store()
        if not store.blob_exists(self.PREFIX + name):
            return None
        return store.open_blob(self.PREFIX + name)


def snapshot_store() -> SnapshotStore:
    if settings.OPENHOTLINE_INDEX_SNAPSHOTS:
        return LocalSnapshotStore(Path(settings.OPENHOTLINE_INDEX_SNAPSHOTS))
    return EvidenceSnapshotStore()


def _name(kind: str) -> str:
    return f"{kind}.tar"


def store_snapshot(kind: str, source: BinaryIO) -> None:
    """Store a snapshot of the ``kind`` index (a tar stream from ``SharedIndex.export``)."""
    snapshot_store().put(_name(kind), source)


def restore_snapshots(kinds: list[str]) -> dict[str, int]:
    """Install the stored snapshot of each of ``kinds`` there is; return their serials.

    The caller holds the machine lock.
    """
    store = snapshot_store()
    installed: dict[str, int] = {}
    for kind in kinds:
        with _opened(store, _name(kind)) as source:
            if source is None:
                continue
            installed[kind] = get_index(kind).install(source, grace=0)
            logger.info("PDQ index %s: installed the snapshot at serial %s", kind, installed[kind])
    return installed


@contextmanager
def _opened(store: SnapshotStore, name: str) -> Iterator[BinaryIO | None]:
    source = store.open(name)
    try:
        yield source
    finally:
        if source is not None:
            source.close()
