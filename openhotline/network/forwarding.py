"""Forwarding an illegal URL to the member hotline of its hosting country.

A member on this installation gets a report from us (source "hotline") and
so its own reported URL, linked to the same evidence: the media items we
stored are linked to its URL, so its analysts see them (blurred, audited) as
their own. Baseline classifications (illegal everywhere by INTERPOL's
criteria) come along as "forwarded by another hotline"; anything nationally
illegal here is the receiving hotline's to assess under its own law. We see
the progress of its URL, never its reports or people.

An external member gets an e-mail with the URL, the ICCAM fields and a VICS
hash manifest; no media ever leave by e-mail.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import User
from openhotline.assessment.actions import do_classify_item
from openhotline.assessment.models import (
    ClassificationSource,
    ItemStatus,
    ReviewState,
    UrlAssessment,
)
from openhotline.assessment.vocabulary import (
    ICCAM_AGE_GROUP,
    ICCAM_GENDER,
    ICCAM_SITE_TYPE,
    ICCAM_VERDICT,
    ILLEGAL_VERDICTS,
    Verdict,
)
from openhotline.audit.log import record
from openhotline.crawler.hosting_facts import latest_facts
from openhotline.evidence.models import UrlMedia
from openhotline.network.manifest import items_from_statuses, vics_manifest
from openhotline.network.models import Forward, ForwardKind, ForwardState, MemberHotline
from openhotline.reports.actions import add_timeline, do_file_report, do_set_url_state
from openhotline.reports.models import ReportedUrl, ReportSource, UrlState
from openhotline.takedown.models import TakedownCase


def sender_statuses(url: ReportedUrl) -> list[ItemStatus]:
    """The sender's classifications in force of the media on its URL."""
    return list(
        ItemStatus.objects.filter(
            hotline=url.hotline,
            media_item__url_links__reported_url=url,
            review_state=ReviewState.FINAL,
        )
        .select_related("current", "media_item", "hotline")
        .order_by("media_item__pk")
    )


def _close_takedown(url: ReportedUrl, member: MemberHotline) -> None:
    from openhotline.takedown.actions.cases import FINISHED_STATES, do_close_case

    case = TakedownCase.objects.filter(reported_url=url).first()
    if case is not None and case.state not in FINISHED_STATES:
        do_close_case(case, actor=None, reason=f"forwarded to {member.name}")


def do_forward_to_tenant(url: ReportedUrl, member: MemberHotline, *, actor: User | None) -> Forward:
    """Hand the URL to a member hotline of this installation; safe to call twice."""
    receiver = member.organisation
    assert receiver is not None
    assessment = UrlAssessment.objects.filter(reported_url=url).first()
    verdict = assessment.verdict if assessment is not None else Verdict.BASELINE
    with transaction.atomic():
        forward, _ = Forward.objects.get_or_create(
            sender_url=url,
            member=member,
            defaults={"kind": ForwardKind.TENANT, "state": ForwardState.SENDING},
        )
        if forward.receiver_url_id is not None:
            return forward
        report = do_file_report(
            receiver,
            source=ReportSource.HOTLINE,
            urls=[url.url],
            submitted_by_org=url.hotline,
            external_ref=url.code,
            description=(
                f"Forwarded by {url.hotline.name}: assessed {Verdict(verdict).label.lower()}, "
                f"hosted in {url.hosting_country or 'your country'}."
            ),
        )
        receiver_url = report.urls.get()
        for link in UrlMedia.objects.filter(reported_url=url):
            UrlMedia.objects.get_or_create(
                reported_url=receiver_url,
                media_item_id=link.media_item_id,
                defaults={"source_url": link.source_url, "found_in": "forwarded"},
            )
        taken = set(
            ItemStatus.objects.filter(hotline=receiver).values_list("media_item_id", flat=True)
        )
        for status in sender_statuses(url):
            if status.current.verdict == Verdict.BASELINE and status.media_item_id not in taken:
                do_classify_item(
                    receiver,
                    status.media_item,
                    Verdict.BASELINE,
                    analyst=None,
                    source=ClassificationSource.FORWARDED,
                    reason=f"baseline at {url.hotline.name}",
                    reported_url=receiver_url,
                    new_material=False,
                    age_group=status.current.age_group,
                    gender=status.current.gender,
                    is_virtual=status.current.is_virtual,
                )
        forward.receiver_url = receiver_url
        forward.state = ForwardState.DELIVERED
        forward.sent_at = timezone.now()
        forward.save(update_fields=["receiver_url", "state", "sent_at"])
        do_set_url_state(
            url, UrlState.FORWARDED, actor=actor, message=f"Forwarded to {member.name}"
        )
        _close_takedown(url, member)
        add_timeline(
            f"Forwarded by {url.hotline.name}",
            kind="network.forwarded_in",
            reported_url=receiver_url,
            detail={"forward": forward.code},
        )
        for org in (url.hotline, receiver):
            record(
                "network.forwarded",
                actor=actor,
                organisation=org,
                obj=forward,
                detail={"from": url.hotline.name, "to": receiver.name, "kind": "tenant"},
            )
    return forward


def do_forward_external(url: ReportedUrl, member: MemberHotline, *, actor: User | None) -> Forward:
    """Send the URL to an external member hotline by e-mail (a task, after commit)."""
    with transaction.atomic():
        forward, created = Forward.objects.get_or_create(
            sender_url=url,
            member=member,
            defaults={
                "kind": ForwardKind.EXTERNAL,
                "state": ForwardState.SENDING,
                "recipient": member.contact_email,
            },
        )
        if not created:
            return forward
        do_set_url_state(
            url, UrlState.FORWARDED, actor=actor, message=f"Forwarded to {member.name} by e-mail"
        )
        _close_takedown(url, member)
        record(
            "network.forwarded",
            actor=actor,
            organisation=url.hotline,
            obj=forward,
            detail={"to": member.name, "kind": "external", "email": member.contact_email},
        )
        forward_id = forward.pk
        transaction.on_commit(lambda: _queue(forward_id))
    return forward


def _queue(forward_id: int) -> None:
    from openhotline.network.tasks import send_forward_package

    try:
        send_forward_package.delay(forward_id)
    except Exception:  # the sweep task sends what is still waiting
        import logging

        logging.getLogger(__name__).exception("could not queue forward %s", forward_id)


def iccam_report(url: ReportedUrl) -> dict[str, Any]:
    """The URL in ICCAM's field names (shared/FORMATS.md), for another hotline."""
    assessment = UrlAssessment.objects.filter(reported_url=url).first()
    facts = latest_facts(url)
    statuses = [s for s in sender_statuses(url) if s.current.verdict in ILLEGAL_VERDICTS]
    first = statuses[0].current if statuses else None
    received = url.reports.order_by("created_at").values_list("created_at", flat=True).first()
    return {
        "Url": url.url,
        "HostingCountry": url.hosting_country,
        "HostingIP": facts.address if facts is not None else "",
        "HostingNetName": facts.hoster if facts is not None else "",
        "Received": (received or url.created_at).isoformat(),
        "ReportingHotline": url.hotline.name,
        "ReportingHotlineReference": url.code,
        "ClassificationID": ICCAM_VERDICT.get(assessment.verdict) if assessment else None,  # type: ignore[call-overload]
        "ClassificationDate": assessment.assessed_at.isoformat() if assessment else None,
        "SiteTypeID": ICCAM_SITE_TYPE.get(assessment.site_type) if assessment else None,  # type: ignore[call-overload]
        "AgeGroupID": ICCAM_AGE_GROUP.get(first.age_group) if first else None,  # type: ignore[call-overload]
        "GenderID": ICCAM_GENDER.get(first.gender) if first else None,  # type: ignore[call-overload]
        "IsVirtual": bool(first and first.is_virtual),
        "IsChildModeling": bool(first and first.is_child_modelling),
        "IsUserGC": bool(first and first.is_self_generated),
        "IllegalMediaCount": len(statuses),
    }


def package_attachments(url: ReportedUrl) -> list[tuple[str, bytes, str]]:
    """The files of an external forward: the ICCAM report and a VICS hash manifest."""
    report = json.dumps(iccam_report(url), indent=2, ensure_ascii=True).encode()
    illegal = [s for s in sender_statuses(url) if s.current.verdict in ILLEGAL_VERDICTS]
    manifest = vics_manifest(
        items_from_statuses(illegal),
        case_number=url.code,
        contact_email=url.hotline.contact_email,
        with_files=False,
    )
    return [
        ("report.json", report, "application/json"),
        ("manifest.vics.json", manifest, "application/json"),
    ]
