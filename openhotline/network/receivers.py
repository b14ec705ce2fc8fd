"""What the network app does when other apps report something.

- A URL's illegal verdict took effect (``url_assessed``, sent only once
  every classification behind it is confirmed where four-eyes asks): route it.
- A shared item changed the verdict in force of a URL (``url_verdict_changed``):
  withdraw its referrals when it is no longer illegal, or send the police a
  correction when it stays illegal under another verdict.
- A classification took effect (``item_classification_in_force``): show the
  item to law enforcement, or withdraw it.
- A hotline was created: list it in the directory for its country, if that
  country has no member yet.
- A media item was found on a URL (``media_stored``): link the URL to
  other hotlines' URLs showing the same item (deconfliction by content).
- A takedown case is marked removed (``case_removed``, in takedown's
  transaction, before it saves the case): fill its time from the URL's
  first police referral.

Receivers never raise: the change that triggered them is committed already.
Routing that fails here is picked up by the hourly ``route_unrouted`` sweep.
The exception is ``case_removed``, sent inside the re-check's transaction:
an error there fails the check, which the next re-check repeats.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Count
from django.db.models.signals import post_save
from django.dispatch import receiver

from openhotline.accounts.models import Organisation, OrgKind
from openhotline.assessment.models import ItemStatus, UrlAssessment
from openhotline.assessment.signals import (
    item_classification_in_force,
    url_assessed,
    url_verdict_changed,
)
from openhotline.evidence.models import UrlMedia
from openhotline.evidence.signals import media_stored
from openhotline.network.actions.lea_items import do_sync_lea_item
from openhotline.network.actions.referrals import do_correct_referrals
from openhotline.network.actions.routing import route_quietly
from openhotline.network.models import MediaOverlap, MemberHotline, PoliceReferral
from openhotline.reports.actions import add_timeline
from openhotline.reports.models import ReportedUrl
from openhotline.takedown.models import TakedownCase
from openhotline.takedown.signals import case_removed

logger = logging.getLogger(__name__)


@receiver(url_assessed, dispatch_uid="network.route_on_assessment")
def _on_url_assessed(
    sender: Any, reported_url: ReportedUrl, assessment: UrlAssessment, **kwargs: Any
) -> None:
    if assessment.is_illegal():
        route_quietly(reported_url)


@receiver(url_verdict_changed, dispatch_uid="network.correct_on_verdict_change")
def _on_url_verdict_changed(
    sender: Any, reported_url: ReportedUrl, before: str, after: str, **kwargs: Any
) -> None:
    try:
        do_correct_referrals(reported_url, before=before, after=after)
    except Exception:
        logger.exception("correcting the referrals of reported URL %s failed", reported_url.pk)


@receiver(item_classification_in_force, dispatch_uid="network.lea_item_on_classification")
def _on_item_in_force(sender: Any, status: ItemStatus, **kwargs: Any) -> None:
    try:
        do_sync_lea_item(status)
    except Exception:
        logger.exception("updating the LEA item of status %s failed", status.pk)


@receiver(post_save, sender=Organisation, dispatch_uid="network.directory_on_new_hotline")
def _on_organisation(sender: Any, instance: Organisation, created: bool, **kwargs: Any) -> None:
    if not created or instance.kind != OrgKind.HOTLINE:
        return
    MemberHotline.objects.get_or_create(
        country=str(instance.country),
        defaults={
            "name": instance.name,
            "organisation": instance,
            "contact_email": instance.contact_email,
        },
    )


@receiver(case_removed, dispatch_uid="network.referral_time_on_removal")
def _on_case_removed(sender: Any, case: TakedownCase, **kwargs: Any) -> None:
    # On the case object takedown saves next (its removal audit entry reads it too).
    referred_at = (
        PoliceReferral.objects.filter(reported_url_id=case.reported_url_id)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    case.seconds_from_referral = case.seconds_to_removal(referred_at)


@receiver(media_stored, dispatch_uid="network.overlap_on_url_media")
def _on_media_stored(sender: Any, link: UrlMedia, **kwargs: Any) -> None:
    try:
        note_overlaps(link)
    except Exception:
        logger.exception("deconfliction of media link %s failed", link.pk)


def note_overlaps(link: UrlMedia) -> None:
    """Link the URL both ways to other hotlines' URLs that show this media item.

    1. Find the other hotlines' URLs (other addresses) linked to the same item.
    2. Per pair, count the shared items and keep the count up to date.
    3. Each side's timeline names only the other hotline, once per pair.
    """
    mine = ReportedUrl.objects.select_related("hotline").get(pk=link.reported_url_id)
    others = list(
        ReportedUrl.objects.filter(media_links__media_item_id=link.media_item_id)
        .exclude(hotline_id=mine.hotline_id)
        # The same URL elsewhere is linked as such already (intake's deconfliction).
        .exclude(normalized_url=mine.normalized_url)
        .select_related("hotline")
        .distinct()
    )
    for other in others:
        shared = (
            UrlMedia.objects.filter(reported_url=mine)
            .filter(media_item__url_links__reported_url=other)
            .aggregate(n=Count("media_item", distinct=True))["n"]
        )
        for this, that in ((mine, other), (other, mine)):
            overlap, made = MediaOverlap.objects.get_or_create(
                reported_url=this, other_url=that, defaults={"media_count": shared}
            )
            if not made and overlap.media_count != shared:
                MediaOverlap.objects.filter(pk=overlap.pk).update(media_count=shared)
            if made:
                add_timeline(
                    f"Same media also at {that.hotline.name}",
                    kind="network.media_overlap",
                    reported_url=this,
                    detail={"hotline": that.hotline.name},
                )
