"""The loop back to the hotline: what the police do with a referral.

An officer acknowledges a referral, accepts or declines it with a reason, and
can record that an investigation was opened or a victim identified. Each
step is stored on the referral, written on the hotline's URL timeline (the
analysts see it there) and in the audit log, in one transaction. Accepting
or declining acknowledges too, when nobody had.

A referral nobody acknowledged after ``OPENHOTLINE_LEA_REMIND_AFTER_HOURS``
is reminded once (``do_remind_unacknowledged``, run by the beat schedule):
the reminder is claimed with a conditional update in the same transaction as
the mail, so two sweeps at the same time send it once; a mail the server
refuses rolls the claim back and the next sweep tries again. Each address
gets the reminder in its organisation's language (the notices' country table),
else in the language of the hotline's country.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from openhotline.accounts.models import ApiKey, Membership, Organisation, OrgKind, Role, User
from openhotline.audit.log import record
from openhotline.network.lea_access import LeaSeat
from openhotline.network.models import (
    PoliceReferral,
    ReferralChannel,
    ReferralDecision,
    ReferralState,
)
from openhotline.ops.mailer import send_mail
from openhotline.reports.actions import add_timeline
from openhotline.takedown.wording import COUNTRY_LANGUAGE, language_for

logger = logging.getLogger(__name__)

MAX_REASON = 2000


class FeedbackError(ValueError):
    """A step refused, with the reason (shown to the officer): bad input, e.g. no reason."""


class FeedbackConflict(FeedbackError):
    """A step the referral's state does not allow now (decided already, withdrawn, …).

    Apart from bad input so the API can answer 409 rather than 422.
    """


def _locked(referral: PoliceReferral) -> PoliceReferral:
    return (
        PoliceReferral.objects.select_for_update()
        .select_related("reported_url", "hotline")
        .get(pk=referral.pk)
    )


def _who(seat: LeaSeat) -> str:
    return "INTERPOL" if seat.interpol else f"the police ({seat.organisation.name})"


def _note(
    referral: PoliceReferral,
    seat: LeaSeat,
    actor: User | None,
    action: str,
    message: str,
    detail: dict[str, object],
    api_key: ApiKey | None = None,
) -> None:
    """The timeline entry the hotline sees and the audit event, in the caller's transaction.

    An answer through the API has no officer: the audit names the key instead.
    """
    via = {"api_key": api_key.prefix} if api_key is not None else {}
    add_timeline(
        message,
        kind=action,
        reported_url=referral.reported_url,
        detail={"referral": referral.code, "organisation": seat.organisation.name, **detail},
    )
    record(
        action,
        actor=actor,
        organisation=seat.organisation,
        obj=referral,
        detail={
            "url": referral.reported_url.code,
            "hotline": referral.hotline.slug,
            **detail,
            **via,
        },
    )


def _acknowledge(
    referral: PoliceReferral,
    seat: LeaSeat,
    actor: User | None,
    now: datetime,
    api_key: ApiKey | None,
) -> None:
    referral.acknowledged_at = now
    referral.acknowledged_by = actor
    referral.save(update_fields=["acknowledged_at", "acknowledged_by"])
    _note(
        referral,
        seat,
        actor,
        "network.referral_acknowledged",
        f"Referral {referral.code} acknowledged by {_who(seat)}",
        {},
        api_key,
    )


def do_acknowledge_referral(
    referral: PoliceReferral,
    seat: LeaSeat,
    *,
    actor: User | None,
    api_key: ApiKey | None = None,
) -> bool:
    """Acknowledge receipt; False when it was acknowledged already (nothing written).

    ``actor`` is the officer in the portal; through the API it is None and
    ``api_key`` the police organisation's key.
    """
    with transaction.atomic():
        row = _locked(referral)
        if row.acknowledged_at is not None:
            return False
        _acknowledge(row, seat, actor, timezone.now(), api_key)
    return True


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise FeedbackError(gettext("Give a reason."))
    if len(text) > MAX_REASON:
        raise FeedbackError(
            gettext("The reason is longer than %(n)s characters.") % {"n": MAX_REASON}
        )
    return text


def do_decide_referral(
    referral: PoliceReferral,
    seat: LeaSeat,
    *,
    decision: str,
    reason: str,
    actor: User | None,
    api_key: ApiKey | None = None,
) -> None:
    """Accept or decline the referral, with a reason; once (a decision stands)."""
    if decision not in (ReferralDecision.ACCEPTED, ReferralDecision.DECLINED):
        raise FeedbackError(gettext("The decision is accept or decline."))
    text = _reason(reason)
    with transaction.atomic():
        row = _locked(referral)
        if row.decision:
            raise FeedbackConflict(
                gettext("This referral was accepted already.")
                if row.decision == ReferralDecision.ACCEPTED
                else gettext("This referral was declined already.")
            )
        if row.state == ReferralState.WITHDRAWN:
            raise FeedbackConflict(gettext("The hotline withdrew this referral."))
        now = timezone.now()
        if row.acknowledged_at is None:
            _acknowledge(row, seat, actor, now, api_key)
        row.decision = decision
        row.decided_at = now
        row.decision_reason = text
        row.save(update_fields=["decision", "decided_at", "decision_reason"])
        verb = "accepted" if decision == ReferralDecision.ACCEPTED else "declined"
        _note(
            row,
            seat,
            actor,
            f"network.referral_{verb}",
            f"Referral {row.code} {verb} by {_who(seat)}: {text}",
            {"reason": text},
            api_key,
        )


# Outcome -> (field, audit action, wording).
OUTCOMES = {
    "investigation": (
        "investigation_opened_at",
        "network.referral_investigation_opened",
        "an investigation was opened",
    ),
    "victim": (
        "victim_identified_at",
        "network.referral_victim_identified",
        "a victim was identified",
    ),
}


def do_record_outcome(
    referral: PoliceReferral,
    seat: LeaSeat,
    *,
    outcome: str,
    note: str = "",
    actor: User | None,
    api_key: ApiKey | None = None,
) -> None:
    """Record "investigation opened" or "victim identified" (each once, on an accepted referral)."""
    if outcome not in OUTCOMES:
        raise FeedbackError(gettext("Unknown outcome."))
    field, action, wording = OUTCOMES[outcome]
    text = (note or "").strip()[:MAX_REASON]
    with transaction.atomic():
        row = _locked(referral)
        if row.decision != ReferralDecision.ACCEPTED:
            raise FeedbackConflict(gettext("Accept the referral first."))
        if getattr(row, field) is not None:
            raise FeedbackConflict(gettext("This was recorded already."))
        setattr(row, field, timezone.now())
        row.save(update_fields=[field])
        message = f"Referral {row.code}: {_who(seat)} report that {wording}"
        _note(
            row,
            seat,
            actor,
            action,
            message + (f" ({text})" if text else ""),
            {"note": text},
            api_key,
        )


def recipients(referral: PoliceReferral) -> list[str]:
    """Where a reminder goes: each receiving organisation's contact address, else its officers'."""
    return [address for address, _language in _addressed(referral)]


def reminder_language(organisation: Organisation, hotline: Organisation) -> str:
    """The language of a reminder: the receiving organisation's, else the hotline's.

    The same table as the notices to hosters (``takedown.wording``): a
    country's language where we have one (an agency in Germany reads German),
    else the language of the hotline's own country, else English.
    """
    own = COUNTRY_LANGUAGE.get(str(organisation.country).upper())
    return own or language_for("", str(hotline.country))


def _addressed(referral: PoliceReferral) -> list[tuple[str, str]]:
    """Each address once, with the language of the organisation it reaches."""
    if referral.channel == ReferralChannel.INTERPOL:
        orgs = Organisation.objects.filter(kind=OrgKind.INTERPOL)
        role = Role.INTERPOL_OFFICER
    else:
        orgs = Organisation.objects.filter(kind=OrgKind.LEA, country=referral.country)
        role = Role.POLICE_OFFICER
    found: dict[str, str] = {}
    for org in orgs.order_by("pk"):
        if org.contact_email:
            addresses = [org.contact_email]
        else:
            addresses = list(
                Membership.objects.filter(
                    organisation=org, role__in=[role, Role.AGENCY_ADMIN], user__is_active=True
                )
                .exclude(user__email="")
                .order_by("user__email")
                .values_list("user__email", flat=True)
            )
        language = reminder_language(org, referral.hotline)
        for address in addresses:
            found.setdefault(address, language)
    return list(found.items())


def _reminder(referral: PoliceReferral, language: str, hours: int) -> tuple[str, str]:
    """The reminder's subject and text in ``language``."""
    site = settings.OPENHOTLINE_BASE_URL.rstrip("/")
    with translation.override(language):
        subject = gettext("Referral %(code)s not yet acknowledged") % {"code": referral.code}
        text = gettext(
            "Referral %(code)s from %(hotline)s, made %(made)s UTC, has not been "
            "acknowledged after %(hours)s hours.\n\nOpen it in the police portal: %(link)s\n"
        ) % {
            "code": referral.code,
            "hotline": referral.hotline.name,
            "made": f"{referral.created_at:%Y-%m-%d %H:%M}",
            "hours": hours,
            "link": f"{site}/lea/referrals/{referral.code}/",
        }
    return subject, text


def _remind_one(pk: int, before: datetime, now: datetime) -> bool:
    with transaction.atomic():
        claimed = PoliceReferral.objects.filter(
            pk=pk,
            acknowledged_at__isnull=True,
            reminded_at__isnull=True,
            state=ReferralState.ACTIVE,
            created_at__lte=before,
        ).update(reminded_at=now)
        if not claimed:
            return False  # acknowledged meanwhile, or another sweep took it
        referral = PoliceReferral.objects.select_related("reported_url", "hotline").get(pk=pk)
        addressed = _addressed(referral)
        addresses = [address for address, _language in addressed]
        hours = settings.OPENHOTLINE_LEA_REMIND_AFTER_HOURS
        for address, language in addressed:
            subject, text = _reminder(referral, language, hours)
            send_mail(to=address, subject=subject, text=text)
        add_timeline(
            f"Referral {referral.code} not acknowledged after {hours} h: reminder sent "
            f"to {len(addresses)} address{'es' if len(addresses) != 1 else ''}",
            kind="network.referral_reminded",
            reported_url=referral.reported_url,
            detail={"referral": referral.code, "recipients": len(addresses)},
        )
        record(
            "network.referral_reminded",
            organisation=referral.hotline,
            obj=referral,
            detail={"url": referral.reported_url.code, "recipients": len(addresses)},
        )
    return True


def do_remind_unacknowledged(*, now: datetime | None = None, limit: int = 500) -> int:
    """Remind every referral unacknowledged for too long, once each; return how many."""
    moment = now or timezone.now()
    before = moment - timedelta(hours=settings.OPENHOTLINE_LEA_REMIND_AFTER_HOURS)
    due = PoliceReferral.objects.filter(
        acknowledged_at__isnull=True,
        reminded_at__isnull=True,
        state=ReferralState.ACTIVE,
        created_at__lte=before,
    ).order_by("created_at", "pk")
    sent = 0
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        try:
            sent += _remind_one(pk, before, moment)
        except Exception:  # the mail server refused: the claim is rolled back, next sweep
            logger.exception("could not remind referral %s", pk)
    return sent
