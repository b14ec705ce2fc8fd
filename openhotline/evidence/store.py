"""The evidence store of this installation, built from the settings.

``OPENHOTLINE_EVIDENCE_URL`` chooses where the encrypted blobs live: empty (the
default) for the local directory ``OPENHOTLINE_EVIDENCE_DIR``, ``s3://bucket/prefix``
for an S3-compatible bucket (lib/s3storage.py; endpoint, region and credentials
come from the standard AWS variables or profile). Either way the same `BlobStore`
encrypts, names and rotates; callers see no difference.

Besides evidence, the store keeps named blobs for other parts of the system
(``get_store().put_blob(label, file)``, ``open_blob(label)``, ``blob_labels()``;
see lib/blobstore.py), e.g. the PDQ index snapshots a new machine starts from.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from openhotline.evidence.keys import load_keyring
from openhotline.lib.blobstore import BlobStore, LocalStorage, Storage


def build_storage() -> Storage:
    url = settings.OPENHOTLINE_EVIDENCE_URL
    if url.startswith("s3://"):
        from openhotline.lib.s3storage import storage_from_url

        return storage_from_url(url)
    root = Path(settings.OPENHOTLINE_EVIDENCE_DIR)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return LocalStorage(root)


@lru_cache(maxsize=1)
def get_store() -> BlobStore:
    return BlobStore(build_storage(), load_keyring())


def reset_store() -> None:
    """Forget the cached store, e.g. after the key ring changed."""
    get_store.cache_clear()


# A forked worker must not share the parent's S3 connections (urllib3 pools are
# not fork-safe): each child builds its own store on first use.
os.register_at_fork(after_in_child=reset_store)
