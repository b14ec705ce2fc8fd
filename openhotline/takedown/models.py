"""Notice and takedown: abuse contacts, notices, cases followed by re-checks until removal.

Each illegal reported URL that stays with its hotline gets a ``TakedownCase``.
When the route asks for notices, the case names the ``AbuseContact`` found by
the hosting trace; notices go out grouped per contact (one mail per hoster
with all its URLs). Re-checks (``Recheck``) decide when the material is gone;
the case then records the removal and the times to removal.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.lib.codes import random_code


def new_takedown_code() -> str:
    return random_code(12, group=6)


class ContactKind(models.TextChoices):
    HOSTER = "hoster", _("Hoster")
    CDN = "cdn", _("CDN or reverse proxy")
    REGISTRAR = "registrar", _("Registrar")
    UPSTREAM = "upstream", _("Upstream provider")
    SITE_OWNER = "site_owner", _("Site owner")


class ContactSource(models.TextChoices):
    RDAP = "rdap", _("RDAP (hosting trace)")
    CDN_LIST = "cdn_list", _("CDN ranges file")
    DOMAIN_RULE = "domain_rule", _("Domain rule")
    MANUAL = "manual", _("Entered by an admin")


class AbuseContact(models.Model):
    """Where a hotline sends notices for one hoster, CDN or registrar.

    Found by the hosting trace, but only used once a hotline admin has
    approved it: a wrong RDAP record must not make us mail abuse reports to
    a stranger. Merged contacts point at the one that replaced them, so a
    later trace that finds the old address still lands on the right contact.
    """

    code = models.CharField(max_length=20, unique=True, default=new_takedown_code)
    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    email = models.EmailField(blank=True, db_index=True)
    kind = models.CharField(max_length=20, choices=ContactKind.choices)
    source = models.CharField(max_length=20, choices=ContactSource.choices)
    # Language of its notices; empty: chosen by the contact's country.
    language = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=2, blank=True)
    asn = models.BigIntegerField(null=True, blank=True)
    network = models.CharField(max_length=100, blank=True)
    # Where escalations go instead of the registrar (the hoster's upstream provider).
    escalate_to = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="merged"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["name", "pk"]
        constraints: ClassVar = [
            # One contact in use per address, and per name for those without one
            # (see docs/concurrency.md); merged ones keep theirs for later traces.
            models.UniqueConstraint(
                F("hotline"),
                Lower("email"),
                condition=Q(merged_into__isnull=True) & ~Q(email=""),
                name="one_contact_per_address",
            ),
            models.UniqueConstraint(
                F("hotline"),
                Lower("name"),
                condition=Q(merged_into__isnull=True, email=""),
                name="one_contact_per_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name

    def resolved(self) -> AbuseContact:
        """The contact in use: this one, or the one it was merged into."""
        contact: AbuseContact = self
        seen = {contact.pk}
        while contact.merged_into_id is not None and contact.merged_into_id not in seen:
            seen.add(contact.merged_into_id)
            nxt = contact.merged_into
            if nxt is None:  # merged_into_id is set: only a deleted row gives None
                break
            contact = nxt
        return contact

    def is_approved(self) -> bool:
        return self.approved_at is not None

    def is_usable(self) -> bool:
        return self.is_approved() and bool(self.email) and self.merged_into_id is None


class TemplateKind(models.TextChoices):
    NOTICE = "notice", _("Notice to the hoster (first notice and reminders)")
    ESCALATION = "escalation", _("Escalation to the registrar or upstream provider")


class NoticeTemplate(models.Model):
    """A hotline's own wording of a notice in one language (defaults are built in)."""

    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=TemplateKind.choices)
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["hotline", "kind", "language"], name="one_template_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.language}"


class CaseState(models.TextChoices):
    WAITING = "waiting", _("Waiting (police hold, or contact not yet approved)")
    ATTENTION = "attention", _("Back to an analyst")
    NOTIFIED = "notified", _("Notice sent")
    ESCALATED = "escalated", _("Escalated")
    MONITORING = "monitoring", _("Re-checked, no notice from us")
    REMOVED = "removed", _("Removed")
    CLOSED = "closed", _("Closed")


# Cases whose URL is still re-checked.
CHECKED_STATES = (
    CaseState.WAITING,
    CaseState.ATTENTION,
    CaseState.NOTIFIED,
    CaseState.ESCALATED,
    CaseState.MONITORING,
)
# Cases that may receive notices.
NOTICE_STATES = (CaseState.WAITING, CaseState.NOTIFIED, CaseState.ESCALATED)


class TakedownCase(models.Model):
    code = models.CharField(max_length=20, unique=True, default=new_takedown_code)
    reported_url = models.OneToOneField(
        "reports.ReportedUrl", models.CASCADE, related_name="takedown"
    )
    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    state = models.CharField(max_length=20, choices=CaseState.choices)
    notify = models.BooleanField(default=True)
    contact = models.ForeignKey(
        AbuseContact, models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    # Who the trace said gets the notice, as found when the case was (re)confirmed.
    hoster_key = models.CharField(max_length=255, blank=True)
    registrar_name = models.CharField(max_length=255, blank=True)
    registrar_email = models.CharField(max_length=254, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    attention_reason = models.CharField(max_length=500, blank=True)
    first_notice_at = models.DateTimeField(null=True, blank=True)
    # The first notice to the current contact (escalation counts from here).
    contact_notified_at = models.DateTimeField(null=True, blank=True)
    last_notice_at = models.DateTimeField(null=True, blank=True)
    notices_sent = models.PositiveIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(db_index=True)
    last_check_at = models.DateTimeField(null=True, blank=True)
    gone_streak = models.PositiveIntegerField(default=0)
    gone_since = models.DateTimeField(null=True, blank=True)
    last_gone_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Time to removal, in seconds, from the report, the first notice and the police referral.
    seconds_from_report = models.BigIntegerField(null=True, blank=True)
    seconds_from_notice = models.BigIntegerField(null=True, blank=True)
    seconds_from_referral = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [models.Index(fields=["hotline", "state"])]

    def __str__(self) -> str:
        return self.code

    def is_checked(self) -> bool:
        return self.state in CHECKED_STATES

    def seconds_to_removal(self, earlier: datetime | None) -> int | None:
        """Whole seconds from ``earlier`` to the removal; None if it did not come before it."""
        if earlier is None or self.removed_at is None or self.removed_at < earlier:
            return None  # e.g. removed before any notice went out: the notice played no part
        return int((self.removed_at - earlier).total_seconds())


class NoticeKind(models.TextChoices):
    NOTICE = "notice", _("Notice")
    ESCALATION = "escalation", _("Escalation")


class NoticeState(models.TextChoices):
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notice(models.Model):
    """One e-mail to one contact, kept as sent (it is evidence of the notice)."""

    code = models.CharField(max_length=20, unique=True, default=new_takedown_code)
    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    contact = models.ForeignKey(AbuseContact, models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    recipient = models.CharField(max_length=254)
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=20, choices=NoticeState.choices)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.code} → {self.recipient}"


class NoticeLine(models.Model):
    notice = models.ForeignKey(Notice, models.CASCADE, related_name="lines")
    case = models.ForeignKey(TakedownCase, models.CASCADE, related_name="notice_lines")
    url = models.TextField()
    reminder = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.url


class CheckOutcome(models.TextChoices):
    ONLINE = "online", _("Still online")
    MEDIA_GONE = "media_gone", _("Illegal media no longer served")
    URL_GONE = "url_gone", _("URL gone (404/410 or no DNS)")
    INCONCLUSIVE = "inconclusive", _("Inconclusive (error)")


GONE_OUTCOMES = frozenset({CheckOutcome.MEDIA_GONE, CheckOutcome.URL_GONE})


class Recheck(models.Model):
    """One re-crawl of a case's URL and what it showed."""

    case = models.ForeignKey(TakedownCase, models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=CheckOutcome.choices)
    status = models.IntegerField(null=True, blank=True)
    illegal_hashes = models.PositiveIntegerField(default=0)
    served_hashes = models.PositiveIntegerField(default=0)
    still_served = models.PositiveIntegerField(default=0)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering: ClassVar = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome}"


class Relocation(models.Model):
    """The same illegal media turned up at another URL: the material moved (ICCAM "moved")."""

    case = models.ForeignKey(TakedownCase, models.CASCADE, related_name="relocations")
    new_url = models.ForeignKey("reports.ReportedUrl", models.CASCADE, related_name="+")
    media_count = models.PositiveIntegerField(default=0)
    found_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["case", "new_url"], name="unique_relocation")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.new_url_id}"
