"""Deconfliction without disclosure: "do you hold this URL?", asked by keyed hash.

Both sides of a pair compute the same HMAC key (``identity.pair_key``). The
asking side sends ``HMAC(pair key, normalised URL)`` for its URLs; the
answering side compares them with the tags of its own URLs under the same
key (``PeerUrlTag``, kept up to date incrementally) and answers only the
tags it holds. A tag it does not hold is compared and forgotten: it is not
stored or logged, and without the URL it cannot be turned back into one
(docs/federation.md, *What each side learns*, says what remains: a peer can
test guesses of URLs against a tag, since it holds the key too).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Min

from openhotline.audit.log import record
from openhotline.federation.actions.forwards import MessageRefused
from openhotline.federation.client import call
from openhotline.federation.identity import pair_key, parse_public_key, url_tag
from openhotline.federation.models import Peer, PeerHolding, PeerState, PeerUrlTag
from openhotline.reports.actions import add_timeline
from openhotline.reports.models import ReportedUrl

logger = logging.getLogger(__name__)

QUESTION_PATH = "federation/v1/deconfliction"
MAX_TAGS = 1000
TAG_BATCH = 2000


def _key(peer: Peer) -> bytes:
    return pair_key(parse_public_key(peer.public_key))


def refresh_tags(peer: Peer) -> int:
    """Tag our URLs made since the last refresh with the pair key of ``peer``."""
    key = _key(peer)
    made = 0
    while True:
        with transaction.atomic():
            locked = Peer.objects.select_for_update().get(pk=peer.pk)
            rows = list(
                ReportedUrl.objects.filter(pk__gt=locked.tagged_up_to)
                .order_by("pk")
                .values_list("pk", "normalized_url")[:TAG_BATCH]
            )
            if not rows:
                return made
            PeerUrlTag.objects.bulk_create(
                PeerUrlTag(peer=locked, tag=url_tag(key, normalized), reported_url_id=pk)
                for pk, normalized in rows
            )
            locked.tagged_up_to = rows[-1][0]
            locked.save(update_fields=["tagged_up_to"])
            made += len(rows)


def answer_question(peer: Peer, body: Any) -> dict[str, Any]:
    """The tags of ``body`` that match one of our URLs, with when we first had it."""
    tags = body.get("tags") if isinstance(body, dict) else None
    if (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or not all(isinstance(t, str) and len(t) == 64 for t in tags)
    ):
        raise MessageRefused(f"'tags' must be a list of at most {MAX_TAGS} hex SHA-256 HMACs")
    refresh_tags(peer)
    found = (
        PeerUrlTag.objects.filter(peer=peer, tag__in=set(tags))
        .values("tag")
        .annotate(since=Min("reported_url__created_at"))
    )
    known = [{"tag": row["tag"], "since": row["since"].date().isoformat()} for row in found]
    if known:
        with transaction.atomic():
            urls = ReportedUrl.objects.filter(
                pk__in=PeerUrlTag.objects.filter(
                    peer=peer, tag__in=[k["tag"] for k in known]
                ).values("reported_url_id")
            ).select_related("hotline")
            for url in urls:
                add_timeline(
                    f"{peer.name} ({peer.country}) holds this URL too (asked by keyed hash)",
                    kind="federation.held_by_peer",
                    reported_url=url,
                    detail={"peer": peer.code},
                )
    # What was asked is not kept: only how many tags, and how many we held.
    record(
        "federation.deconfliction_answered",
        obj=peer,
        detail={"peer": peer.name, "asked": len(tags), "known": len(known)},
    )
    return {"known": known}


def do_ask_peer(peer: Peer, urls: list[ReportedUrl]) -> list[ReportedUrl]:
    """Ask ``peer`` which of ``urls`` it holds; note each one it holds. Returns those."""
    if not urls:
        return []
    key = _key(peer)
    by_tag = {url_tag(key, u.normalized_url): u for u in urls[:MAX_TAGS]}
    answer = call(peer, "POST", QUESTION_PATH, {"tags": sorted(by_tag)})
    known = answer.get("known")
    held = []
    for entry in known if isinstance(known, list) else []:
        url = by_tag.get(str(entry.get("tag"))) if isinstance(entry, dict) else None
        if url is None:
            continue
        with transaction.atomic():
            _, made = PeerHolding.objects.get_or_create(peer=peer, reported_url=url)
            if made:
                add_timeline(
                    f"Also held by {peer.name} ({peer.country}), since "
                    f"{str(entry.get('since') or '?')[:10]}",
                    kind="federation.peer_holds",
                    reported_url=url,
                    detail={"peer": peer.code},
                )
        held.append(url)
    return held


def ask_about_new_urls() -> int:
    """Ask every active peer about our URLs made since we last asked it (the beat)."""
    found = 0
    for peer in Peer.objects.filter(state=PeerState.ACTIVE):
        urls = list(ReportedUrl.objects.filter(pk__gt=peer.asked_up_to).order_by("pk")[:MAX_TAGS])
        if not urls:
            continue
        try:
            found += len(do_ask_peer(peer, urls))
        except Exception as exc:
            logger.warning("deconfliction with %s failed: %s", peer.name, exc)
            continue
        Peer.objects.filter(pk=peer.pk).update(asked_up_to=urls[-1].pk)
    return found
