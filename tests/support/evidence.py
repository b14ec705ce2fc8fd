"""An evidence store of the test's own, for the conftests whose tests store media."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_django import Settings as SettingsWrapper

from openhotline.evidence.store import reset_store


@contextmanager
def own_evidence_store(settings: SettingsWrapper, tmp_path: Path) -> Iterator[Path]:
    """Point the store and its key ring into ``tmp_path``; yield the store's directory.

    The store is built once per process from the settings, so it is reset on
    the way in (to read the new ones) and on the way out (to forget them).
    """
    settings.OPENHOTLINE_EVIDENCE_DIR = tmp_path / "evidence"
    settings.OPENHOTLINE_EVIDENCE_KEYRING_FILE = tmp_path / "keyring.json"
    reset_store()
    try:
        yield tmp_path / "evidence"
    finally:
        reset_store()
