"""Our own hash set: what this hotline's analysts classified as illegal, once in force.

Every hotline has one own set (``HashSet.is_own``), created on first use,
trusted, visible to that hotline only. When a classification takes effect
(``assessment.signals.item_classification_in_force``, sent after any
four-eyes confirmation), an illegal verdict by an analyst adds the item's
hashes, and a later verdict that is not illegal takes them out again.
Classifications made by machines (hash matches, domain rules) or received from
other hotlines do not feed it: the set holds what our analysts decided.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import Organisation
from openhotline.assessment.models import ClassificationSource, ItemStatus
from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS, Verdict, vics_category
from openhotline.audit.log import record
from openhotline.lib.onerow import find_or_create
from openhotline.matching.changelog import log_added, log_removed
from openhotline.matching.indexing import catch_up, needs_index
from openhotline.matching.models import HashEntry, HashSet, SetVerdict, Trust, entry_key

CARRIED_FIELDS = (
    "age_group",
    "gender",
    "is_virtual",
    "is_self_generated",
    "is_child_modelling",
    "is_commercial",
)


def own_set(hotline: Organisation) -> HashSet:
    """The hotline's own set, created (trusted, no review) the first time."""

    def create() -> HashSet:
        hash_set = HashSet.objects.create(
            owner=hotline,
            is_own=True,
            name=f"{hotline.name}: own classifications",
            source="openhotline",
            description="Items this hotline's analysts classified as illegal, once in force.",
            trust=Trust.TRUSTED,
            default_verdict=SetVerdict.NONE,
        )
        record("hashset.created", organisation=hotline, obj=hash_set, detail={"own": True})
        return hash_set

    # Two first classifications at once: ``one_own_set_per_hotline`` keeps one set.
    hash_set, _ = find_or_create(
        lambda: HashSet.objects.filter(owner=hotline, is_own=True).first(), create
    )
    return hash_set


def do_feed_own_set(status: ItemStatus) -> HashEntry | None:
    """Bring the hotline's own set in line with the classification in force.

    Returns the entry added or updated, or None. Safe to run again.
    """
    classification = status.current
    if not status.is_in_force() or classification.source != ClassificationSource.ANALYST:
        return None
    item = status.media_item
    hotline = status.hotline
    key = entry_key(sha256=item.sha256)
    with transaction.atomic():
        hash_set = own_set(hotline)
        existing = HashEntry.objects.filter(hash_set=hash_set, key=key).first()
        if classification.verdict not in ILLEGAL_VERDICTS:
            if existing is not None:
                removed = existing.pk
                existing.delete()
                log_removed([removed])
                record(
                    "hashset.own_entry_removed",
                    organisation=hotline,
                    obj=item,
                    detail={"set": hash_set.code, "verdict": classification.verdict},
                )
            return None
        verdict = classification.verdict
        if verdict == Verdict.NATIONAL and classification.is_virtual:
            verdict = SetVerdict.NATIONAL_VIRTUAL
        metadata = {
            "media_code": item.code,
            "mime": item.mime,
            "size": item.size,
            "classified_at": classification.created_at.isoformat(),
            "classification": {f: getattr(classification, f) for f in CARRIED_FIELDS},
        }
        category = vics_category(classification.verdict, virtual=classification.is_virtual)
        frames = [[frame[0], frame[1]] for frame in item.vpdq or ()]

        def create() -> HashEntry:
            return HashEntry.objects.create(
                hash_set=hash_set,
                key=key,
                md5=item.md5,
                sha1=item.sha1,
                sha256=item.sha256,
                pdq=item.pdq,
                pdq_quality=item.pdq_quality,
                vpdq=frames,
                category=category,
                verdict=verdict,
                metadata=metadata,
                source_media=item,
                created_at=timezone.now(),
            )

        # ``one_entry_per_key`` keeps one entry when the same item is fed twice at once.
        entry, created = find_or_create(
            lambda: HashEntry.objects.filter(hash_set=hash_set, key=key).first(), create
        )
        if not created:
            entry.verdict, entry.category, entry.metadata = verdict, category, metadata
            entry.save(update_fields=["verdict", "category", "metadata"])
        elif needs_index(entry.pdq, entry.pdq_quality, frames):
            log_added([entry.pk])
        record(
            "hashset.own_entry_added",
            organisation=hotline,
            obj=item,
            detail={"set": hash_set.code, "verdict": verdict},
        )
    if created:
        # After the commit (at once when there is no outer transaction).
        transaction.on_commit(catch_up)
    return entry
