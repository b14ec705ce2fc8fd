"""Hash-set subscription: a peer pulls the changes of the sets we publish to it.

The publisher chooses sets per peer (``Publication``). The subscriber asks
for the entries added since a serial and imports them, as VICS 2.0 JSON,
into a local hash set through matching's own import (``do_import``: the
same checks, deduplication, audit and PDQ indexing as a file import). The
serial is the entry's id on the publishing side.

Removals are passed on through matching's change log: the publisher keeps
which entries each peer pulled (``SentEntry``), and answers the keys of
those removed since the subscriber's ``removed_since`` (a change-log
serial), leaving out a key that is in the set again. The subscriber deletes
them from its set and logs the removals, so its PDQ index drops them too.
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
from openhotline.federation.models import (
    Peer,
    PeerState,
    Publication,
    SentEntry,
    Subscription,
)
from openhotline.lib.vics_writer import PROFILES, VicsWriter
from openhotline.matching.actions.hash_sets import do_create_set
from openhotline.matching.actions.importing import ImportFailed, do_import
from openhotline.matching.changelog import latest_serial, log_removed
from openhotline.matching.exporting import vics_media
from openhotline.matching.models import HashEntry, HashSet, IndexChange

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


def set_changes(
    peer: Peer, code: str, since: int, removed_since: int | None = None
) -> dict[str, Any]:
    """The entries of a set published to ``peer`` added after ``since``, as VICS; 403 otherwise.

    With ``removed_since``, also the keys of the entries the peer pulled and
    that were removed after that change-log serial.
    """
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
    # The ledger of what the peer holds, so that its removal can be passed on.
    SentEntry.objects.bulk_create(
        [SentEntry(publication=publication, entry_id=e.pk, key=e.key) for e in entries],
        ignore_conflicts=True,
    )
    removals: dict[str, Any] = {}
    if removed_since is not None:
        removals = _removals(publication, removed_since)
        more = more or removals.pop("more")
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
        **removals,
    }


def _removals(publication: Publication, since: int) -> dict[str, Any]:
    """Keys the peer pulled whose entries were removed after change-log serial ``since``.

    1. Read the newest serial first: the log becomes visible in serial order,
       so nothing at or below it can appear later.
    2. The removals logged after ``since`` of entries in the peer's ledger.
    3. Leave out a key that is in the set again (removed, then added back):
       the peer keeps it.
    """
    top = latest_serial()
    sent = SentEntry.objects.filter(publication=publication)
    rows = list(
        IndexChange.objects.filter(
            op=IndexChange.REMOVED,
            serial__gt=since,
            serial__lte=top,
            entry_id__in=sent.values("entry_id"),
        )
        .order_by("serial")
        .values_list("serial", "entry_id")[: PAGE + 1]
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    keys = set(sent.filter(entry_id__in=[e for _, e in rows]).values_list("key", flat=True))
    live = set(publication.hash_set.entries.filter(key__in=keys).values_list("key", flat=True))
    return {
        "removed": sorted(keys - live),
        "removed_serial": rows[-1][0] if more else max(top, since),
        "more": more,
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
    """Pull what changed since the subscription's serials; returns entries added.

    Removals first (the publisher left out keys that are back in its set),
    then the entries added.
    """
    peer = subscription.peer
    added = 0
    while True:
        answer = call(
            peer,
            "GET",
            f"{SETS_PATH}/{subscription.remote_code}/changes",
            query={
                "since": str(subscription.serial),
                "removed_since": str(subscription.removed_serial),
            },
        )
        serial, vics = answer.get("serial"), answer.get("vics")
        if not isinstance(serial, int) or not isinstance(vics, str) or serial < subscription.serial:
            raise PeerError("a malformed answer to a hash-set pull", 200)
        # A publisher that does not pass removals on answers neither field.
        removed = answer.get("removed", [])
        removed_serial = answer.get("removed_serial", subscription.removed_serial)
        if (
            not isinstance(removed, list)
            or not all(isinstance(k, str) for k in removed)
            or not isinstance(removed_serial, int)
        ):
            raise PeerError("a malformed answer to a hash-set pull (removals)", 200)
        if removed:
            do_remove_pulled(subscription, removed)
        subscription.removed_serial = max(subscription.removed_serial, removed_serial)
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
        subscription.save(update_fields=["serial", "removed_serial", "last_pull_at", "last_error"])
        if not answer.get("more"):
            return added


def do_remove_pulled(subscription: Subscription, keys: list[str]) -> int:
    """Delete the entries the publisher removed from our copy of its set, logging each removal."""
    with transaction.atomic():
        entries = HashEntry.objects.filter(hash_set=subscription.hash_set, key__in=keys)
        ids = list(entries.values_list("pk", flat=True))
        if not ids:
            return 0
        HashEntry.objects.filter(pk__in=ids).delete()
        # The PDQ index of every machine follows the log: a removed entry no longer matches.
        log_removed(ids)
        record(
            "federation.hash_entries_removed",
            organisation=subscription.hash_set.owner,
            obj=subscription.hash_set,
            detail={
                "peer": subscription.peer.name,
                "remote": subscription.remote_code,
                "removed": len(ids),
            },
        )
    return len(ids)


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
