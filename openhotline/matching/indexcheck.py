"""Comparing the PDQ indexes with the database (``openhotline hashset check-index``).

Every entry the database counts as indexed must have each of its usable hashes
in the index under its id. Ids in the index without an entry (deleted ones)
are counted as stale: harmless, and dropped by a rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openhotline.matching.index import get_index
from openhotline.matching.indexing import BATCHES
from openhotline.matching.models import HashEntry, IndexChange


@dataclass(frozen=True)
class IndexCheck:
    kind: str
    expected: int  # (entry, hash) pairs the database says are indexed
    missing: list[int]  # ids of entries whose hash the index lacks (or has wrong)
    pending: int  # entries added after the index's serial (not applied yet)
    stale: int  # ids in the index with no such entry (deleted; dropped by a rebuild)

    def is_consistent(self) -> bool:
        return not self.missing


def check_indexes() -> list[IndexCheck]:
    """Compare each index with the database: every indexed entry's hashes must be there."""
    return [_check(kind) for kind in BATCHES]


def _check(kind: str) -> IndexCheck:
    serial = get_index(kind).serial()
    pending_ids = set(
        IndexChange.objects.filter(serial__gt=serial, op=IndexChange.ADDED).values_list(
            "entry_id", flat=True
        )
    )
    db_ids: list[int] = []
    db_hashes: list[str] = []
    all_ids: list[int] = []
    for ids, hashes in BATCHES[kind](HashEntry.objects.all()):
        all_ids.extend(ids)
        for i, h in zip(ids, hashes, strict=True):
            if i not in pending_ids:
                db_ids.append(i)
                db_hashes.append(h)
    ix_ids, ix_words = get_index(kind).read_pairs()
    words = _words(db_hashes)
    missing = _missing_pairs(np.asarray(db_ids, dtype=np.int64), words, ix_ids, ix_words)
    stale = np.setdiff1d(np.unique(ix_ids), np.asarray(all_ids, dtype=np.int64))
    return IndexCheck(
        kind=kind,
        expected=len(db_ids),
        missing=sorted({int(i) for i in missing}),
        pending=len(pending_ids),
        stale=len(stale),
    )


def _words(hashes: list[str]) -> np.ndarray:
    raw = b"".join(bytes.fromhex(h) for h in hashes)
    return np.frombuffer(raw, dtype=np.uint64).reshape(-1, 4)


def _missing_pairs(
    db_ids: np.ndarray, db_words: np.ndarray, ix_ids: np.ndarray, ix_words: np.ndarray
) -> np.ndarray:
    """Ids of the (id, hash) pairs of the database that the index does not hold.

    1. Put both lists together, tagging database rows 0 and index rows 1.
    2. Sort by (id, hash, tag): an index copy of a database pair sorts right after it.
    3. A database row is present when the next row is the same pair from the index.
    """
    if not len(db_ids):
        return db_ids
    ids = np.concatenate([db_ids, ix_ids])
    words = np.concatenate([db_words, ix_words]).reshape(-1, 4)
    tag = np.concatenate([np.zeros(len(db_ids), np.int8), np.ones(len(ix_ids), np.int8)])
    order = np.lexsort((tag, words[:, 3], words[:, 2], words[:, 1], words[:, 0], ids))
    ids, words, tag = ids[order], words[order], tag[order]
    present = np.zeros(len(ids), dtype=bool)
    same = (ids[:-1] == ids[1:]) & (words[:-1] == words[1:]).all(axis=1)
    present[:-1] = same & (tag[1:] == 1)
    return ids[(tag == 0) & ~present]
