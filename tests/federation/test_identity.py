"""The installation's identity, peer keys, and the pair key both sides derive alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openhotline.federation.identity import (
    PeerKeyError,
    identity,
    pair_key,
    parse_public_key,
    url_tag,
)
from openhotline.federation.models import Peer, PeerState
from openhotline.network.models import MemberHotline
from tests.federation.conftest import OTHER_SECRET, PEER_SECRET, as_installation, public_key_of


def test_both_sides_of_a_pair_derive_the_same_key_and_a_third_does_not() -> None:
    ours = identity().public_bytes
    theirs = parse_public_key(public_key_of(PEER_SECRET))
    third = parse_public_key(public_key_of(OTHER_SECRET))
    key = pair_key(theirs)
    with as_installation(PEER_SECRET):
        assert pair_key(ours) == key
    with as_installation(OTHER_SECRET):
        assert pair_key(ours) != key
    assert pair_key(third) != key
    assert url_tag(key, "http://a.test/") != url_tag(pair_key(third), "http://a.test/")
    assert len(url_tag(key, "http://a.test/")) == 64


@pytest.mark.parametrize(
    "bad",
    ["", "ed25519:", "rsa:AAAA", "ed25519:!!!!", "ed25519:" + "A" * 10, "ed25519:" + "_" * 43],
)
def test_a_malformed_key_is_refused(bad: str) -> None:
    with pytest.raises(PeerKeyError):
        parse_public_key(bad)


def test_peer_commands_add_list_pause_resume_remove(db: Any, capsys: Any) -> None:
    call_command("peer", "identity")
    assert identity().public_text in capsys.readouterr().out
    key = public_key_of(PEER_SECRET)
    call_command(
        "peer", "add", "http://127.0.0.1:9/", "--key", key, "--country", "de", "--name", "DE"
    )
    peer = Peer.objects.get()
    assert (peer.country, peer.state, peer.public_key) == ("DE", PeerState.ACTIVE, key)
    # The directory lists Germany's member, reached through the peer (no e-mail).
    member = MemberHotline.objects.get(country="DE")
    assert member.organisation is None and member.contact_email == ""
    call_command("peer", "list")
    assert peer.key_id in capsys.readouterr().out
    call_command("peer", "pause", "DE")
    peer.refresh_from_db()
    assert peer.state == PeerState.PAUSED
    call_command("peer", "resume", peer.code)
    call_command("peer", "remove", peer.key_id)
    peer.refresh_from_db()
    assert peer.state == PeerState.REMOVED
    with pytest.raises(CommandError, match="own key"):
        call_command(
            "peer", "add", "http://127.0.0.1:9/", "--key", identity().public_text, "--country", "SE"
        )
    with pytest.raises(CommandError, match="works on this installation"):
        from openhotline.accounts.actions import do_create_organisation

        do_create_organisation("Hotline NL", "hotline", "NL")
        call_command(
            "peer",
            "add",
            "http://127.0.0.1:9/",
            "--key",
            public_key_of(OTHER_SECRET),
            "--country",
            "NL",
        )
