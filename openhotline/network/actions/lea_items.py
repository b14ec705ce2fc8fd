"""Keeping the law-enforcement portal's items in step with the classifications in force."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from openhotline.assessment.models import ItemStatus
from openhotline.assessment.vocabulary import ILLEGAL_VERDICTS
from openhotline.audit.log import record
from openhotline.evidence.models import UrlMedia
from openhotline.network.models import LeaItem


def _hosting_country(status: ItemStatus) -> str:
    countries = (
        UrlMedia.objects.filter(media_item=status.media_item, reported_url__hotline=status.hotline)
        .exclude(reported_url__hosting_country="")
        .order_by("-created_at")
        .values_list("reported_url__hosting_country", flat=True)
    )
    return next(iter(countries), "")


def do_sync_lea_item(status: ItemStatus) -> LeaItem | None:
    """Show an item classified illegal (in force) to law enforcement, or withdraw it.

    Safe to run twice. An item that was never illegal gets no row; one that
    was and no longer is stays, marked withdrawn, so that API clients that
    took it learn of the change.
    """
    status = ItemStatus.objects.select_related("current", "hotline", "media_item").get(pk=status.pk)
    illegal = status.is_in_force() and status.current.verdict in ILLEGAL_VERDICTS
    now = timezone.now()
    # Whole milliseconds: JSON carries no more, and an API client's ?since= must
    # compare equal to the value it was given.
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    with transaction.atomic():
        item = (
            LeaItem.objects.select_for_update()
            .filter(hotline=status.hotline, media_item=status.media_item)
            .first()
        )
        if item is None and not illegal:
            return None
        if item is None:
            item = LeaItem(
                hotline=status.hotline, media_item=status.media_item, first_in_force_at=now
            )
        elif (
            item.in_force == illegal
            and item.classification_id == status.current_id
            and item.verdict == status.current.verdict
        ):
            return item
        if illegal:
            item.classification = status.current
            item.verdict = status.current.verdict
            item.is_virtual = status.current.is_virtual
        item.in_force = illegal
        item.hosting_country = _hosting_country(status) or item.hosting_country
        item.updated_at = now
        item.save()
        record(
            "network.lea_item_in_force" if illegal else "network.lea_item_withdrawn",
            organisation=status.hotline,
            obj=status.media_item,
            detail={"verdict": status.current.verdict, "item": item.code},
        )
    return item
