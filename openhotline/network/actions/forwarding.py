"""Forwarding an illegal URL to the member hotline of its hosting country.

A member on this installation gets a report from us (source "hotline") and
so its own reported URL, linked to the same evidence: the media items we
stored are linked to its URL, so its analysts see them (blurred, audited) as
their own. Baseline classifications (illegal everywhere by INTERPOL's
criteria) come along as "forwarded by another hotline"; anything nationally
illegal here is the receiving hotline's to assess under its own law. We see
the progress of its URL, never its reports or people.

An external member gets an e-mail with the URL, the ICCAM fields and a VICS
hash manifest (``iccam.py``, sent by ``forward_mail.py``); no media ever
leave by e-mail. When its installation is peered with ours (the federation
app answers ``peer_channel_asked``), the forward goes there instead, through
the federation outbox (``forwarded_to_peer``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import User
from openhotline.assessment.actions.classification import do_classify_item
from openhotline.assessment.models import ClassificationSource, ItemStatus, UrlAssessment
from openhotline.assessment.vocabulary import Verdict
from openhotline.audit.log import record
from openhotline.evidence.actions import do_link_media
from openhotline.evidence.models import UrlMedia
from openhotline.lib.english import in_english
from openhotline.network.forward_mail import queue_forward_package
from openhotline.network.iccam import sender_statuses
from openhotline.network.models import Forward, ForwardKind, ForwardState, MemberHotline
from openhotline.network.signals import forwarded_to_peer, peer_takes
from openhotline.reports.actions import add_timeline, do_file_report, do_set_url_state
from openhotline.reports.models import ReportedUrl, ReportSource, UrlState
from openhotline.takedown.models import TakedownCase


def _close_takedown(url: ReportedUrl, member: MemberHotline) -> None:
    from openhotline.takedown.actions.cases import FINISHED_STATES, do_close_case

    case = TakedownCase.objects.filter(reported_url=url).first()
    if case is not None and case.state not in FINISHED_STATES:
        do_close_case(case, actor=None, reason=f"forwarded to {member.name}")


def do_forward_to_tenant(url: ReportedUrl, member: MemberHotline, *, actor: User | None) -> Forward:
    """Hand the URL to a member hotline of this installation; safe to call twice."""
    receiver = member.organisation
    if receiver is None:
        raise ValueError(f"member hotline {member.code} is not on this installation")
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
                f"Forwarded by {url.hotline.name}: "
                f"assessed {in_english(Verdict(verdict).label).lower()}, "
                f"hosted in {url.hosting_country or 'your country'}."
            ),
        )
        receiver_url = report.urls.get()
        for link in UrlMedia.objects.filter(reported_url=url).select_related("media_item"):
            do_link_media(
                receiver_url, link.media_item, source_url=link.source_url, found_in="forwarded"
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
    """Send the URL to an external member hotline: to its peered installation when
    there is one (``forwarded_to_peer``, in the transaction), else by e-mail (a task,
    after commit)."""
    by_peer = peer_takes(member.country)
    with transaction.atomic():
        forward, created = Forward.objects.get_or_create(
            sender_url=url,
            member=member,
            defaults={
                "kind": ForwardKind.EXTERNAL,
                "state": ForwardState.SENDING,
                "recipient": "" if by_peer else member.contact_email,
            },
        )
        if not created:
            return forward
        how = "its installation (federation)" if by_peer else "e-mail"
        do_set_url_state(
            url, UrlState.FORWARDED, actor=actor, message=f"Forwarded to {member.name} by {how}"
        )
        _close_takedown(url, member)
        record(
            "network.forwarded",
            actor=actor,
            organisation=url.hotline,
            obj=forward,
            detail={
                "to": member.name,
                "kind": "external",
                "email": "" if by_peer else member.contact_email,
                "peer": by_peer,
            },
        )
        if by_peer:
            forwarded_to_peer.send(sender=Forward, forward=forward)
            return forward
        forward_id = forward.pk
        transaction.on_commit(lambda: queue_forward_package(forward_id))
    return forward
