"""Hash-set subscription: a peer pulls the changes of the sets we publish to it.

The publisher chooses sets per peer (``Publication``). The subscriber asks
for the entries added since a serial and imports them, as VICS 2.0 JSON,
into a local hash set through matching's own import (``do_import``: the
same checks, deduplication, audit and PDQ indexing as a file import). The
serial is the entry's id on the publishing side: it only grows, so "since"
never misses an entry added later. Removed entries are not passed on yet
(docs/federation.md, *Hash sets*).
"""

from __future__ import annotations

import io
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.log import record
from openhotline.federation.actions.forwards import MessageRefused
from openhotline.federation.client import PeerError, call
from openhotline.federation.models import Peer, PeerState, Publication, Subscription
from openhotline.lib.vics_writer import PROFILES, VicsWriter
from openhotline.matching.actions.hash_sets import do_create_set
from openhotline.matching.actions.importing import ImportFailed, do_import
from openhotline.matching.exporting import vics_media
from openhotline.matching.models import HashSet

logger = logging.getLogger(__name__)

PAGE = 5000
SETS_PATH = "federation/v1/hashsets"


def do_publish(peer: Peer, hash_set: HashSet, *, actor: User | None = None) -> Publication:
    with transaction.atomic():
        publication, made = Publication.objects.get_or_create(peer=peer, hash_set=hash_set)
        if made:
            record(
                "federation.hash_set_published",
                actor=actor,
                organisation=hash_set.owner,
                obj=hash_set,
                detail={"peer": peer.name},
            )
    return publication


def published_sets(peer: Peer) -> list[dict[str, Any]]:
    return [
        {
            "code": p.hash_set.code,
            "name": p.hash_set.name,
            "profile": p.hash_set.category_profile,
            "serial": p.hash_set.entries.order_by("-pk").values_list("pk", flat=True).first() or 0,
        }
        for p in Publication.objects.filter(peer=peer, hash_set__active=True).select_related(
            "hash_set"
        )
    ]


def set_changes(peer: Peer, code: str, since: int) -> dict[str, Any]:
    """The entries of a set published to ``peer`` added after ``since``, as VICS; 403 otherwise."""
    publication = (
        Publication.objects.filter(peer=peer, hash_set__code=code, hash_set__active=True)
        .select_related("hash_set")
        .first()
    )
    if publication is None:
        raise MessageRefused(f"no hash set {code!r} is published to this peer", 403)
    hash_set = publication.hash_set
    entries = list(hash_set.entries.filter(pk__gt=since).order_by("pk")[: PAGE + 1])
    more = len(entries) > PAGE
    entries = entries[:PAGE]
    out = io.StringIO()
    profile = hash_set.category_profile if hash_set.category_profile in PROFILES else "US"
    with VicsWriter(out, profile=profile) as writer:
        for entry in entries:
            writer.write(vics_media(entry))
    return {
        "code": code,
        "since": since,
        "serial": entries[-1].pk if entries else since,
        "more": more,
        "count": len(entries),
        "profile": profile,
        "vics": out.getvalue(),
    }


def do_subscribe(
    peer: Peer, remote_code: str, owner: Organisation, *, name: str = "", actor: User | None = None
) -> Subscription:
    """Subscribe ``owner`` (a hotline) to a peer's set, pulled into a new local set."""
    existing = Subscription.objects.filter(peer=peer, remote_code=remote_code).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        hash_set = do_create_set(
            name or f"{peer.name}: {remote_code}",
            owner=owner,
            actor=actor,
            source=f"federation peer {peer.name} ({peer.country}), set {remote_code}",
        )
        subscription = Subscription.objects.create(
            peer=peer, remote_code=remote_code, hash_set=hash_set
        )
        record(
            "federation.subscribed",
            actor=actor,
            organisation=owner,
            obj=hash_set,
            detail={"peer": peer.name, "remote": remote_code},
        )
    return subscription


def do_pull(subscription: Subscription) -> int:
    """Pull and import what was added since the subscription's serial; returns entries added."""
    peer = subscription.peer
    added = 0
    while True:
        answer = call(
            peer,
            "GET",
            f"{SETS_PATH}/{subscription.remote_code}/changes",
            query={"since": str(subscription.serial)},
        )
        serial, vics = answer.get("serial"), answer.get("vics")
        if not isinstance(serial, int) or not isinstance(vics, str) or serial < subscription.serial:
            raise PeerError("a malformed answer to a hash-set pull", 200)
        if answer.get("count"):
            report = do_import(
                subscription.hash_set,
                io.BytesIO(vics.encode()),
                file_name=f"{peer.name} {subscription.remote_code} after {subscription.serial}",
                format="vics",
            )
            added += report.added
        subscription.serial = serial
        subscription.last_pull_at = timezone.now()
        subscription.last_error = ""
        subscription.save(update_fields=["serial", "last_pull_at", "last_error"])
        if not answer.get("more"):
            return added


def pull_all() -> int:
    added = 0
    for subscription in Subscription.objects.filter(peer__state=PeerState.ACTIVE).select_related(
        "peer", "hash_set"
    ):
        try:
            added += do_pull(subscription)
        except (PeerError, ImportFailed) as exc:
            logger.warning(
                "pulling %s from %s failed: %s",
                subscription.remote_code,
                subscription.peer.name,
                exc,
            )
            Subscription.objects.filter(pk=subscription.pk).update(last_error=str(exc)[:500])
    return added
