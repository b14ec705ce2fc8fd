"""Progress of a forwarded URL, sent back to the installation that forwarded it.

The receiving side reads what happened to our URL (assessed, referred to
the police, notice sent, removed, each with its time) and queues a status
message when something is new. The status carries every event so far, so
one message that arrives makes up for any that did not. It is pushed when
the verdict takes effect (``url_assessed``, after routing made any police
referral) and when a takedown confirms the removal (``case_removed``), see
``receivers``; the beat's ``report_progress`` polls for the rest (a first
notice, a removal recorded by hand) and for anything a push missed.

The forwarding side adds each event once to its URL's timeline; a removal
also sets its URL's removal time, which its time-to-removal statistics count.
A status about a reference we never forwarded to that peer is refused (403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from openhotline.assessment.models import UrlAssessment
from openhotline.assessment.vocabulary import Verdict
from openhotline.audit.log import record
from openhotline.federation.actions.forwards import MessageRefused, ordering_key
from openhotline.federation.actions.outbox import put_in_outbox
from openhotline.federation.models import IncomingForward, MessageType, OutgoingForward, Peer
from openhotline.lib.english import in_english
from openhotline.network.models import PoliceReferral
from openhotline.reports.actions import add_timeline, do_set_url_state
from openhotline.reports.models import ReportedUrl, UrlState
from openhotline.takedown.models import TakedownCase

EVENTS = ("assessed", "police_referral", "notice_sent", "removed")
LABELS = {
    "assessed": "assessed it",
    "police_referral": "referred it to the police",
    "notice_sent": "sent a notice to the hoster",
    "removed": "recorded its removal",
}
FINISHED_STATES = (UrlState.REMOVED, UrlState.NOT_ILLEGAL, UrlState.CLOSED)


def progress_of(url: ReportedUrl) -> dict[str, dict[str, Any]]:
    """What happened to our URL so far: event -> {"at": ISO time, ...}."""
    events: dict[str, dict[str, Any]] = {}
    assessment = UrlAssessment.objects.filter(reported_url=url).first()
    if assessment is not None and assessment.in_force_at is not None:
        events["assessed"] = {
            "at": assessment.in_force_at.isoformat(),
            "verdict": assessment.verdict,
            "label": in_english(Verdict(assessment.verdict).label),
        }
    referred = (
        PoliceReferral.objects.filter(reported_url=url)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if referred is not None:
        events["police_referral"] = {"at": referred.isoformat()}
    case = TakedownCase.objects.filter(reported_url=url).first()
    if case is not None and case.first_notice_at is not None:
        events["notice_sent"] = {"at": case.first_notice_at.isoformat()}
    if url.removed_at is not None:
        events["removed"] = {"at": url.removed_at.isoformat()}
    return events


def do_report_progress(incoming: IncomingForward) -> bool:
    """Queue a status for the peer if our URL moved on since the last one; True if queued."""
    with transaction.atomic():
        locked = IncomingForward.objects.select_for_update().get(pk=incoming.pk)
        url = ReportedUrl.objects.select_related("hotline").get(pk=locked.reported_url_id)
        events = progress_of(url)
        finished = url.state in FINISHED_STATES
        if events == locked.reported and finished == locked.finished:
            return False
        if events != locked.reported:
            put_in_outbox(
                locked.peer,
                MessageType.STATUS,
                {"reference": locked.reference, "events": events},
                hotline=url.hotline,
                ordering_key=ordering_key(url),
            )
        locked.reported = events
        locked.finished = finished
        locked.save(update_fields=["reported", "finished"])
        return True


def push_progress(reported_url_id: int) -> int:
    """Queue a status now for each peer that forwarded us this URL, if it moved on."""
    queued = 0
    for incoming in IncomingForward.objects.filter(
        reported_url_id=reported_url_id, finished=False
    ).order_by("pk"):
        queued += do_report_progress(incoming)
    return queued


def report_all_progress() -> int:
    queued = 0
    for incoming in IncomingForward.objects.filter(finished=False).order_by("pk")[:1000]:
        queued += do_report_progress(incoming)
    return queued


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value)
    if parsed is None or timezone.is_naive(parsed):
        return None
    return parsed


def do_receive_status(peer: Peer, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a peer's progress to the URL we forwarded it (in the inbox's transaction)."""
    reference = body.get("reference")
    events = body.get("events")
    if not isinstance(reference, str) or not isinstance(events, dict):
        raise MessageRefused("a status has a 'reference' and an 'events' object")
    outgoing = (
        OutgoingForward.objects.select_for_update()
        .filter(peer=peer, reported_url__code=reference)
        .first()
    )
    if outgoing is None:
        # Not something we sent to this peer: beyond what it may speak about.
        raise MessageRefused(f"nothing was forwarded to this peer as {reference!r}", 403)
    url = ReportedUrl.objects.select_related("hotline").get(pk=outgoing.reported_url_id)
    progress = dict(outgoing.progress)
    added = []
    for event in EVENTS:
        detail = events.get(event)
        when = _when(detail.get("at")) if isinstance(detail, dict) else None
        if when is None or event in progress:
            continue
        progress[event] = when.isoformat()
        added.append(event)
        extra = ""
        if event == "assessed" and isinstance(detail, dict) and detail.get("label"):
            extra = f": {str(detail['label'])[:80].lower()}"
        add_timeline(
            f"{peer.name} ({peer.country}) {LABELS[event]}{extra}, {when:%Y-%m-%d %H:%M} UTC",
            kind=f"federation.{event}",
            reported_url=url,
            detail={"peer": peer.code, "event": event, "at": when.isoformat()},
        )
        if event == "removed" and url.removed_at is None:
            # Time to removal counts from our report to the peer's removal.
            url.removed_at = max(when, url.created_at)
            url.save(update_fields=["removed_at", "updated_at"])
            do_set_url_state(url, UrlState.REMOVED, message=f"Removed (recorded by {peer.name})")
    if added:
        outgoing.progress = progress
        outgoing.save(update_fields=["progress"])
        record(
            "federation.status_received",
            organisation=url.hotline,
            obj=url,
            detail={"peer": peer.name, "events": added},
        )
    return {"added": added}
