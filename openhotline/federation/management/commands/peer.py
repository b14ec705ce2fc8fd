from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.accounts.models import Organisation, OrgKind
from openhotline.federation.actions.deconfliction import do_ask_peer
from openhotline.federation.actions.hashsets import do_publish, do_pull, do_subscribe
from openhotline.federation.actions.media import do_set_media_sharing
from openhotline.federation.actions.outbox import deliver_to_peer
from openhotline.federation.actions.peers import (
    PeerRefused,
    do_add_peer,
    do_set_peer_state,
    find_peer,
)
from openhotline.federation.client import PeerError
from openhotline.federation.identity import PeerKeyError, identity
from openhotline.federation.models import Peer, PeerState, Subscription
from openhotline.matching.models import HashSet
from openhotline.reports.models import ReportedUrl


class Command(BaseCommand):
    help = (
        "Peered installations (docs/federation.md): `identity`, `add URL --key KEY --country CC "
        "--name NAME`, `list`, `pause PEER`, `resume PEER`, `remove PEER`, `deliver PEER`, "
        "`ask PEER URLCODE…`, `publish PEER SETCODE`, `subscribe PEER REMOTECODE --hotline SLUG`, "
        "`pull`, `media PEER allow|stop --hotline SLUG`. "
        "PEER is a peer's code, key id, name or country."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("identity", help="this installation's public key, to give to peers")
        add = sub.add_parser("add", help="add a peer (or change one with the same key)")
        add.add_argument("url", help="the peer's base URL, e.g. https://hotline.example/")
        add.add_argument("--key", required=True, help="the peer's key: ed25519:…")
        add.add_argument("--country", required=True, help="the country of the peer's hotline")
        add.add_argument("--name", default="", help="the peer's name")
        sub.add_parser("list", help="the peers, one a line")
        for name in ("pause", "resume", "remove", "deliver"):
            sub.add_parser(name).add_argument("peer")
        ask = sub.add_parser("ask", help="ask a peer which of our URLs it holds (keyed hash)")
        ask.add_argument("peer")
        ask.add_argument("urls", nargs="+", help="codes of our reported URLs")
        publish = sub.add_parser("publish", help="offer one of our hash sets to a peer")
        publish.add_argument("peer")
        publish.add_argument("set_code")
        subscribe = sub.add_parser("subscribe", help="pull a peer's hash set into a new set")
        subscribe.add_argument("peer")
        subscribe.add_argument("remote_code")
        subscribe.add_argument("--hotline", required=True, help="slug of the subscribing hotline")
        sub.add_parser("pull", help="pull every subscription now")
        media = sub.add_parser("media", help="a hotline's media-on-request policy for a peer")
        media.add_argument("peer")
        media.add_argument("policy", choices=["allow", "stop"])
        media.add_argument("--hotline", required=True, help="slug of the forwarding hotline")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"_{action}")(options)
        except (PeerRefused, PeerKeyError, PeerError) as exc:
            raise CommandError(str(exc)) from None

    def _identity(self, options: dict[str, Any]) -> None:
        me = identity()
        self.stdout.write(f"{me.public_text}\nkey id {me.key_id}")

    def _add(self, options: dict[str, Any]) -> None:
        peer = do_add_peer(options["url"], options["key"], options["country"], options["name"])
        self.stdout.write(f"peer {peer.code}: {peer.name} ({peer.country}) key id {peer.key_id}")

    def _list(self, options: dict[str, Any]) -> None:
        for p in Peer.objects.all():
            waiting = p.outbox.filter(state__in=("pending", "failing")).count()
            self.stdout.write(
                f"{p.code}  {p.country}  {p.name}  {p.base_url}  {p.key_id}  {p.state}  "
                f"waiting {waiting}"
            )

    def _pause(self, options: dict[str, Any]) -> None:
        do_set_peer_state(find_peer(options["peer"]), PeerState.PAUSED)

    def _resume(self, options: dict[str, Any]) -> None:
        peer = Peer.objects.filter(code=options["peer"]).first() or find_peer(options["peer"])
        do_set_peer_state(peer, PeerState.ACTIVE)

    def _remove(self, options: dict[str, Any]) -> None:
        do_set_peer_state(find_peer(options["peer"]), PeerState.REMOVED)

    def _deliver(self, options: dict[str, Any]) -> None:
        result = deliver_to_peer(find_peer(options["peer"]).pk)
        self.stdout.write(f"delivered {result['delivered']}, failed {result['failed']}")

    def _ask(self, options: dict[str, Any]) -> None:
        urls = list(ReportedUrl.objects.filter(code__in=options["urls"]))
        if len(urls) != len(set(options["urls"])):
            raise CommandError("unknown URL code(s)")
        held = do_ask_peer(find_peer(options["peer"]), urls)
        for url in urls:
            self.stdout.write(f"{url.code}  {'held' if url in held else 'not held'}")

    def _publish(self, options: dict[str, Any]) -> None:
        hash_set = HashSet.objects.filter(code=options["set_code"]).first()
        if hash_set is None:
            raise CommandError(f"no hash set {options['set_code']!r}")
        do_publish(find_peer(options["peer"]), hash_set)

    def _hotline(self, slug: str) -> Organisation:
        hotline = Organisation.objects.filter(slug=slug, kind=OrgKind.HOTLINE).first()
        if hotline is None:
            raise CommandError(f"no hotline {slug!r}")
        return hotline

    def _media(self, options: dict[str, Any]) -> None:
        allowed = options["policy"] == "allow"
        peer = find_peer(options["peer"])
        do_set_media_sharing(self._hotline(options["hotline"]), peer, allowed)
        state = "sent when asked" if allowed else "never sent"
        self.stdout.write(f"media to {peer.name}: {state}")

    def _subscribe(self, options: dict[str, Any]) -> None:
        hotline = self._hotline(options["hotline"])
        subscription = do_subscribe(find_peer(options["peer"]), options["remote_code"], hotline)
        self.stdout.write(f"local set {subscription.hash_set.code}")

    def _pull(self, options: dict[str, Any]) -> None:
        for subscription in Subscription.objects.select_related("peer", "hash_set"):
            added = do_pull(subscription)
            self.stdout.write(f"{subscription.hash_set.code}: {added} added")
