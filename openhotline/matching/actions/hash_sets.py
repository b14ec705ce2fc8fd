"""Managing hash sets, and recording what a media item matched.

Imports live in ``matching.importing`` and the own-set feed in
``matching.ownset``; both follow the same rules (one transaction, audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import ApiKey, Organisation, OrgKind, User
from openhotline.assessment.actions.classification import do_classify_item
from openhotline.assessment.models import ClassificationSource, ItemStatus
from openhotline.audit.log import record
from openhotline.evidence.models import MediaItem
from openhotline.matching.changelog import log_removed_query
from openhotline.matching.lookup import Found, Query, find_matches
from openhotline.matching.models import HashEntry, HashSet, Match, MatchedItem
from openhotline.matching.verdicts import PROFILE_CATEGORIES, decide

SET_FIELDS = frozenset(
    {
        "source",
        "description",
        "trust",
        "default_verdict",
        "category_profile",
        "category_verdicts",
        "pdq_threshold",
        "review_required",
        "audience",
        "active",
        "name",
    }
)


DELETE_CHUNK = 900  # ids per DELETE, within SQLite's smallest parameter limit


class MatchingError(ValueError):
    """A hash-set operation that is not allowed, with the reason."""


def _validate(hash_set: HashSet) -> None:
    try:
        hash_set.full_clean()
    except ValidationError as exc:
        problems = "; ".join(
            " ".join(messages) if name == "__all__" else f"{name}: {' '.join(messages)}"
            for name, messages in exc.message_dict.items()
        )
        raise MatchingError(problems) from None


def do_create_set(
    name: str, *, owner: Organisation | None = None, actor: User | None = None, **fields: Any
) -> HashSet:
    """Create a hash set owned by a hotline, or installation-wide when ``owner`` is None.

    The category map starts from the profile's (US: 0 not illegal, 1 the default
    verdict, 3 virtual); ``category_verdicts`` given here amends it.
    """
    unknown = set(fields) - SET_FIELDS
    if unknown:
        raise MatchingError(f"unknown fields: {', '.join(sorted(unknown))}")
    if owner is not None and owner.kind != OrgKind.HOTLINE:
        raise MatchingError("hash sets belong to a hotline or to the whole installation")
    hash_set = HashSet(name=name, owner=owner, **fields)
    hash_set.category_verdicts = {
        **PROFILE_CATEGORIES.get(hash_set.category_profile, {}),
        **(fields.get("category_verdicts") or {}),
    }
    _validate(hash_set)
    with transaction.atomic():
        hash_set.save()
        record(
            "hashset.created",
            actor=actor,
            organisation=owner,
            obj=hash_set,
            detail={"name": name, **_describe(hash_set)},
        )
    return hash_set


def do_update_set(hash_set: HashSet, *, actor: User | None = None, **changes: Any) -> HashSet:
    unknown = set(changes) - SET_FIELDS
    if unknown:
        raise MatchingError(f"unknown fields: {', '.join(sorted(unknown))}")
    if "category_verdicts" in changes:
        changes["category_verdicts"] = {
            **hash_set.category_verdicts,
            **changes["category_verdicts"],
        }
    for name, value in changes.items():
        setattr(hash_set, name, value)
    _validate(hash_set)
    with transaction.atomic():
        hash_set.save(update_fields=[*changes, "updated_at"])
        record(
            "hashset.changed",
            actor=actor,
            organisation=hash_set.owner,
            obj=hash_set,
            detail={k: v for k, v in _describe(hash_set).items() if k in changes},
        )
    return hash_set


def do_delete_set(hash_set: HashSet, *, actor: User | None = None) -> int:
    """Delete a set with its entries and matches (pre-classifications stay in history).

    Its hashes stay in the PDQ index, ignored, until ``hashset rebuild-index``.
    The removals are logged first (``matching.changelog``), so other writers of
    the log wait until the deletion commits: deleting a set is rare.
    """
    with transaction.atomic():
        count = hash_set.entries.count()
        record(
            "hashset.deleted",
            actor=actor,
            organisation=hash_set.owner,
            obj=hash_set,
            detail={"name": hash_set.name, "entries": count},
        )
        # In chunks: a national set has millions of entries, too many to collect at once.
        Match.objects.filter(hash_set=hash_set).delete()
        log_removed_query(hash_set.entries.all())
        while ids := list(hash_set.entries.values_list("pk", flat=True)[:DELETE_CHUNK]):
            HashEntry.objects.filter(pk__in=ids).delete()
        hash_set.delete()
    return count


def _describe(hash_set: HashSet) -> dict[str, Any]:
    return {
        "trust": hash_set.trust,
        "default_verdict": hash_set.default_verdict,
        "pdq_threshold": hash_set.pdq_threshold,
        "review_required": hash_set.review_required,
        "audience": hash_set.audience,
        "active": hash_set.active,
        "category_verdicts": hash_set.category_verdicts,
        "name": hash_set.name,
        "source": hash_set.source,
        "description": hash_set.description,
        "category_profile": hash_set.category_profile,
    }


@dataclass(frozen=True)
class MatchOutcome:
    matches: list[Found]
    classified: list[ItemStatus]


def do_match_item(item: MediaItem) -> MatchOutcome:
    """Match a stored item against every active set; record and pre-classify.

    1. Look the item's hashes up (outside the transaction: it only reads).
    2. In one transaction, with the item locked: make its ``Match`` rows equal
       to what was found.
    3. For each hotline that has the item on one of its reported URLs and has
       not classified it yet: pre-classify from the matches with the sets that
       hotline may see (``verdicts.decide``).
    Running it again changes nothing.
    """
    found = find_matches(Query.of_media(item), HashSet.objects.all())
    with transaction.atomic():
        MediaItem.objects.select_for_update().filter(pk=item.pk).first()
        created = _sync_matches(item, found)
        MatchedItem.objects.update_or_create(
            media_item=item, defaults={"matched_at": timezone.now()}
        )
        if created:
            record(
                "media.hash_matched",
                obj=item,
                detail={
                    "matches": [
                        {"set": m.hash_set.code, "kind": m.kind, "distance": m.distance}
                        for m in created
                    ]
                },
            )
        classified = _preclassify(item, found)
    return MatchOutcome(found, classified)


def _sync_matches(item: MediaItem, found: list[Found]) -> list[Match]:
    existing = {match.entry_id: match for match in Match.objects.filter(media_item=item)}
    created = []
    for hit in found:
        match = existing.pop(hit.entry.pk, None)
        if match is None:
            created.append(
                Match(
                    media_item=item,
                    hash_set=hit.entry.hash_set,
                    entry=hit.entry,
                    kind=hit.kind,
                    distance=hit.distance,
                    detail=hit.detail,
                )
            )
        elif (match.kind, match.distance, match.detail) != (hit.kind, hit.distance, hit.detail):
            match.kind, match.distance, match.detail = hit.kind, hit.distance, hit.detail
            match.save(update_fields=["kind", "distance", "detail"])
    Match.objects.bulk_create(created)
    if existing:
        Match.objects.filter(pk__in=[m.pk for m in existing.values()]).delete()
    return created


def _preclassify(item: MediaItem, found: list[Found]) -> list[ItemStatus]:
    if not found:
        return []
    hotlines = Organisation.objects.filter(
        kind=OrgKind.HOTLINE, reported_urls__media_links__media_item=item
    ).distinct()
    decided = set(
        ItemStatus.objects.filter(media_item=item, hotline__in=hotlines).values_list(
            "hotline_id", flat=True
        )
    )
    statuses = []
    for hotline in hotlines:
        if hotline.pk in decided:
            continue  # an analyst (or an earlier match) decided already
        visible = [f for f in found if f.entry.hash_set.owner_id in (None, hotline.pk)]
        decision = decide(visible)
        if decision is None:
            continue
        statuses.append(
            do_classify_item(
                hotline,
                item,
                decision.verdict,
                analyst=None,
                source=ClassificationSource.HASH_MATCH,
                reason=decision.reason[:300],
                **decision.attributes,
            )
        )
    return statuses


def do_record_lookup(key: ApiKey, found: list[Found]) -> None:
    """Audit a partner's hash lookup: which key, how many matches, in which sets."""
    record(
        "matching.lookup",
        organisation=key.organisation,
        object_type="apikey",
        object_id=key.prefix,
        detail={"matches": len(found), "sets": sorted({f.entry.hash_set.code for f in found})},
    )
