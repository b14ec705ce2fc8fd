"""The append-only, keyed hash chain of audit events.

Each event stores the HMAC-SHA256, under the audit key, of its own canonical
form: every field, the actor and organisation as ids and as names, the id of
the key, and the hash of the event before it. Changing, inserting or
deleting any event breaks every hash after it, and without the key nobody
can compute them again. Signed checkpoints written outside the database
(``openhotline.audit.checkpoints``) catch what a chain alone cannot: a
tail cut off with the head moved back. ``openhotline audit verify`` finds
the first problem; docs/audit.md explains the whole scheme.

Events written before the chain was keyed (``key_id`` empty) keep their
plain SHA-256 hashes; the keyed "audit.chain_keyed" event that migration
0003 appended after them records their count and last hash, so they are
covered by the key from then on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64
# The event that closes the unkeyed events of an install from before keying.
CHAIN_KEYED_ACTION = "audit.chain_keyed"


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # PROTECT: the ids are in the keyed hash, so the rows they name must stay
    # (users and organisations are deactivated, never deleted).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Kept as text as well, so the chain stays verifiable after a user is deleted.
    actor_label = models.CharField(max_length=200, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation", models.PROTECT, null=True, blank=True, related_name="+"
    )
    organisation_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Which audit key made ``hash``; empty for events from before keying.
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering: ClassVar = ["seq"]
        indexes: ClassVar = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("audit events are append-only")

    def canonical(self) -> bytes:
        """The bytes the keyed hash covers: every field but the hash itself."""
        body: dict[str, Any] = {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor": self.actor_label,
            "organisation_id": self.organisation_id,
            "organisation": self.organisation_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "key_id": self.key_id,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()

    def compute_hash(self, secret: bytes) -> str:
        return hmac.new(secret, self.canonical(), hashlib.sha256).hexdigest()

    def legacy_canonical(self) -> bytes:
        """The unkeyed form hashed before keying (no ids, no key id)."""
        body: dict[str, Any] = {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "actor": self.actor_label,
            "organisation": self.organisation_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()

    def compute_legacy_hash(self) -> str:
        return hashlib.sha256(self.legacy_canonical()).hexdigest()


class AuditChainHead(models.Model):
    """One row holding the newest hash; locking it serialises appends."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"head #{self.last_seq}"
