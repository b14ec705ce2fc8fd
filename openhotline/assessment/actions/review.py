"""The review screen's actions: classify items (one or many at once), undo, finish.

Every key press of the analyst is one of these calls, saved at once. A
change to an item's attributes records a new ``Classification`` built from
the one in force (history is never rewritten); undo points the item back at
the classification it had before, and leaves the undone one in the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from openhotline.accounts.models import User
from openhotline.assessment.actions.claims import do_release_claim
from openhotline.assessment.actions.classification import (
    CLASSIFICATION_FIELDS,
    AssessmentError,
    do_classify_item,
    do_finish_url,
)
from openhotline.assessment.models import (
    Classification,
    ClassificationSource,
    ItemStatus,
    ReviewDraft,
    ReviewState,
    UrlAssessment,
)
from openhotline.assessment.signals import item_classification_in_force
from openhotline.assessment.vocabulary import AgeGroup, Gender, SiteType, Verdict
from openhotline.audit.log import record
from openhotline.evidence.models import MediaItem, UrlMedia
from openhotline.reports.models import ReportedUrl

FLAGS = ("is_virtual", "is_self_generated", "is_child_modelling", "is_commercial")


@dataclass
class Card:
    """One media item of the page as the review screen shows it."""

    item: MediaItem
    status: ItemStatus | None
    known_reason: str | None  # set for known (hash-matched) items

    @property
    def known(self) -> bool:
        return self.known_reason is not None

    @property
    def current(self) -> Classification | None:
        return self.status.current if self.status is not None else None


def page_media(reported_url: ReportedUrl) -> list[MediaItem]:
    """The page's media items in the order they were found (one query)."""
    return [link.media_item for link in media_links(reported_url)]


def media_links(reported_url: ReportedUrl) -> list[UrlMedia]:
    """The URL's media links, with their items, in the order they were found (one query)."""
    return list(
        UrlMedia.objects.filter(reported_url=reported_url)
        .select_related("media_item")
        .order_by("created_at", "pk")
    )


@dataclass
class PageGroup:
    """The cards of one page: the reported URL, or a page of its gallery the crawler followed."""

    url: str
    cards: list[Card]


def group_by_page(cards: list[Card], links: list[UrlMedia], reported: str) -> list[PageGroup]:
    """`cards` by the page their item was found on: the reported page first, then the
    followed pages as their first item was stored; each group's cards keep their order."""
    page_of = {link.media_item_id: link.page_url or reported for link in links}
    groups: dict[str, PageGroup] = {reported: PageGroup(reported, [])}
    for card in cards:
        url = page_of.get(card.item.pk, reported)
        groups.setdefault(url, PageGroup(url, [])).cards.append(card)
    return [group for group in groups.values() if group.cards]


def cards_for(reported_url: ReportedUrl, items: Iterable[MediaItem] | None = None) -> list[Card]:
    """Cards for the page's items (or some of them) in three queries."""
    media = list(items if items is not None else page_media(reported_url))
    ids = [item.pk for item in media]
    statuses = {
        status.media_item_id: status
        for status in ItemStatus.objects.filter(
            hotline_id=reported_url.hotline_id, media_item_id__in=ids
        ).select_related("current", "current__analyst")
    }
    reasons: dict[int, str] = {}
    for item_id, reason in (
        Classification.objects.filter(
            hotline_id=reported_url.hotline_id,
            media_item_id__in=ids,
            source=ClassificationSource.HASH_MATCH,
        )
        .order_by("created_at")
        .values_list("media_item_id", "reason")
    ):
        reasons[item_id] = reason or "hash-set match"
    return [Card(item, statuses.get(item.pk), reasons.get(item.pk)) for item in media]


def parse_changes(data: Any) -> dict[str, Any]:
    """The classification changes a request asks for, validated against the vocabulary."""
    changes: dict[str, Any] = {}
    if data.get("verdict"):
        if data["verdict"] not in Verdict.values:
            raise AssessmentError(gettext("unknown verdict"))
        changes["verdict"] = data["verdict"]
    if data.get("age_group"):
        if data["age_group"] not in AgeGroup.values:
            raise AssessmentError(gettext("unknown age group"))
        changes["age_group"] = data["age_group"]
    if data.get("gender"):
        if data["gender"] not in Gender.values:
            raise AssessmentError(gettext("unknown gender"))
        changes["gender"] = data["gender"]
    for flag in FLAGS:
        if data.get(flag) in {"0", "1"}:
            changes[flag] = data[flag] == "1"
    if "payment_method" in data:
        changes["payment_method"] = str(data["payment_method"])[:100]
    if not changes:
        raise AssessmentError(gettext("nothing to change"))
    return changes


def _snapshot(status: ItemStatus | None) -> dict[str, Any] | None:
    if status is None:
        return None
    return {
        "current": status.current_id,
        "review_state": status.review_state,
        "confirmed_by": status.confirmed_by_id,
        "confirmed_at": status.confirmed_at.isoformat() if status.confirmed_at else None,
    }


class SharedItemChange(AssessmentError):
    """Changing these items' verdict changes finished URLs too: the analyst must say so."""

    def __init__(self, urls: list[ReportedUrl]) -> None:
        self.urls = urls
        listed = ", ".join(f"{url.code} ({url.url})" for url in urls[:10])
        super().__init__(
            gettext(
                "This changes the verdict of an item also on %(n)s finished URL(s): "
                "%(urls)s. Confirm the change for all of them; a second person then confirms it."
            )
            % {"n": len(urls), "urls": listed}
        )


def finished_urls_sharing(
    reported_url: ReportedUrl, items: list[MediaItem], changes: dict[str, Any]
) -> list[ReportedUrl]:
    """Other finished URLs whose verdict in force a change of these items' verdict affects."""
    verdict = changes.get("verdict")
    if not verdict:
        return []
    changed = [
        card.item.pk
        for card in cards_for(reported_url, items)
        if card.current is not None and card.current.verdict != verdict
    ]
    if not changed:
        return []
    return list(
        ReportedUrl.objects.filter(
            hotline_id=reported_url.hotline_id,
            media_links__media_item_id__in=changed,
            assessment__isnull=False,
        )
        .exclude(pk=reported_url.pk)
        .distinct()
        .order_by("assessment__assessed_at", "pk")
    )


def do_classify_items(
    reported_url: ReportedUrl,
    analyst: User,
    items: list[MediaItem],
    changes: dict[str, Any],
    *,
    confirm_shared: bool = False,
) -> list[dict[str, Any]]:
    """Apply ``changes`` to each item, from its classification in force; return the undo entry.

    An item without a classification needs a verdict first. A new verdict for
    an item that finished URLs share is refused (``SharedItemChange``, listing
    them) unless the analyst confirmed it; it is audited and then waits for a
    second person, whatever the four-eyes rule. The undo entry lists, per
    item, the classification created and the state before it.
    """
    cards = {card.item.pk: card for card in cards_for(reported_url, items)}
    shared = finished_urls_sharing(reported_url, items, changes)
    if shared and not confirm_shared:
        raise SharedItemChange(shared)
    undo: list[dict[str, Any]] = []
    with transaction.atomic():
        if shared:
            record(
                "media.shared_item_changed",
                actor=analyst,
                organisation=reported_url.hotline,
                obj=reported_url,
                detail={
                    "items": [item.code for item in items],
                    "verdict": changes.get("verdict"),
                    "urls": [url.code for url in shared],
                },
            )
        shared_items = {
            card.item.pk
            for card in cards.values()
            if shared and card.current is not None and card.current.verdict != changes["verdict"]
        }
        for item in items:
            card = cards[item.pk]
            base = card.current
            if base is None and "verdict" not in changes:
                raise AssessmentError(gettext("give the item a verdict first (1, 2 or 4)"))
            values = (
                {field: getattr(base, field) for field in CLASSIFICATION_FIELDS} if base else {}
            )
            values.update({k: v for k, v in changes.items() if k != "verdict"})
            verdict = changes.get("verdict") or (base.verdict if base else "")
            status = do_classify_item(
                reported_url.hotline,
                item,
                verdict,
                analyst=analyst,
                reported_url=reported_url,
                force_confirmation=item.pk in shared_items,
                **values,
            )
            undo.append(
                {
                    "item": item.pk,
                    "created": status.current_id,
                    "before": _snapshot(card.status),
                }
            )
    return undo


def do_undo(reported_url: ReportedUrl, analyst: User, entry: list[dict[str, Any]]) -> list[int]:
    """Put the items of one undo entry back as they were; return the item ids restored.

    An item whose classification changed since (another analyst, a senior's
    confirmation) is left alone: undo never overrides someone else's work.
    """
    restored: list[int] = []
    with transaction.atomic():
        for step in entry:
            status = (
                ItemStatus.objects.select_for_update()
                .filter(hotline_id=reported_url.hotline_id, media_item_id=step["item"])
                .first()
            )
            if status is None or status.current_id != step["created"]:
                continue
            before = step["before"]
            if before is None:
                status.delete()
            else:
                status.current_id = before["current"]
                status.review_state = before["review_state"]
                status.confirmed_by_id = before["confirmed_by"]
                status.confirmed_at = (
                    datetime.fromisoformat(before["confirmed_at"])
                    if before["confirmed_at"]
                    else None
                )
                status.save(
                    update_fields=["current", "review_state", "confirmed_by", "confirmed_at"]
                )
                if status.review_state == ReviewState.FINAL:
                    _announce_after_commit(status)
            restored.append(step["item"])
            record(
                "media.classification_undone",
                actor=analyst,
                organisation=reported_url.hotline,
                object_type="evidence.mediaitem",
                object_id=str(step["item"]),
                detail={"undone": step["created"], "restored": before and before["current"]},
            )
    return restored


def _announce_after_commit(status: ItemStatus) -> None:
    transaction.on_commit(
        lambda: item_classification_in_force.send(sender=ItemStatus, status=status)
    )


def do_set_site_type(
    reported_url: ReportedUrl, analyst: User, site_type: str, *, domain_dedicated: bool
) -> ReviewDraft:
    if site_type not in SiteType.values:
        raise AssessmentError(gettext("unknown site type"))
    draft, _ = ReviewDraft.objects.update_or_create(
        reported_url=reported_url,
        defaults={
            "site_type": site_type,
            "domain_dedicated": domain_dedicated,
            "updated_by": analyst,
        },
    )
    return draft


def do_finish_review(
    reported_url: ReportedUrl, analyst: User, *, page_verdict: str | None = None, memo: str = ""
) -> UrlAssessment:
    """Finish the page from the review screen: every item classified, then routing.

    Known items carry their hash-match classification; every other item must
    have one from an analyst before the page is finished.
    """
    cards = cards_for(reported_url)
    open_items = [card for card in cards if card.status is None]
    if open_items:
        raise AssessmentError(gettext("%(n)s item(s) still to classify") % {"n": len(open_items)})
    draft = ReviewDraft.objects.filter(reported_url=reported_url).first()
    with transaction.atomic():
        assessment = do_finish_url(
            reported_url,
            analyst,
            site_type=draft.site_type if draft else "",
            domain_dedicated=draft.domain_dedicated if draft else False,
            verdict=page_verdict or None,
            memo=memo,
        )
        do_release_claim(reported_url, analyst)
    return assessment
