"""Sending notices: due cases, grouped per contact, one mail each, re-looked-up first.

Run by the beat task ``send_due_notices`` every ``OPENHOTLINE_NOTICE_BATCH_MINUTES``:
everything that became due since the last run goes out together, so a
hoster gets one mail with all its URLs, new ones and reminders.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from openhotline.audit.log import record
from openhotline.crawler import hostslots
from openhotline.crawler.hosting_facts import HostingFacts, fresh_facts
from openhotline.ops.mailer import send_mail
from openhotline.reports.actions import add_timeline, do_set_url_state
from openhotline.reports.models import UrlState
from openhotline.takedown.actions.cases import do_flag_attention
from openhotline.takedown.actions.contacts import registrar_contact
from openhotline.takedown.models import (
    NOTICE_STATES,
    AbuseContact,
    CaseState,
    Notice,
    NoticeKind,
    NoticeLine,
    NoticeState,
    TakedownCase,
    new_takedown_code,
)
from openhotline.takedown.wording import (
    country_name,
    default_wording,
    greeting,
    language_for,
    render,
    wording_for,
)

logger = logging.getLogger(__name__)

OPEN_ILLEGAL = (UrlState.ILLEGAL, UrlState.NOTICE_SENT)
# One notice run at a time across every process: a one-slot lease in the crawler's
# host-slot table (shared, expiring if its process dies, renewed after each mail).
RUN_LOCK = "openhotline:takedown-notice-run"
RUN_LEASE_SECONDS = 600


@dataclass
class NoticeRun:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    waiting_for_approval: int = 0
    busy: bool = False  # another run was sending: this one sent nothing


def _base(now: datetime) -> QuerySet[TakedownCase]:
    return (
        # A case whose last re-check found the material gone waits for the confirming checks.
        TakedownCase.objects.filter(
            notify=True,
            state__in=NOTICE_STATES,
            reported_url__state__in=OPEN_ILLEGAL,
            gone_streak=0,
        )
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .select_related("reported_url__hotline", "hotline", "contact")
    )


def notice_due(now: datetime) -> QuerySet[TakedownCase]:
    """Cases owed a notice: none sent yet, or the last one older than the resend interval."""
    resend = now - timedelta(hours=settings.OPENHOTLINE_NOTICE_RESEND_HOURS)
    return _base(now).filter(Q(last_notice_at__isnull=True) | Q(last_notice_at__lte=resend))


def escalation_due(now: datetime) -> QuerySet[TakedownCase]:
    """Cases still online ``OPENHOTLINE_NOTICE_ESCALATE_DAYS`` after the first notice."""
    limit = now - timedelta(days=settings.OPENHOTLINE_NOTICE_ESCALATE_DAYS)
    return _base(now).filter(
        state=CaseState.NOTIFIED, escalated_at__isnull=True, contact_notified_at__lte=limit
    )


def _still_same_hoster(case: TakedownCase, facts: HostingFacts, run: NoticeRun) -> bool:
    """Compare a fresh trace with the one the case was opened on.

    A trace that finds nobody (RDAP down, DNS failing) is "not known now":
    the case waits for the next run. A different hoster sends it back to an
    analyst, so a notice never reaches a party that no longer hosts the URL.
    """
    now_key = facts.hoster_key()
    if not now_key:
        return False
    if case.hoster_key and now_key != case.hoster_key:
        do_flag_attention(
            case, f"the hoster changed: was {case.hoster_key}, the trace now says {now_key}"
        )
        run.attention.append(case.code)
        return False
    return True


def send_due_notices(now: datetime | None = None) -> NoticeRun:
    """Send every notice and escalation that is due, grouped per contact.

    Runs do not overlap: two at once (beat's and ``takedown send``, or a
    run longer than the batch interval) would both read the same cases as
    due and mail them twice. A second run finds the lease held and returns
    with ``busy`` set; what is due is sent by the run holding it.

    1. Take the cases due a notice and those due an escalation.
    2. Trace each URL's hosting again; a changed hoster goes back to an
       analyst, an unknown one waits.
    3. Group the notices by the (approved) contact and send one mail each.
    4. Group the escalations by the hoster's upstream contact, or else the
       registrar's, and send one mail each.
    """
    lease = hostslots.acquire(RUN_LOCK, 1, RUN_LEASE_SECONDS)
    if lease is None:
        return NoticeRun(busy=True)
    try:
        return _send_due(now or timezone.now(), lease)
    finally:
        hostslots.release(lease)


def _send_due(now: datetime, lease: hostslots.Lease) -> NoticeRun:
    run = NoticeRun()
    due = list(notice_due(now))
    escalate = list(escalation_due(now))
    facts: dict[int, HostingFacts] = {}
    by_host: dict[str, HostingFacts] = {}
    for case in {c.pk: c for c in due + escalate}.values():
        host = case.reported_url.host
        if host not in by_host:
            by_host[host] = fresh_facts(case.reported_url)
        if _still_same_hoster(case, by_host[host], run):
            facts[case.pk] = by_host[host]
    groups: dict[int, list[TakedownCase]] = defaultdict(list)
    contacts: dict[int, AbuseContact] = {}
    for case in due:
        if case.pk not in facts or case.contact is None:
            continue
        contact = case.contact.resolved()
        if not contact.is_usable():
            run.waiting_for_approval += 1
            continue
        contacts[contact.pk] = contact
        groups[contact.pk].append(case)
    for pk, cases in groups.items():
        if not hostslots.renew(lease, RUN_LEASE_SECONDS):
            return run  # the lease ran out and another run may have started: stop here
        _send_group(contacts[pk], cases, NoticeKind.NOTICE, facts, now, run)
    escalations: dict[int, list[TakedownCase]] = defaultdict(list)
    for case in escalate:
        if case.pk not in facts:
            continue
        upstream = _escalation_contact(case)
        if upstream is None or not upstream.is_usable():
            run.waiting_for_approval += 1
            continue
        contacts[upstream.pk] = upstream
        escalations[upstream.pk].append(case)
    for pk, cases in escalations.items():
        if not hostslots.renew(lease, RUN_LEASE_SECONDS):
            return run
        _send_group(contacts[pk], cases, NoticeKind.ESCALATION, facts, now, run)
    return run


def _escalation_contact(case: TakedownCase) -> AbuseContact | None:
    hoster = case.contact.resolved() if case.contact is not None else None
    if hoster is not None and hoster.escalate_to is not None:
        return hoster.escalate_to.resolved()
    found = registrar_contact(case.hotline, case.registrar_name, case.registrar_email)
    return found.resolved() if found is not None else None


def _context(
    contact: AbuseContact,
    cases: list[TakedownCase],
    kind: str,
    facts: dict[int, HostingFacts],
    code: str,
    language: str,
) -> dict[str, Any]:
    hotline = cases[0].hotline
    lines = []
    for case in sorted(cases, key=lambda c: c.reported_url.url):
        lines.append(
            {
                "url": case.reported_url.url,
                "reference": case.code,
                "address": facts[case.pk].address,
                "reported_at": case.reported_url.created_at,
                "first_notice": case.contact_notified_at,
                "reminder": kind == NoticeKind.NOTICE and case.contact_notified_at is not None,
            }
        )
    hosters = sorted({str(c.contact.resolved()) for c in cases if c.contact is not None})
    first = min((c.contact_notified_at for c in cases if c.contact_notified_at), default=None)
    return {
        "hotline": {"name": hotline.name, "contact_email": hotline.contact_email},
        "hotline_country": country_name(hotline.country.code, language),
        "contact": {"name": contact.name},
        "greeting_line": greeting(language, contact.name),
        "notice_code": code,
        "escalation": kind == NoticeKind.ESCALATION,
        "new_lines": [line for line in lines if not line["reminder"]],
        "reminder_lines": [line for line in lines if line["reminder"]],
        "hoster": ", ".join(hosters),
        "days": (timezone.now() - first).days if first else 0,
    }


def _send_group(
    contact: AbuseContact,
    cases: list[TakedownCase],
    kind: str,
    facts: dict[int, HostingFacts],
    now: datetime,
    run: NoticeRun,
) -> None:
    hotline = cases[0].hotline
    country = contact.country or cases[0].reported_url.hosting_country
    language = language_for(contact.language, country)
    code = new_takedown_code()
    context = _context(contact, cases, kind, facts, code, language)
    try:
        wording = render(wording_for(hotline, kind, language), context)
    except Exception:  # a hotline's template that breaks: the built-in one still goes out
        logger.exception("notice template %s/%s of %s failed", kind, language, hotline)
        wording = render(default_wording(kind, language), context)
    notice = Notice.objects.create(
        code=code,
        hotline=hotline,
        contact=contact,
        kind=kind,
        recipient=contact.email,
        language=language,
        subject=wording.subject,
        text=wording.text,
        html=wording.html,
        state=NoticeState.SENDING,
    )
    try:
        message_id = send_mail(
            to=contact.email,
            subject=wording.subject,
            text=wording.text,
            html=wording.html,
            reply_to=hotline.contact_email,
            headers={"X-Openhotline-Notice": code},
        )
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("notice %s to %s failed: %s", code, contact.email, exc)
        notice.state = NoticeState.FAILED
        notice.error = f"{type(exc).__name__}: {exc}"[:500]
        notice.save(update_fields=["state", "error"])
        record(
            "takedown.notice_failed",
            organisation=hotline,
            obj=notice,
            detail={"to": contact.email, "error": notice.error},
        )
        run.failed.append(code)
        return
    do_record_notice_sent(notice, cases, message_id, now)
    run.sent.append(code)


def do_record_notice_sent(
    notice: Notice, cases: list[TakedownCase], message_id: str, now: datetime
) -> None:
    """Mark a notice sent and move its cases (and URLs) on, in one transaction."""
    escalation = notice.kind == NoticeKind.ESCALATION
    with transaction.atomic():
        notice.state = NoticeState.SENT
        notice.message_id = message_id[:300]
        notice.sent_at = now
        notice.save(update_fields=["state", "message_id", "sent_at"])
        for case in cases:
            NoticeLine.objects.create(
                notice=notice,
                case=case,
                url=case.reported_url.url,
                reminder=not escalation and case.contact_notified_at is not None,
            )
            if escalation:
                case.escalated_at = now
                case.state = CaseState.ESCALATED
            else:
                case.first_notice_at = case.first_notice_at or now
                case.contact_notified_at = case.contact_notified_at or now
                case.last_notice_at = now
                case.notices_sent += 1
                if case.state in (CaseState.WAITING, CaseState.ATTENTION):
                    case.state = CaseState.NOTIFIED
            case.save()
            what = "Escalation" if escalation else "Notice"
            message = f"{what} {notice.code} sent to {notice.recipient}"
            if not escalation and case.reported_url.state == UrlState.ILLEGAL:
                do_set_url_state(case.reported_url, UrlState.NOTICE_SENT, message=message)
            else:
                add_timeline(
                    message,
                    kind=f"takedown.{notice.kind}_sent",
                    reported_url=case.reported_url,
                    detail={"notice": notice.code},
                )
        record(
            f"takedown.{notice.kind}_sent",
            organisation=notice.hotline,
            obj=notice,
            detail={"to": notice.recipient, "urls": len(cases), "message_id": message_id},
        )
