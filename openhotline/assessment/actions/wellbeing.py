"""Per-user wellbeing: blur defaults, reveal counters, break reminders and the daily cap.

Counters are shown to the analyst on every workspace page: items revealed
in this session (kept in the session) and today (``RevealDay``, UTC day).
An item counts once, at its first reveal step; its colour step does not
count again. A daily cap, when the analyst set one, refuses further reveals
until a senior analyst of one of their hotlines lifts it for the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from openhotline.accounts.models import ANALYST_ROLES, SENIOR_ROLES, User
from openhotline.assessment.models import BlurStrength, RevealDay, WellbeingPrefs
from openhotline.audit.log import record
from openhotline.evidence.thumbs import RevealStep

SESSION_REVEALED = "wellbeing_revealed"
SESSION_SINCE = "wellbeing_since"
# How many item codes the session remembers as already revealed.
REMEMBERED = 500


class CapReached(Exception):
    """The analyst's daily cap is reached and no senior analyst lifted it."""


class RevealRefused(ValueError):
    """A reveal step out of order (colour before grey) or not a reveal step at all."""


@dataclass
class Counters:
    session: int
    today: int
    cap: int | None
    lifted: bool

    @property
    def capped(self) -> bool:
        return self.cap is not None and not self.lifted and self.today >= self.cap


def prefs_for(user: User) -> WellbeingPrefs:
    """The user's preferences, or the defaults (unsaved) when they never chose."""
    prefs = WellbeingPrefs.objects.filter(user=user).first()
    return prefs or WellbeingPrefs(user=user)


def thumbnail_params(prefs: WellbeingPrefs) -> str:
    """Query string for the evidence thumbnail: the user's blur strength and colour choice."""
    colour = "" if prefs.greyscale else "&tint=colour"
    return f"?blur={prefs.blur or BlurStrength.NORMAL}{colour}"


def counters(user: User, session: SessionBase, prefs: WellbeingPrefs) -> Counters:
    today = RevealDay.objects.filter(user=user, day=timezone.now().date()).first()
    return Counters(
        session=len(session.get(SESSION_REVEALED, [])),
        today=today.revealed if today else 0,
        cap=prefs.daily_cap,
        lifted=bool(today and today.cap_lifted_at),
    )


def do_count_reveal(user: User, session: SessionBase, item_code: str, *, step: str) -> Counters:
    """Count one reveal step, refusing a new item once the daily cap is reached.

    1. Only grey and colour are reveal steps, and colour comes after grey
       in this session: ``RevealRefused`` otherwise.
    2. A step on an item already revealed this session (grey, then colour)
       is not counted again and is never refused.
    3. Otherwise lock today's row, refuse at the cap unless lifted, count.
    """
    if step not in {RevealStep.GREY, RevealStep.COLOUR}:
        raise RevealRefused(gettext("Unknown step."))
    prefs = prefs_for(user)
    seen: list[str] = list(session.get(SESSION_REVEALED, []))
    if item_code in seen:
        return counters(user, session, prefs)
    if step == RevealStep.COLOUR:
        raise RevealRefused(gettext("Reveal in greyscale first."))
    with transaction.atomic():
        today, _ = RevealDay.objects.select_for_update().get_or_create(
            user=user, day=timezone.now().date()
        )
        if prefs.daily_cap is not None and today.cap_lifted_at is None:
            if today.revealed >= prefs.daily_cap:
                raise CapReached(
                    gettext("daily cap of %(n)s reveals reached") % {"n": prefs.daily_cap}
                )
        RevealDay.objects.filter(pk=today.pk).update(revealed=F("revealed") + 1)
    seen.append(item_code)
    session[SESSION_REVEALED] = seen[-REMEMBERED:]
    return counters(user, session, prefs)


def break_due(session: SessionBase, prefs: WellbeingPrefs, now: datetime | None = None) -> bool:
    """True once the analyst has worked ``break_minutes`` since login or their last break.

    The clock starts at login (``receivers``); reading it never writes the session.
    """
    moment = now or timezone.now()
    raw = session.get(SESSION_SINCE)
    if raw is None:
        return False
    since = datetime.fromisoformat(raw)
    return (moment - since).total_seconds() >= prefs.break_minutes * 60


def take_break(session: SessionBase) -> None:
    session[SESSION_SINCE] = timezone.now().isoformat()


def can_lift_cap(senior: User, analyst: User) -> bool:
    """A senior analyst or admin of a hotline where ``analyst`` works."""
    hotlines = analyst.memberships.filter(role__in=ANALYST_ROLES).values("organisation")
    return senior.memberships.filter(organisation__in=hotlines, role__in=SENIOR_ROLES).exists()


def do_lift_cap(analyst: User, senior: User) -> None:
    """Lift ``analyst``'s daily cap for the rest of today (audited)."""
    if senior.pk == analyst.pk or not can_lift_cap(senior, analyst):
        raise PermissionError(gettext("a senior analyst of the same hotline lifts the cap"))
    with transaction.atomic():
        today, _ = RevealDay.objects.select_for_update().get_or_create(
            user=analyst, day=timezone.now().date()
        )
        today.cap_lifted_by = senior
        today.cap_lifted_at = timezone.now()
        today.save(update_fields=["cap_lifted_by", "cap_lifted_at"])
        record(
            "wellbeing.cap_lifted",
            actor=senior,
            object_type="accounts.user",
            object_id=analyst.get_username(),
            detail={"day": today.day.isoformat(), "revealed": today.revealed},
        )
