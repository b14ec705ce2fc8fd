"""State changes of takedown cases, each with its timeline and audit entries.

Sending is in ``notices.py``, re-checks and removal in ``removal.py``; both
end in the ``do_*`` functions here or there, in one transaction each.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.crawler.hosting_facts import HostingFacts, fresh_facts
from openhotline.reports.actions import add_timeline
from openhotline.reports.models import ReportedUrl
from openhotline.takedown.actions.contacts import contact_for_facts
from openhotline.takedown.models import (
    AbuseContact,
    CaseState,
    ContactSource,
    NoticeTemplate,
    TakedownCase,
)

FINISHED_STATES = (CaseState.REMOVED, CaseState.CLOSED)
# Sent by name from ``do_request_recheck`` (tasks.py imports this module).
RECHECK_TASK = "openhotline.takedown.tasks.recheck_case"


class TakedownError(ValueError):
    """A takedown step that is not allowed, with the reason."""


def _first_check(now: datetime) -> datetime:
    return now + timedelta(hours=settings.OPENHOTLINE_RECHECK_HOURS)


def _target(case: TakedownCase, facts: HostingFacts | None) -> None:
    """Point a case at the contact the trace names, or send it back to an analyst."""
    contact = contact_for_facts(case.hotline, facts) if facts is not None else None
    if contact != case.contact:
        # A new contact has not heard from us: its first notice is due now, not a reminder.
        case.contact_notified_at = None
        case.last_notice_at = None
        case.escalated_at = None
    case.contact = contact
    case.hoster_key = facts.hoster_key() if facts is not None else ""
    case.registrar_name = (facts.registrar if facts is not None else "")[:255]
    case.registrar_email = (facts.registrar_abuse if facts is not None else "")[:254]
    if contact is None:
        case.state = CaseState.ATTENTION
        case.attention_reason = "The hosting trace found no abuse contact: add one and resolve."
    elif case.state not in (CaseState.NOTIFIED, CaseState.ESCALATED):
        case.state = CaseState.WAITING
        case.attention_reason = ""


def do_open_case(
    reported_url: ReportedUrl,
    *,
    notify: bool,
    not_before: datetime | None = None,
    facts: HostingFacts | None = None,
    reason: str = "",
) -> TakedownCase:
    """Follow an illegal URL until removal; with ``notify``, notices go to its hoster.

    Opening again (a route decided anew once a CDN's origin is known) updates
    the case; a removed or closed case stays as it is.
    """
    now = timezone.now()
    with transaction.atomic():
        case, created = TakedownCase.objects.select_for_update().get_or_create(
            reported_url=reported_url,
            defaults={
                "hotline": reported_url.hotline,
                "state": CaseState.MONITORING,
                "next_check_at": _first_check(now),
            },
        )
        if case.state in FINISHED_STATES:
            return case
        case.notify = notify
        case.not_before = not_before
        if notify:
            _target(case, facts)
        else:
            case.state = CaseState.MONITORING
            case.contact = None
        case.save()
        who = f" to {case.contact}" if notify and case.contact is not None else ""
        hold = f", not before {not_before:%Y-%m-%d %H:%M} UTC" if not_before else ""
        message = f"Takedown: notice{who}{hold}" if notify else "Takedown: re-checked until removed"
        add_timeline(
            f"{message}{f' ({reason})' if reason else ''}",
            kind="takedown.opened" if created else "takedown.updated",
            reported_url=reported_url,
            detail={"case": case.code, "state": case.state, "notify": notify},
        )
        record(
            "takedown.case_opened" if created else "takedown.case_updated",
            organisation=reported_url.hotline,
            obj=case,
            detail={"url": reported_url.code, "notify": notify, "state": case.state},
        )
    return case


def do_flag_attention(case: TakedownCase, reason: str) -> None:
    """Stop notices and hand the case back to an analyst (e.g. the hoster changed)."""
    with transaction.atomic():
        case.state = CaseState.ATTENTION
        case.attention_reason = reason[:500]
        case.save(update_fields=["state", "attention_reason", "updated_at"])
        add_timeline(
            f"Takedown back to an analyst: {reason}",
            kind="takedown.attention",
            reported_url=case.reported_url,
            detail={"case": case.code},
        )
        record(
            "takedown.case_attention",
            organisation=case.hotline,
            obj=case,
            detail={"reason": reason},
        )


def do_resolve_attention(case: TakedownCase, *, actor: User) -> TakedownCase:
    """An analyst accepts the hosting as traced now; notices resume to its contact."""
    if case.state != CaseState.ATTENTION:
        raise TakedownError(gettext("this case is not waiting for an analyst"))
    facts = fresh_facts(case.reported_url)
    if not facts.hoster_key() and not facts.hoster:
        raise TakedownError(gettext("the hosting trace finds no hoster now; try again later"))
    with transaction.atomic():
        previous = case.contact
        _target(case, facts)
        case.save()
        add_timeline(
            f"Takedown resumed: notices to {case.contact}",
            kind="takedown.resolved",
            reported_url=case.reported_url,
            actor=actor,
            detail={"case": case.code},
        )
        record(
            "takedown.case_resolved",
            actor=actor,
            organisation=case.hotline,
            obj=case,
            detail={
                "from": previous.code if previous is not None else "",
                "to": case.contact.code if case.contact is not None else "",
                "state": case.state,
            },
        )
    return case


def do_request_recheck(case: TakedownCase, *, actor: User) -> None:
    """Re-check the case's URL now rather than at its next check ("is it gone yet?").

    The check itself is the ``recheck_case`` task on the crawl queue, queued
    after commit; it is safe to run twice, as with the beat's re-checks.
    """
    from openhotline.celery import app

    if not case.is_checked():
        raise TakedownError(gettext("this case is not re-checked any more"))
    with transaction.atomic():
        record("takedown.recheck_requested", actor=actor, organisation=case.hotline, obj=case)
        transaction.on_commit(
            lambda: app.send_task(RECHECK_TASK, args=[case.pk], queue="crawl"), robust=True
        )


def do_pick_contact(case: TakedownCase, contact: AbuseContact, *, actor: User) -> TakedownCase:
    """An analyst sends the case's notices to an approved contact of the hotline's own.

    For a trace that found no contact, or the wrong one: the case leaves
    "back to an analyst" and the new contact's first notice is due as for any
    new contact (``_target``'s rule: it has not heard from us).
    """
    if case.state in FINISHED_STATES:
        raise TakedownError(gettext("this case is already finished"))
    if contact.hotline_id != case.hotline_id:
        raise TakedownError(gettext("that contact belongs to another hotline"))
    if not contact.is_usable():
        raise TakedownError(
            gettext("%(contact)s is not an approved contact with an address") % {"contact": contact}
        )
    with transaction.atomic():
        case = TakedownCase.objects.select_for_update().get(pk=case.pk)
        previous = case.contact
        if previous is not None and previous.pk == contact.pk:
            return case
        case.contact = contact
        case.contact_notified_at = None
        case.last_notice_at = None
        case.escalated_at = None
        if case.state in (CaseState.ATTENTION, CaseState.NOTIFIED, CaseState.ESCALATED):
            case.state = CaseState.WAITING
        case.attention_reason = ""
        case.save()
        add_timeline(
            f"Takedown: notices to {contact}, picked by an analyst",
            kind="takedown.contact_picked",
            reported_url=case.reported_url,
            actor=actor,
            detail={"case": case.code},
        )
        record(
            "takedown.contact_picked",
            actor=actor,
            organisation=case.hotline,
            obj=case,
            detail={"from": previous.code if previous is not None else "", "to": contact.code},
        )
    return case


def do_close_case(case: TakedownCase, *, actor: User | None, reason: str) -> None:
    """Stop following a URL (no notices, no re-checks), with the reason (an analyst's, or
    routing's when the URL went to another hotline)."""
    if case.state in FINISHED_STATES:
        raise TakedownError(gettext("this case is already finished"))
    if not reason.strip():
        raise TakedownError(gettext("give a reason for closing the case"))
    with transaction.atomic():
        case.state = CaseState.CLOSED
        case.attention_reason = reason[:500]
        case.save(update_fields=["state", "attention_reason", "updated_at"])
        add_timeline(
            f"Takedown closed: {reason}",
            kind="takedown.closed",
            reported_url=case.reported_url,
            actor=actor,
            detail={"case": case.code},
        )
        record(
            "takedown.case_closed",
            actor=actor,
            organisation=case.hotline,
            obj=case,
            detail={"reason": reason},
        )


# --- A hotline admin's contacts and notice templates ---


def do_add_contact(contact: AbuseContact, *, actor: User) -> AbuseContact:
    """Save a contact an admin typed in (``contact`` holds the form's values)."""
    with transaction.atomic():
        contact.source = ContactSource.MANUAL
        contact.email = contact.email.strip().lower()
        contact.save()
        record("takedown.contact_added", actor=actor, organisation=contact.hotline, obj=contact)
    return contact


def do_save_template(template: NoticeTemplate, *, actor: User) -> None:
    with transaction.atomic():
        template.updated_by = actor
        template.save()
        record(
            "takedown.template_saved",
            actor=actor,
            organisation=template.hotline,
            object_type="takedown.noticetemplate",
            object_id=f"{template.kind}/{template.language}",
        )


def do_reset_template(hotline: Organisation, kind: str, language: str, *, actor: User) -> bool:
    """Drop the hotline's own wording so the default applies again; False if it had none."""
    with transaction.atomic():
        deleted, _ = NoticeTemplate.objects.filter(
            hotline=hotline, kind=kind, language=language
        ).delete()
        if deleted:
            record(
                "takedown.template_reset",
                actor=actor,
                organisation=hotline,
                object_type="takedown.noticetemplate",
                object_id=f"{kind}/{language}",
            )
    return bool(deleted)
