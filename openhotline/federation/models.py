"""Federation: peered installations, the outbox and inbox between them, what flowed.

A ``Peer`` is another openhotline installation (or anything that speaks
docs/federation.md), known by its base URL, its Ed25519 public key and the
country whose hotline it runs. Messages to a peer wait in ``OutboxMessage``
rows until delivered; messages from a peer are remembered in ``InboxMessage``
by their id, so a message delivered twice has its effect once. ``SeenNonce``
refuses a signed request played again. ``OutgoingForward`` and
``IncomingForward`` tie a forwarded URL to the peer on the other side.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline.lib.codes import random_code


def new_federation_code() -> str:
    return random_code(12, group=6)


class PeerState(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused: nothing sent, requests refused")
    REMOVED = "removed", _("Removed")


class Peer(models.Model):
    code = models.CharField(max_length=20, unique=True, default=new_federation_code)
    name = models.CharField(max_length=200)
    base_url = models.URLField(max_length=300)
    # ``ed25519:`` + base64url of the raw public key; ``key_id`` is its short hash.
    public_key = models.CharField(max_length=80, unique=True)
    key_id = models.CharField(max_length=16, unique=True)
    country = models.CharField(max_length=2, db_index=True)
    state = models.CharField(max_length=20, choices=PeerState.choices, default=PeerState.ACTIVE)
    # The delivery lease: one worker at a time sends to a peer, in order.
    lease_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Deconfliction: our URLs with a primary key up to here are tagged for this
    # peer (answering) / were asked about (asking).
    tagged_up_to = models.BigIntegerField(default=0)
    asked_up_to = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["country", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"

    def is_active(self) -> bool:
        return self.state == PeerState.ACTIVE


class SeenNonce(models.Model):
    """A signature's nonce, kept past the replay window: the same nonce twice is a replay."""

    peer = models.ForeignKey(Peer, models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["peer", "nonce"], name="federation_nonce_once")
        ]
        indexes: ClassVar = [models.Index(fields=["peer", "created_at"])]

    def __str__(self) -> str:
        return f"{self.peer_id}: {self.nonce}"


class MessageType(models.TextChoices):
    FORWARD = "forward", _("Forward of a URL")
    STATUS = "status", _("Progress of a forwarded URL")
    MEDIA_REQUEST = "media_request", _("Request for the media of a forwarded URL")
    MEDIA = "media", _("Media of a forwarded URL, or the refusal")


class OutboxState(models.TextChoices):
    PENDING = "pending", _("Pending")
    FAILING = "failing", _("Failing; tried again")
    DELIVERED = "delivered", _("Delivered")
    GIVEN_UP = "given_up", _("Given up")


UNDELIVERED = (OutboxState.PENDING, OutboxState.FAILING)


class OutboxMessage(models.Model):
    """One message to a peer; ``message_id`` is its idempotency key on the receiving side."""

    message_id = models.CharField(max_length=40, unique=True, default=new_federation_code)
    peer = models.ForeignKey(Peer, models.PROTECT, related_name="outbox")
    # The hotline whose message it is: its admins see and handle the delivery.
    hotline = models.ForeignKey(
        "accounts.Organisation", models.PROTECT, null=True, blank=True, related_name="+"
    )
    type = models.CharField(max_length=20, choices=MessageType.choices)
    # Messages with the same key (one URL) are delivered in the order they were made.
    ordering_key = models.CharField(max_length=64, blank=True)
    body = models.JSONField()
    state = models.CharField(
        max_length=20, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["pk"]
        indexes: ClassVar = [models.Index(fields=["peer", "state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id} → {self.peer_id}"

    def backoff(self, base: float, most: float) -> timedelta:
        return timedelta(seconds=min(most, base * 2 ** max(0, self.attempts - 1)))


class InboxMessage(models.Model):
    """A message received from a peer, by its id: a second delivery changes nothing."""

    peer = models.ForeignKey(Peer, models.PROTECT, related_name="inbox")
    message_id = models.CharField(max_length=40)
    type = models.CharField(max_length=20, choices=MessageType.choices)
    received_at = models.DateTimeField(default=timezone.now)
    result = models.JSONField(default=dict)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["peer", "message_id"], name="federation_inbox_once")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id} from {self.peer_id}"


class OutgoingForward(models.Model):
    """Our URL forwarded to a peer, and the progress the peer sent back."""

    reported_url = models.ForeignKey("reports.ReportedUrl", models.CASCADE, related_name="+")
    peer = models.ForeignKey(Peer, models.PROTECT, related_name="forwards_out")
    forward = models.OneToOneField("network.Forward", models.CASCADE, related_name="+")
    message = models.ForeignKey(OutboxMessage, models.PROTECT, related_name="+")
    # event -> ISO time, as the peer reported it (assessed, police_referral, notice_sent, removed).
    progress = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["reported_url", "peer"], name="federation_forward_once")
        ]

    def __str__(self) -> str:
        return f"{self.reported_url_id} → {self.peer_id}"


class IncomingForward(models.Model):
    """A URL a peer forwarded to us: our own reported URL, and what we told the peer since."""

    peer = models.ForeignKey(Peer, models.PROTECT, related_name="forwards_in")
    reference = models.CharField(max_length=64)
    reported_url = models.ForeignKey("reports.ReportedUrl", models.CASCADE, related_name="+")
    payload = models.JSONField(default=dict)
    # event -> ISO time, as last queued for the peer.
    reported = models.JSONField(default=dict)
    finished = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["peer", "reference"], name="federation_incoming_once")
        ]

    def __str__(self) -> str:
        return f"{self.peer_id}: {self.reference}"


class PeerUrlTag(models.Model):
    """The keyed hash of one of our URLs under a peer's pair key, to answer its questions.

    Only our own URLs are tagged; a question's tags are compared, never stored.
    """

    peer = models.ForeignKey(Peer, models.CASCADE, related_name="+")
    tag = models.CharField(max_length=64)
    reported_url = models.ForeignKey("reports.ReportedUrl", models.CASCADE, related_name="+")

    class Meta:
        indexes: ClassVar = [models.Index(fields=["peer", "tag"])]

    def __str__(self) -> str:
        return f"{self.peer_id}: {self.reported_url_id}"


class PeerHolding(models.Model):
    """A peer answered that it holds one of our URLs too (asked by keyed hash)."""

    peer = models.ForeignKey(Peer, models.CASCADE, related_name="+")
    reported_url = models.ForeignKey("reports.ReportedUrl", models.CASCADE, related_name="+")
    since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["peer", "reported_url"], name="federation_holding_once")
        ]

    def __str__(self) -> str:
        return f"{self.peer_id} holds {self.reported_url_id}"


class Publication(models.Model):
    """One of our hash sets offered to a peer, which may pull its changes."""

    peer = models.ForeignKey(Peer, models.CASCADE, related_name="publications")
    hash_set = models.ForeignKey("matching.HashSet", models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["peer", "hash_set"], name="federation_publish_once")
        ]

    def __str__(self) -> str:
        return f"{self.hash_set_id} → {self.peer_id}"


class SentEntry(models.Model):
    """An entry of a published set that a peer has pulled: its removal is passed on by key.

    An entry removed from a set is deleted, and the change log keeps only its
    id; this ledger says which removed ids the peer holds, and under which key.
    """

    publication = models.ForeignKey(Publication, models.CASCADE, related_name="+")
    entry_id = models.BigIntegerField()
    key = models.CharField(max_length=80)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["publication", "entry_id"], name="federation_sent_once")
        ]

    def __str__(self) -> str:
        return f"{self.publication_id}: {self.key}"


class Subscription(models.Model):
    """A peer's hash set we pull into a local one, from ``serial`` on."""

    peer = models.ForeignKey(Peer, models.CASCADE, related_name="subscriptions")
    remote_code = models.CharField(max_length=40)
    hash_set = models.ForeignKey("matching.HashSet", models.CASCADE, related_name="+")
    serial = models.BigIntegerField(default=0)
    # The publisher's change-log serial up to which its removals are applied here.
    removed_serial = models.BigIntegerField(default=0)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["peer", "remote_code"], name="federation_subscribe_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.peer_id}: {self.remote_code}"


class MediaSharing(models.Model):
    """A hotline allows the media of the URLs it forwarded to a peer to go to that peer on request.

    Off unless the row exists: the policy is per hotline and per peer, set by
    the hotline's admins (docs/federation.md, *Media on request*).
    """

    hotline = models.ForeignKey("accounts.Organisation", models.CASCADE, related_name="+")
    peer = models.ForeignKey(Peer, models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["hotline", "peer"], name="federation_media_policy_once")
        ]

    def __str__(self) -> str:
        return f"{self.hotline_id} → {self.peer_id}: media allowed"


class MediaRequestState(models.TextChoices):
    REQUESTED = "requested", _("Asked; waiting for the sender")
    REFUSED = "refused", _("Refused by the sender")
    RECEIVED = "received", _("Received")
    FAILED = "failed", _("Arrived but could not be opened")


class MediaRequest(models.Model):
    """Our analyst asked the sender of a forwarded URL for its media, and what came back."""

    code = models.CharField(max_length=20, unique=True, default=new_federation_code)
    incoming = models.ForeignKey(IncomingForward, models.CASCADE, related_name="media_requests")
    requested_by = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(
        max_length=20, choices=MediaRequestState.choices, default=MediaRequestState.REQUESTED
    )
    reason = models.CharField(max_length=300, blank=True)
    items = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-pk"]

    def __str__(self) -> str:
        return f"{self.code}: {self.state}"
