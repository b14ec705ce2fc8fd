"""Looking hashes up in hash sets: exact, PDQ (with the 8 dihedral variants) and vPDQ.

Used by the matching task (a stored media item against every active set), the
CLI and the API (hashes or a file against the sets an organisation may see).
Nothing here writes.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Max, Q, QuerySet

from openhotline.evidence.models import MediaItem
from openhotline.lib.pdq import DIHEDRAL_NAMES, pdq_distance
from openhotline.lib.vpdq import VideoFrameHash, match_vpdq
from openhotline.matching.index import get_index
from openhotline.matching.indexing import catch_up
from openhotline.matching.models import (
    EXACT_KINDS,
    MIN_PDQ_QUALITY,
    HashEntry,
    HashKind,
    HashSet,
)

# At most this many entries are reported per query (the closest), so that a hash
# close to thousands of entries cannot swamp a worker.
logger = logging.getLogger(__name__)

MAX_HITS = 1000
# Candidate videos (those sharing frames with the query) compared in full.
MAX_VIDEO_CANDIDATES = 200
LOAD_CHUNK = 900  # ids per query, within SQLite's smallest parameter limit


@dataclass(frozen=True)
class Query:
    """The hashes of one piece of content; empty strings and tuples for the unknown."""

    md5: str = ""
    sha1: str = ""
    sha256: str = ""
    # The PDQ hash as is, then (for stored images) its dihedral variants.
    pdq: tuple[str, ...] = ()
    pdq_quality: int | None = None
    # vPDQ frames: (hash, quality).
    frames: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of_media(cls, item: MediaItem) -> Query:
        variants = tuple(item.pdq_dihedral) or ((item.pdq,) if item.pdq else ())
        return cls(
            md5=item.md5,
            sha1=item.sha1,
            sha256=item.sha256,
            pdq=variants,
            pdq_quality=item.pdq_quality,
            frames=tuple((frame[0], int(frame[1])) for frame in item.vpdq or ()),
        )

    def usable_pdq(self) -> tuple[str, ...]:
        if self.pdq_quality is not None and self.pdq_quality < MIN_PDQ_QUALITY:
            return ()
        return self.pdq

    def usable_frames(self) -> list[str]:
        return list(dict.fromkeys(h for h, q in self.frames if q >= MIN_PDQ_QUALITY))


@dataclass(frozen=True)
class Found:
    entry: HashEntry  # with its hash_set loaded
    kind: str
    distance: int
    detail: dict[str, Any] = field(default_factory=dict)

    def rank(self) -> tuple[int, int, str]:
        exact = 0 if self.kind in EXACT_KINDS else 1
        return (exact, self.distance, self.entry.hash_set.name)


def find_matches(query: Query, sets: QuerySet[HashSet]) -> list[Found]:
    """Every entry of ``sets`` (active ones only) that ``query`` matches, best first.

    1. Exact: entries sharing an MD5, SHA-1 or SHA-256 (indexed columns).
    2. PDQ: the query and its variants against the PDQ index at the largest set
       threshold; each hit is then held to its own set's threshold.
    3. vPDQ: frames against the frame index to find candidate videos, then each
       candidate is compared frame set to frame set (lib.vpdq, 80% both ways).
    4. One result per entry: an exact match wins over a perceptual one.

    Perceptual queries first bring this machine's index up to date with the
    change log (one query when nothing is new), so a hash imported on another
    machine a moment ago is found here too.
    """
    sets = sets.filter(active=True)
    if query.usable_pdq() or query.usable_frames():
        _catch_up()
    best: dict[int, Found] = {}
    for found in [*_exact(query, sets), *_pdq(query, sets), *_vpdq(query, sets)]:
        known = best.get(found.entry.pk)
        if known is None or found.rank() < known.rank():
            best[found.entry.pk] = found
    return sorted(best.values(), key=Found.rank)[:MAX_HITS]


def _catch_up() -> None:
    try:
        catch_up()
    except Exception:
        # A stale index still matches all it holds; the worker's background
        # catch-up keeps trying, and /readyz shows the lag.
        logger.exception("PDQ index: catching up with the change log failed")


def _exact(query: Query, sets: QuerySet[HashSet]) -> list[Found]:
    wanted = {k: getattr(query, k).lower() for k in EXACT_KINDS if getattr(query, k)}
    if not wanted:
        return []
    condition = Q()
    for kind, value in wanted.items():
        condition |= Q(**{str(kind): value})
    entries = HashEntry.objects.filter(condition, hash_set__in=sets).select_related("hash_set")
    found = []
    for entry in entries[:MAX_HITS]:
        kind = next(k for k in EXACT_KINDS if k in wanted and getattr(entry, k) == wanted[k])
        found.append(Found(entry, kind, 0))
    return found


def _visible(ids: list[int], sets: QuerySet[HashSet], limit: int) -> list[HashEntry]:
    """The first ``limit`` entries of ``ids`` (best first) that belong to ``sets``.

    Hits in sets the caller may not see are skipped here, so they cannot crowd out
    the ones it may see.
    """
    entries: list[HashEntry] = []
    for start in range(0, len(ids), LOAD_CHUNK):
        chunk = ids[start : start + LOAD_CHUNK]
        loaded = HashEntry.objects.filter(pk__in=chunk, hash_set__in=sets).select_related(
            "hash_set"
        )
        by_id = {entry.pk: entry for entry in loaded}
        entries.extend(by_id[i] for i in chunk if i in by_id)
        if len(entries) >= limit:
            return entries[:limit]
    return entries


def _threshold(sets: QuerySet[HashSet]) -> int | None:
    return sets.aggregate(top=Max("pdq_threshold"))["top"]


def _pdq(query: Query, sets: QuerySet[HashSet]) -> list[Found]:
    variants = query.usable_pdq()
    threshold = _threshold(sets) if variants else None
    if threshold is None:
        return []
    closest: dict[int, int] = {}
    for hits in get_index("pdq").search_many(variants, threshold):
        for entry_id, distance in hits:
            closest[entry_id] = min(distance, closest.get(entry_id, distance))
    found = []
    for entry in _visible(sorted(closest, key=closest.__getitem__), sets, MAX_HITS):
        if not entry.usable_pdq():
            continue
        # The distance is taken from the database's hash: the index only finds.
        distances = [pdq_distance(entry.pdq, variant) for variant in variants]
        distance = min(distances)
        if distance > entry.hash_set.pdq_threshold:
            continue
        detail = {}
        if len(variants) == len(DIHEDRAL_NAMES):
            detail["variant"] = DIHEDRAL_NAMES[distances.index(distance)]
        found.append(Found(entry, HashKind.PDQ, distance, detail))
    return found


def _vpdq(query: Query, sets: QuerySet[HashSet]) -> list[Found]:
    frames = query.usable_frames()
    threshold = _threshold(sets) if frames else None
    if threshold is None:
        return []
    shared: Counter[int] = Counter()
    for hits in get_index("vpdq").search_many(frames, threshold):
        shared.update({entry_id for entry_id, _ in hits})
    candidates = _visible([i for i, _ in shared.most_common()], sets, MAX_VIDEO_CANDIDATES)
    ours = [VideoFrameHash(i, 0.0, h, q) for i, (h, q) in enumerate(query.frames)]
    percent = settings.OPENHOTLINE_VPDQ_MATCH_PERCENT
    found = []
    for entry in candidates:
        limit = entry.hash_set.pdq_threshold
        theirs = [
            VideoFrameHash(i, 0.0, frame[0], MIN_PDQ_QUALITY if frame[1] is None else frame[1])
            for i, frame in enumerate(entry.vpdq)
        ]
        overlap = match_vpdq(ours, theirs, distance_threshold=limit)
        if not overlap.is_match(percent):
            continue
        distance = _median_distance(frames, entry.usable_frames(), limit)
        detail = {
            "query_percent": round(overlap.query_percent, 1),
            "target_percent": round(overlap.target_percent, 1),
        }
        found.append(Found(entry, HashKind.VPDQ, distance, detail))
    return found


def _median_distance(ours: list[str], theirs: list[str], limit: int) -> int:
    """Median, over our frames that match, of the distance to their closest frame."""
    a = np.frombuffer(b"".join(bytes.fromhex(h) for h in ours), dtype=np.uint64).reshape(-1, 4)
    b = np.frombuffer(b"".join(bytes.fromhex(h) for h in theirs), dtype=np.uint64).reshape(-1, 4)
    nearest = [int(np.bitwise_count(b ^ row).sum(axis=1).min()) for row in a]
    close = [d for d in nearest if d <= limit]
    return int(statistics.median_low(close)) if close else limit


def found_json(found: Found, *, metadata: bool) -> dict[str, Any]:
    """A match as the CLI and the API show it; ``metadata`` only for the network."""
    entry = found.entry
    hash_set = entry.hash_set
    data: dict[str, Any] = {
        "set": {
            "code": hash_set.code,
            "name": hash_set.name,
            "source": hash_set.source,
            "trust": hash_set.trust,
            "shared": hash_set.is_shared(),
        },
        "kind": found.kind,
        "distance": found.distance,
        "verdict": hash_set.verdict_for(entry),
        "entry": {
            "md5": entry.md5 or None,
            "sha1": entry.sha1 or None,
            "sha256": entry.sha256 or None,
            "pdq": entry.pdq or None,
            "category": entry.category,
        },
    }
    if found.detail:
        data["detail"] = found.detail
    if metadata:
        data["entry"]["metadata"] = entry.metadata
    return data
