"""The network of hotlines: the directory, routes, police referrals, forwards, LEA packages.

After an analyst says "illegal", a reported URL gets a ``Route`` chosen by its
hosting country (``routing.py``). A route may refer it to the police
(``PoliceReferral``), forward it to the member hotline of the hosting country
(``Forward``), or leave it to notice-and-takedown (the ``takedown`` app). The
law-enforcement portal shows ``LeaItem`` rows (illegal items in force at any
hotline) and hands them out in encrypted ``Package`` files, each item once per
organisation (``Delivery``).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.lib.codes import random_code


def new_network_code() -> str:
    return random_code(12, group=6)


class MemberHotline(models.Model):
    """The member hotline of one country: a tenant here, or reached by e-mail."""

    code = models.CharField(max_length=20, unique=True, default=new_network_code)
    country = models.CharField(max_length=2, unique=True)
    name = models.CharField(max_length=200)
    # Set when the member is a hotline of this installation.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="network_memberships",
    )
    contact_email = models.EmailField(blank=True)
    # Police first: notices to hosters in this country wait this long after the referral.
    police_first_hours = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["country"]

    def __str__(self) -> str:
        return f"{self.country}: {self.name}"

    def is_tenant(self) -> bool:
        return self.organisation_id is not None


class RouteKind(models.TextChoices):
    NATIONAL = "national", _("Hosted in our country: police referral, then notice")
    FORWARD_TENANT = "forward_tenant", _("Forwarded to a member hotline on this installation")
    FORWARD_EXTERNAL = "forward_external", _("Sent to an external member hotline")
    NO_MEMBER = "no_member", _("No member hotline there: police and INTERPOL")
    CDN = "cdn", _("Behind a CDN: notice to the CDN, origin traced again")
    UNKNOWN = "unknown", _("Hosting country unknown: traced again")


# Routes that wait for a better hosting trace and are decided again when one comes.
PROVISIONAL_ROUTES = frozenset({RouteKind.CDN, RouteKind.UNKNOWN})


class Route(models.Model):
    """Where an illegal reported URL went, decided by its hosting country."""

    reported_url = models.OneToOneField("reports.ReportedUrl", models.CASCADE, related_name="route")
    kind = models.CharField(max_length=20, choices=RouteKind.choices)
    country = models.CharField(max_length=2, blank=True)
    cdn = models.CharField(max_length=100, blank=True)
    member = models.ForeignKey(
        MemberHotline, models.PROTECT, null=True, blank=True, related_name="routes"
    )
    # Police first: no notice to the hoster before this moment.
    notice_not_before = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["kind", "country"])]

    def __str__(self) -> str:
        return f"{self.reported_url_id}: {self.kind}"

    def is_provisional(self) -> bool:
        return self.kind in PROVISIONAL_ROUTES


class ReferralChannel(models.TextChoices):
    NATIONAL = "national", _("National police")
    INTERPOL = "interpol", _("INTERPOL (no member hotline in the country)")


class ReferralState(models.TextChoices):
    ACTIVE = "active", _("Active")
    # The URL's verdict in force is no longer illegal (a shared item re-classified).
    WITHDRAWN = "withdrawn", _("Withdrawn by the hotline")
    # Still illegal, under another verdict than the one referred.
    CORRECTED = "corrected", _("Corrected by the hotline")


class ReferralDecision(models.TextChoices):
    NONE = "", _("No decision yet")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class PoliceReferral(models.Model):
    """A reported URL handed to the police of its hosting country, or to INTERPOL.

    A referral is never deleted once made: the police may have acted on it.
    When the URL's verdict changes afterwards, ``state`` says so (withdrawn or
    corrected), with when and why, for the officer to see plainly.
    """

    code = models.CharField(max_length=20, unique=True, default=new_network_code)
    reported_url = models.ForeignKey(
        "reports.ReportedUrl", models.CASCADE, related_name="police_referrals"
    )
    hotline = models.ForeignKey("accounts.Organisation", models.PROTECT, related_name="+")
    country = models.CharField(max_length=2, blank=True, db_index=True)
    channel = models.CharField(max_length=20, choices=ReferralChannel.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(
        max_length=20, choices=ReferralState.choices, default=ReferralState.ACTIVE
    )
    state_changed_at = models.DateTimeField(null=True, blank=True)
    state_reason = models.TextField(blank=True)
    # The police's answer (``actions.police_feedback``), each shown on the URL's timeline.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(
        max_length=20, choices=ReferralDecision.choices, blank=True, default=""
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    investigation_opened_at = models.DateTimeField(null=True, blank=True)
    victim_identified_at = models.DateTimeField(null=True, blank=True)
    # Set once, when the unacknowledged referral was reminded (never twice).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["reported_url", "channel"], name="one_referral_per_channel"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["acknowledged_at", "reminded_at"], name="referral_unacked")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.channel} {self.country})"


class ForwardKind(models.TextChoices):
    TENANT = "tenant", _("To a hotline on this installation")
    EXTERNAL = "external", _("By e-mail to an external hotline")


class ForwardState(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent by e-mail")
    FAILED = "failed", _("Sending failed; tried again")


class Forward(models.Model):
    """A reported URL passed to the member hotline of its hosting country."""

    code = models.CharField(max_length=20, unique=True, default=new_network_code)
    sender_url = models.ForeignKey(
        "reports.ReportedUrl", models.CASCADE, related_name="forwards_out"
    )
    # The receiving hotline's own reported URL (tenants only).
    receiver_url = models.ForeignKey(
        "reports.ReportedUrl",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="forwards_in",
    )
    member = models.ForeignKey(MemberHotline, models.PROTECT, related_name="forwards")
    kind = models.CharField(max_length=20, choices=ForwardKind.choices)
    state = models.CharField(max_length=20, choices=ForwardState.choices)
    recipient = models.CharField(max_length=254, blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["sender_url", "member"], name="one_forward_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.code} → {self.member.name}"


class MediaOverlap(models.Model):
    """Another hotline's reported URL shows some of the same media (deconfliction by content)."""

    reported_url = models.ForeignKey(
        "reports.ReportedUrl", models.CASCADE, related_name="media_overlaps"
    )
    other_url = models.ForeignKey("reports.ReportedUrl", models.CASCADE, related_name="+")
    media_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["reported_url", "other_url"], name="unique_overlap")
        ]

    def __str__(self) -> str:
        return f"{self.reported_url_id} ~ {self.other_url_id} ({self.media_count})"


class LeaItem(models.Model):
    """A media item classified baseline or nationally illegal by one hotline.

    Kept in step with the classification in force: withdrawn (``in_force``
    false) when a hotline changes its mind, so API clients see that too.
    """

    code = models.CharField(max_length=20, unique=True, default=new_network_code)
    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    media_item = models.ForeignKey("evidence.MediaItem", models.CASCADE, related_name="lea_items")
    classification = models.ForeignKey(
        "assessment.Classification", models.CASCADE, related_name="+"
    )
    verdict = models.CharField(max_length=20)
    is_virtual = models.BooleanField(default=False)
    hosting_country = models.CharField(max_length=2, blank=True)
    in_force = models.BooleanField(default=True)
    first_in_force_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering: ClassVar = ["-first_in_force_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "media_item"], name="one_lea_item")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.verdict})"


class PackageEncryption(models.TextChoices):
    PASSWORD = "password", _("AES-256 ZIP under a password shown once")
    AGE = "age", _("age (X25519) to the officer's registered key")


class Package(models.Model):
    """An encrypted download for one law-enforcement organisation; the password is not kept."""

    code = models.CharField(max_length=20, unique=True, default=new_network_code)
    organisation = models.ForeignKey(
        "accounts.Organisation", models.CASCADE, related_name="lea_packages"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    item_count = models.PositiveIntegerField(default=0)
    encryption = models.CharField(
        max_length=20, choices=PackageEncryption.choices, default=PackageEncryption.PASSWORD
    )
    # The age recipient an ``age`` package was encrypted to (the creating officer's key).
    age_recipient = models.CharField(max_length=100, blank=True)
    # The ZIP in the encrypted store, until it expires.
    blob_name = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.code

    @property
    def file_name(self) -> str:
        suffix = ".zip.age" if self.encryption == PackageEncryption.AGE else ".zip"
        return f"openhotline-{self.code}{suffix}"

    def is_available(self, now: datetime | None = None) -> bool:
        moment = now or timezone.now()
        return self.purged_at is None and bool(self.blob_name) and self.expires_at > moment


class Delivery(models.Model):
    """A media item handed to an organisation, so that it is not handed out again."""

    organisation = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    media_item = models.ForeignKey("evidence.MediaItem", models.CASCADE, related_name="+")
    package = models.ForeignKey(
        Package, models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    delivered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "media_item"], name="one_delivery_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.media_item_id} → {self.organisation_id}"


class PoliceRuleKind(models.TextChoices):
    """The signals of the police priority (AviaTor's, for referrals); order of explanation."""

    NEW_MATERIAL = "new_material", _("New material, never seen in any hash set")
    YOUNGEST_AGE = "youngest_age", _("Youngest age group (infant 2, pre-pubescent 1)")
    SELF_GENERATED = "self_generated", _("Self-generated material")
    COMMERCIAL = "commercial", _("Commercial markers")
    VOLUME = "volume", _("Number of illegal items")
    OWN_COUNTRY = "own_country", _("Hosted in the agency's own country")
    FLAGGED_SERIES = "flagged_series", _("Matches a series the agency flags")
    OWN_JURISDICTION = "own_jurisdiction", _("Reported to a hotline in the agency's country")
    REFERRAL_AGE = "referral_age", _("Age of the referral (days)")


class PolicePriorityRule(models.Model):
    """One weighted term of a police organisation's referral priority.

    Mirrors the analysts' ``assessment.PriorityRule``: the score of a referral
    is the sum over enabled rules of ``weight × value`` (see
    ``network.police_priority``); an organisation that never saved its rules
    uses the defaults there.
    """

    organisation = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=PoliceRuleKind.choices)
    weight = models.IntegerField()
    cap = models.PositiveIntegerField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "kind"], name="one_police_rule_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} × {self.weight}"


class AgencySettings(models.Model):
    """What a police or INTERPOL organisation's admin sets besides the weights."""

    organisation = models.OneToOneField(
        "accounts.Organisation", models.CASCADE, related_name="lea_settings"
    )
    # Series names (VICS ``Series`` of hash-set entries) the agency follows; compared
    # without regard to case.
    flagged_series = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"settings of {self.organisation_id}"


class OfficerProfile(models.Model):
    """A law-enforcement user's own settings: the age key packages are encrypted to."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="officer_profile"
    )
    # An age X25519 recipient ("age1…"); packages can be encrypted to it.
    age_recipient = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"officer {self.user_id}"
