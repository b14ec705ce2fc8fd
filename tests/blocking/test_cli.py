from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openhotline.accounts.models import Organisation, User
from openhotline.blocking.models import BlocklistEntry, EntryState, Publication

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("blocklist", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_approve_publish_from_the_command_line(
    hotline_a: Organisation, senior: User, analyst: User, tmp_path, settings
) -> None:
    settings.OPENHOTLINE_BLOCKLIST_CHANGE_BASE = 100
    listing = tmp_path / "police.csv"
    listing.write_text(
        "value,kind,reason\nhttp://bad.test/a,url,police\nwhole.test,domain,dedicated\n"
    )
    assert "proposed 2 entries from Police DK" in run(
        "import", str(listing), "--source", "Police DK"
    )
    with pytest.raises(CommandError, match="not a senior analyst"):
        run("approve", "--all", "--as", analyst.username)
    assert "approved 2 entries" in run("approve", "--all", "--as", senior.username)
    assert "published version 1: 2 entries" in run("publish")
    assert "nothing changed" in run("publish")
    assert set(BlocklistEntry.objects.values_list("state", flat=True)) == {EntryState.LIVE}
    assert "live: 2" in run("status")


def test_import_as_a_user_needs_another_senior_to_approve(
    hotline_a: Organisation, senior: User, tmp_path
) -> None:
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps([{"value": "http://bad.test/a", "kind": "url"}]))
    run("import", str(listing), "--source", "INTERPOL", "--as", senior.username)
    assert "1 skipped" in run("approve", "--all", "--as", senior.username)
    assert BlocklistEntry.objects.get().state == EntryState.PROPOSED


def test_a_refused_publication_names_entry_and_rule(
    hotline_a: Organisation, senior: User, tmp_path
) -> None:
    listing = tmp_path / "bad-list.csv"
    listing.write_text("value,kind,reason\ngoogle.com,domain,a mistake\n")
    run("import", str(listing), "--source", "Careless list")
    run("approve", "--all", "--as", senior.username)
    entry = BlocklistEntry.objects.get()
    with pytest.raises(CommandError, match=rf"\[protected-domain\] entry {entry.code}"):
        run("publish")
    assert not Publication.objects.exists()


def test_the_hotline_must_be_named_when_there_are_several(
    hotline_a: Organisation, hotline_b: Organisation
) -> None:
    with pytest.raises(CommandError, match="--hotline"):
        run("status")
    assert "nothing published" in run("status", "--hotline", hotline_b.slug)


def test_rollback_from_the_command_line(hotline_a: Organisation, senior: User, published) -> None:
    published(urls=["http://a.test/"])
    published(urls=["http://b.test/"])
    assert "restoring version 1: 1 entries" in run("rollback", "--to", "1", "--as", senior.username)
