"""The guards that make the 2012 Danish failure impossible, and versions with rollback."""

from __future__ import annotations

import pytest

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.blocking.actions.entries import (
    BlocklistError,
    do_approve_delisting,
    do_propose_delisting,
)
from openhotline.blocking.actions.publishing import PublishRefused, do_publish, do_rollback
from openhotline.blocking.guards import (
    RULE_CHANGE_SHARE,
    RULE_MALFORMED,
    RULE_NOT_ILLEGAL,
    RULE_PROTECTED,
)
from openhotline.blocking.models import (
    BlocklistEntry,
    BlocklistSource,
    EntryState,
    ProtectedDomain,
    Publication,
)
from openhotline.blocking.versions import diff, entry_ids_at
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource, UrlState

pytestmark = pytest.mark.django_db


def refusal(hotline: Organisation, actor: User, **kwargs: bool) -> PublishRefused:
    with pytest.raises(PublishRefused) as caught:
        do_publish(hotline, actor=actor, **kwargs)
    return caught.value


def test_a_first_small_version_publishes_and_goes_live(
    hotline_a: Organisation, senior: User, approved_entries
) -> None:
    approved_entries(urls=["http://bad.test/a"], domains=["whole.test"])
    outcome = do_publish(hotline_a, actor=senior)
    assert outcome.publication is not None and outcome.publication.serial == 1
    assert outcome.added == 2
    assert set(BlocklistEntry.objects.values_list("state", flat=True)) == {EntryState.LIVE}
    assert AuditEvent.objects.filter(action="blocklist.published").count() == 1
    again = do_publish(hotline_a, actor=senior)
    assert not again.created and again.publication == outcome.publication


@pytest.mark.parametrize(
    ("urls", "domains", "protected"),
    [
        (["https://www.facebook.com/some/page"], [], "facebook.com"),
        ([], ["google.com"], "google.com"),
        ([], ["images.google.dk"], "google.dk"),
    ],
)
def test_an_entry_on_a_protected_domain_stops_the_publication(
    hotline_a: Organisation,
    senior: User,
    approved_entries,
    urls: list[str],
    domains: list[str],
    protected: str,
) -> None:
    entries = approved_entries(urls=urls, domains=domains)
    refused = refusal(hotline_a, senior)
    assert [(v.rule, v.entry_code) for v in refused.violations] == [
        (RULE_PROTECTED, entries[0].code)
    ]
    assert protected in str(refused)
    assert not Publication.objects.exists()
    assert BlocklistEntry.objects.get().state == EntryState.APPROVED
    assert AuditEvent.objects.filter(action="blocklist.publish_refused").count() == 1


def test_the_override_does_not_lift_the_protected_list(
    hotline_a: Organisation, senior: User, approved_entries
) -> None:
    approved_entries(domains=["youtube.com"])
    assert refusal(hotline_a, senior, override=True).violations[0].rule == RULE_PROTECTED


def test_admins_add_protected_names_and_covering_domains_are_refused(
    hotline_a: Organisation, senior: User, approved_entries
) -> None:
    ProtectedDomain.objects.create(hotline=hotline_a, name="www.ministry.test")
    entries = approved_entries(urls=["http://www.ministry.test/x"], domains=["ministry.test"])
    refused = refusal(hotline_a, senior)
    assert {v.entry_code for v in refused.violations} == {e.code for e in entries}
    assert {v.rule for v in refused.violations} == {RULE_PROTECTED}


def test_a_domain_with_many_urls_assessed_not_illegal_is_not_dedicated(
    hotline_a: Organisation, senior: User, approved_entries, settings
) -> None:
    settings.OPENHOTLINE_BLOCKLIST_MAX_NOT_ILLEGAL_URLS = 3
    report = do_file_report(
        hotline_a,
        source=ReportSource.PUBLIC,
        urls=[f"http://cdn{i % 2}.shared.test/img{i}" for i in range(3)],
    )
    report.urls.update(state=UrlState.NOT_ILLEGAL)
    entries = approved_entries(urls=["http://shared.test/bad"], domains=["shared.test"])
    refused = refusal(hotline_a, senior)
    # The URL entry names one host; the domain entry would cover the legitimate ones.
    assert [(v.rule, v.entry_code) for v in refused.violations] == [
        (RULE_NOT_ILLEGAL, entries[1].code)
    ]
    assert "3 distinct URLs under shared.test" in str(refused)


def test_a_whole_host_with_many_urls_assessed_not_illegal_is_refused_its_sibling_is_not(
    hotline_a: Organisation, senior: User, approved_entries, settings
) -> None:
    settings.OPENHOTLINE_BLOCKLIST_MAX_NOT_ILLEGAL_URLS = 3
    report = do_file_report(
        hotline_a,
        source=ReportSource.PUBLIC,
        # Three legitimate images on img.mixed.test, one below it on a.gallery.mixed.test.
        urls=[f"http://img.mixed.test/ok{i}" for i in range(3)]
        + ["http://a.gallery.mixed.test/ok", "http://gallery.mixed.test/ok"],
    )
    report.urls.update(state=UrlState.NOT_ILLEGAL)
    entries = approved_entries(hosts=["img.mixed.test", "gallery.mixed.test"])
    refused = refusal(hotline_a, senior)
    # A whole host counts its own name only: gallery.mixed.test has one, not two.
    assert [(v.rule, v.entry_code) for v in refused.violations] == [
        (RULE_NOT_ILLEGAL, entries[0].code)
    ]
    assert "3 distinct URLs on img.mixed.test" in str(refused)
    assert "the host is not dedicated" in str(refused)


def test_a_malformed_name_in_the_table_stops_the_publication(
    hotline_a: Organisation, senior: User, approved_entries, assessment: BlocklistSource
) -> None:
    approved_entries(urls=["http://fine.test/a"])
    # Written around the actions, as a faulty migration or script might.
    bad = BlocklistEntry.objects.create(
        hotline=hotline_a,
        kind="domain",
        value="co.uk",
        host="co.uk",
        source=assessment,
        state=EntryState.APPROVED,
    )
    refused = refusal(hotline_a, senior)
    assert [(v.rule, v.entry_code) for v in refused.violations] == [(RULE_MALFORMED, bad.code)]


def test_a_change_over_the_share_needs_a_senior_override(
    hotline_a: Organisation, analyst: User, admin: User, senior: User, approved_entries, settings
) -> None:
    settings.OPENHOTLINE_BLOCKLIST_CHANGE_BASE = 10
    approved_entries(urls=[f"http://site{i}.test/" for i in range(10)])
    do_publish(hotline_a, actor=senior, override=True)
    approved_entries(urls=["http://more1.test/", "http://more2.test/"])
    refused = refusal(hotline_a, admin)
    assert [v.rule for v in refused.violations] == [RULE_CHANGE_SHARE]
    assert "20% of 10 entries" in str(refused)
    with pytest.raises(BlocklistError, match="only a senior analyst"):
        do_publish(hotline_a, actor=admin, override=True)
    outcome = do_publish(hotline_a, actor=senior, override=True)
    assert outcome.publication is not None and outcome.publication.override_by == senior
    assert outcome.publication.serial == 2 and outcome.added == 2


def test_a_small_list_cannot_grow_by_thousands_in_one_step(
    hotline_a: Organisation, senior: User, approved_entries
) -> None:
    approved_entries(urls=[f"http://site{i}.test/" for i in range(6)])
    refused = refusal(hotline_a, senior)
    assert refused.violations[0].rule == RULE_CHANGE_SHARE


def test_delisted_entries_leave_with_the_next_version(
    hotline_a: Organisation, senior: User, senior2: User, published
) -> None:
    published(urls=["http://bad.test/a", "http://gone.test/b"])
    gone = BlocklistEntry.objects.get(host="gone.test")
    do_propose_delisting(gone, reason="removed", actor=senior)
    do_approve_delisting(gone, actor=senior2)
    outcome = do_publish(hotline_a, actor=senior)
    assert outcome.removed == 1
    gone.refresh_from_db()
    assert gone.state == EntryState.DELISTED and gone.delisted_at is not None
    changes = diff(hotline_a, 1, 2)
    assert [row[1] for row in changes.removed] == ["gone.test"] and changes.added == []


def test_rollback_restores_an_earlier_version_in_one_action(
    hotline_a: Organisation, senior: User, senior2: User, analyst: User, published
) -> None:
    published(urls=["http://bad.test/a"])
    published(urls=["http://new1.test/", "http://new2.test/"])
    first = BlocklistEntry.objects.get(host="bad.test")
    do_propose_delisting(first, reason="removed", actor=senior)
    do_approve_delisting(first, actor=senior2)
    do_publish(hotline_a, actor=senior)
    assert {e.host for e in BlocklistEntry.objects.filter(state=EntryState.LIVE)} == {
        "new1.test",
        "new2.test",
    }
    with pytest.raises(BlocklistError, match="senior analyst"):
        do_rollback(hotline_a, 1, actor=analyst)

    outcome = do_rollback(hotline_a, 1, actor=senior)

    assert outcome.publication is not None
    assert (outcome.publication.serial, outcome.publication.restores_serial) == (4, 1)
    assert entry_ids_at(hotline_a, 4) == entry_ids_at(hotline_a, 1) == {first.pk}
    first.refresh_from_db()
    assert first.state == EntryState.LIVE and first.delist_approved_at is None
    taken_off = BlocklistEntry.objects.filter(host__startswith="new")
    assert {e.state for e in taken_off} == {EntryState.PROPOSED}
    assert all("rollback to version 1" in e.note for e in taken_off)
    changes = diff(hotline_a, 3, 4)
    assert [r[1] for r in changes.added] == ["bad.test"]
    assert [r[1] for r in changes.removed] == ["new1.test", "new2.test"]
    # Across the whole history the entry restored is no change at all.
    assert [r[1] for r in diff(hotline_a, 1, 4).added] == []
    assert AuditEvent.objects.filter(action="blocklist.rolled_back").count() == 1


def test_rollback_runs_the_protected_list_too(
    hotline_a: Organisation, senior: User, published
) -> None:
    published(urls=["http://bad.test/a"])
    published(urls=["http://other.test/b"])
    ProtectedDomain.objects.create(hotline=hotline_a, name="bad.test")
    with pytest.raises(PublishRefused, match="protected-domain"):
        do_rollback(hotline_a, 1, actor=senior)


def test_lists_are_kept_per_hotline(
    hotline_a: Organisation, hotline_b: Organisation, senior: User, published
) -> None:
    published(urls=["http://bad.test/a"])
    assert entry_ids_at(hotline_b, 1) == set()
    with pytest.raises(BlocklistError, match="may not publish"):
        do_publish(hotline_b, actor=senior)
