"""Forwarding a URL to a peered installation, and taking one in.

Sending: routing decided a forward to the member hotline of the hosting
country, and that member is reached through a peer (``network.signals``).
The message carries the URL, the verdict summary, the hashes of the items
(SHA-256, MD5, PDQ) with their verdicts, the hosting trace and our
reference. No media.

Receiving: the forward becomes a report of the hotline of that country
here (source "hotline"), whose URL enters the analysts' queue like any
other, with the sender named on it. The sender's reference ties the
progress we send back to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Any

from django.db import transaction

from openhotline.accounts.models import Organisation, OrgKind
from openhotline.assessment.models import UrlAssessment
from openhotline.assessment.vocabulary import Verdict
from openhotline.audit.log import record
from openhotline.crawler.hosting_facts import latest_facts
from openhotline.federation.actions.outbox import put_in_outbox
from openhotline.federation.models import (
    IncomingForward,
    MessageType,
    OutgoingForward,
    Peer,
    PeerState,
)
from openhotline.lib.english import in_english
from openhotline.lib.urlnorm import UrlError, normalize_url
from openhotline.network.iccam import sender_statuses
from openhotline.network.models import Forward, MemberHotline
from openhotline.reports.actions import add_timeline, do_file_report
from openhotline.reports.models import ReportedUrl, ReportSource

MAX_ITEMS = 1000


class MessageRefused(ValueError):
    """A message that is well signed but cannot be taken (422), or not ours to take (403)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def peer_for_country(country: str) -> Peer | None:
    return Peer.objects.filter(country=country.upper(), state=PeerState.ACTIVE).first()


def ordering_key(url: ReportedUrl) -> str:
    return hashlib.sha256(url.normalized_url.encode()).hexdigest()[:32]


def forward_body(url: ReportedUrl, peer: Peer) -> dict[str, Any]:
    assessment = UrlAssessment.objects.filter(reported_url=url).first()
    verdict = assessment.verdict if assessment is not None else Verdict.BASELINE
    facts = latest_facts(url)
    items = [
        {
            "sha256": s.media_item.sha256,
            "md5": s.media_item.md5,
            "pdq": s.media_item.pdq,
            "verdict": s.current.verdict,
        }
        for s in sender_statuses(url)[:MAX_ITEMS]
    ]
    return {
        "reference": url.code,
        "url": url.url,
        "sender": {"hotline": url.hotline.name, "country": str(url.hotline.country)},
        "to_country": peer.country,
        "verdict": {
            "verdict": verdict,
            "label": in_english(Verdict(verdict).label),
            "site_type": assessment.site_type if assessment is not None else "",
            "in_force_at": (
                assessment.in_force_at.isoformat()
                if assessment is not None and assessment.in_force_at
                else None
            ),
        },
        "items": items,
        "hosting": asdict(facts) if facts is not None else {},
    }


def do_queue_forward(forward: Forward) -> OutgoingForward | None:
    """Put a forward decided by routing in the outbox (in routing's transaction)."""
    member: MemberHotline = forward.member
    peer = peer_for_country(member.country)
    if peer is None:
        return None
    url = ReportedUrl.objects.select_related("hotline").get(pk=forward.sender_url_id)
    with transaction.atomic():
        message = put_in_outbox(
            peer,
            MessageType.FORWARD,
            forward_body(url, peer),
            hotline=url.hotline,
            ordering_key=ordering_key(url),
        )
        outgoing = OutgoingForward.objects.create(
            reported_url=url, peer=peer, forward=forward, message=message
        )
        forward.message_id = message.message_id
        forward.recipient = f"{peer.name} ({peer.base_url})"[:254]
        forward.save(update_fields=["message_id", "recipient"])
        add_timeline(
            f"Queued for {peer.name} ({peer.country}), a peered installation",
            kind="federation.queued",
            reported_url=url,
            detail={"peer": peer.code, "message": message.message_id},
        )
    return outgoing


def _receiving_hotline(country: str) -> Organisation | None:
    member = MemberHotline.objects.filter(
        country=country, organisation__isnull=False, active=True
    ).first()
    if member is not None:
        return member.organisation
    return Organisation.objects.filter(kind=OrgKind.HOTLINE, country=country).first()


def _text(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise MessageRefused(f"'{key}' must be a non-empty string of at most {limit} characters")
    return value.strip()


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def do_receive_forward(peer: Peer, body: dict[str, Any]) -> dict[str, Any]:
    """Take a peer's forward in as a report of our hotline for that country.

    Runs in the inbox's transaction, which also records the message's id.
    """
    reference = _text(body, "reference", 64)
    url = _text(body, "url", 4000)
    country = _text(body, "to_country", 2).upper()
    sender = _object(body, "sender")
    sender_name = str(sender.get("hotline") or peer.name)[:200]
    verdict = _object(body, "verdict")
    hosting = _object(body, "hosting")
    items = body.get("items")
    if not isinstance(items, list):
        items = []
    hotline = _receiving_hotline(country)
    if hotline is None:
        raise MessageRefused(f"no hotline for {country} on this installation")
    existing = IncomingForward.objects.filter(peer=peer, reference=reference).first()
    if existing is not None:
        return {"url": existing.reported_url.code}
    label = str(verdict.get("label") or verdict.get("verdict") or "illegal")[:80]
    try:
        normalize_url(url)
    except UrlError as exc:
        raise MessageRefused(f"'url' is not a URL we can take: {exc}") from None
    report = do_file_report(
        hotline,
        source=ReportSource.HOTLINE,
        urls=[url],
        external_ref=f"{peer.code}:{reference}"[:100],
        description=(
            f"Forwarded by {sender_name} through {peer.name} ({peer.country}), a peered "
            f"installation: assessed {label.lower()}, hosted in "
            f"{str(hosting.get('country') or country)[:2]}. {len(items)} item hash(es) came "
            "with it; no media."
        ),
    )
    received = report.urls.get()
    IncomingForward.objects.create(
        peer=peer, reference=reference, reported_url=received, payload=body
    )
    add_timeline(
        f"Forwarded by {sender_name} ({peer.name}, {peer.country})",
        kind="federation.forwarded_in",
        reported_url=received,
        detail={"peer": peer.code, "reference": reference, "items": len(items)},
    )
    record(
        "federation.forward_received",
        organisation=hotline,
        obj=received,
        detail={"peer": peer.name, "reference": reference, "sender": sender_name},
    )
    return {"url": received.code}
