"""Cut-over to the keyed chain on installs that already have events.

Events written before keying keep their plain SHA-256 hashes (rewriting
them would launder anything already changed, and would break any copy of
an old hash kept elsewhere). One keyed "audit.chain_keyed" event is
appended after them, naming their count and last hash: from then on,
changing any of them changes that last hash, which the key protects.
On a new install (no events) this does nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.db import migrations
from django.utils import timezone

ACTION = "audit.chain_keyed"


def _keyed_hash(event: Any, secret: bytes) -> str:
    # A frozen copy of AuditEvent.canonical() as of this migration.
    body = {
        "seq": event.seq,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "organisation_id": event.organisation_id,
        "organisation": event.organisation_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
        "key_id": event.key_id,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hmac.new(secret, canonical, hashlib.sha256).hexdigest()


def close_unkeyed(apps: Any, schema_editor: Any) -> None:
    from openhotline.audit.keys import event_key

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    last = AuditEvent.objects.order_by("-seq").first()
    if last is None or last.key_id:
        return
    head, _ = AuditChainHead.objects.get_or_create(pk=1)
    key = event_key()
    marker = AuditEvent(
        seq=last.seq + 1,
        created_at=timezone.now(),
        actor_label="",
        organisation_label="",
        action=ACTION,
        object_type="",
        object_id="",
        detail={"unkeyed_events": last.seq, "unkeyed_head": last.hash},
        prev_hash=last.hash,
        key_id=key.key_id,
    )
    marker.hash = _keyed_hash(marker, key.secret)
    marker.save()
    head.last_seq = marker.seq
    head.last_hash = marker.hash
    head.save(update_fields=["last_seq", "last_hash"])


def reopen_unkeyed(apps: Any, schema_editor: Any) -> None:
    """Remove the marker again, only while nothing has been written after it."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    last = AuditEvent.objects.order_by("-seq").first()
    if last is None or last.action != ACTION:
        if AuditEvent.objects.exclude(key_id="").exists():
            raise RuntimeError(
                "audit: keyed events exist; the chain cannot go back to unkeyed hashes"
            )
        return
    AuditEvent.objects.filter(pk=last.pk).delete()
    AuditChainHead.objects.filter(pk=1).update(last_seq=last.seq - 1, last_hash=last.prev_hash)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_key_events_and_protect_actors")]

    operations = [migrations.RunPython(close_unkeyed, reopen_unkeyed)]
