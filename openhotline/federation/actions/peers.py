"""Peers: added out of band, paused, removed; refused requests noted in the audit log."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Q
from django_countries import countries

from openhotline.accounts.models import User
from openhotline.audit.log import record
from openhotline.federation.identity import identity, key_id_of, parse_public_key, public_key_text
from openhotline.federation.models import UNDELIVERED, Peer, PeerState
from openhotline.network.models import MemberHotline


class PeerRefused(ValueError):
    """A peer that cannot be added or changed as asked."""


def do_add_peer(
    base_url: str, public_key: str, country: str, name: str, *, actor: User | None = None
) -> Peer:
    """Add a peer (or re-add a removed one) and list it in the directory for its country.

    The country's directory entry (``network.MemberHotline``) is made when
    there is none, without an e-mail address: routing then reaches the member
    through the peer. A country whose member is a hotline of this
    installation cannot be given to a peer.
    """
    country = country.upper()
    if country not in dict(countries):
        raise PeerRefused(f"unknown country code {country!r}")
    parts = urlsplit(base_url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query:
        raise PeerRefused("a peer URL is http(s)://host[:port][/path], without a query")
    url = base_url.strip().rstrip("/") + "/"
    raw = parse_public_key(public_key)
    if raw == identity().public_bytes:
        raise PeerRefused("that is this installation's own key")
    name = name.strip() or f"Hotline {country}"
    with transaction.atomic():
        member = MemberHotline.objects.filter(country=country).first()
        if member is not None and member.organisation_id is not None:
            raise PeerRefused(f"{country}'s member hotline works on this installation")
        if member is None:
            MemberHotline.objects.create(country=country, name=name)
        peer, created = Peer.objects.update_or_create(
            key_id=key_id_of(raw),
            defaults={
                "public_key": public_key_text(raw),
                "base_url": url,
                "country": country,
                "name": name,
                "state": PeerState.ACTIVE,
            },
        )
        record(
            "federation.peer_added" if created else "federation.peer_changed",
            actor=actor,
            obj=peer,
            detail={"name": name, "country": country, "url": url, "key_id": peer.key_id},
        )
    return peer


def find_peer(ref: str) -> Peer:
    """A peer by code, key id, name or country (an operator's way of naming it)."""
    ref = ref.strip()
    found = list(
        Peer.objects.filter(
            Q(code=ref) | Q(key_id=ref) | Q(name__iexact=ref) | Q(country=ref.upper())
        ).exclude(state=PeerState.REMOVED)[:2]
    )
    if len(found) != 1:
        raise PeerRefused(f"no single peer named {ref!r}" if found else f"no peer {ref!r}")
    return found[0]


def do_set_peer_state(peer: Peer, state: str, *, actor: User | None = None) -> Peer:
    """Pause, resume or remove a peer. Removing keeps its rows (what flowed stays on record)."""
    if state not in PeerState.values:
        raise PeerRefused(f"unknown state {state!r}")
    with transaction.atomic():
        before = peer.state
        peer.state = state
        peer.save(update_fields=["state", "updated_at"])
        if state == PeerState.REMOVED:
            # Nothing more goes to a removed peer.
            peer.outbox.filter(state__in=UNDELIVERED).update(
                state="given_up", last_error="peer removed"
            )
        record(
            "federation.peer_state",
            actor=actor,
            obj=peer,
            detail={"name": peer.name, "from": before, "to": state},
        )
    return peer


def do_note_refusal(
    reason: str, status: int, *, peer: Peer | None, path: str, address: str
) -> None:
    """A refused request from another installation, on the audit log."""
    record(
        "federation.refused",
        obj=peer,
        object_type="" if peer is not None else "federation.request",
        detail={
            "reason": reason,
            "status": status,
            "peer": peer.name if peer is not None else "",
            "path": path[:200],
            "address": address,
        },
    )
