"""The evidence store of this installation, built from the settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from openhotline.evidence.keys import load_keyring
from openhotline.lib.blobstore import BlobStore


@lru_cache(maxsize=1)
def get_store() -> BlobStore:
    root = Path(settings.OPENHOTLINE_EVIDENCE_DIR)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return BlobStore(root, load_keyring())


def reset_store() -> None:
    """Forget the cached store, e.g. after the key ring changed."""
    get_store.cache_clear()
