from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import UrlAssessment
from openhotline.audit.models import AuditEvent
from openhotline.blocking.actions.entries import (
    BlocklistError,
    do_approve_all,
    do_approve_delisting,
    do_approve_entry,
    do_import_entries,
    do_propose_delisting,
    do_propose_entry,
    do_record_verification,
    do_reject_entry,
    entries_due_for_verification,
)
from openhotline.blocking.importing import ImportFormatError, ImportProblem, read_list
from openhotline.blocking.models import BlocklistEntry, BlocklistSource, EntryState
from openhotline.blocking.tasks import propose_after_hours, propose_overdue_urls
from openhotline.reports.actions import do_file_report, do_set_url_state
from openhotline.reports.models import ReportSource, UrlState

pytestmark = pytest.mark.django_db


def test_a_proposal_needs_a_senior_analyst_other_than_the_proposer(
    hotline_a: Organisation, senior: User, senior2: User, assessment: BlocklistSource
) -> None:
    entry = do_propose_entry(
        hotline_a, value="http://bad.test/a", kind="url", source=assessment, actor=senior
    )
    with pytest.raises(BlocklistError, match="four-eyes"):
        do_approve_entry(entry, actor=senior)
    do_approve_entry(entry, actor=senior2)
    entry.refresh_from_db()
    assert entry.state == EntryState.APPROVED
    assert entry.approved_by == senior2
    assert AuditEvent.objects.filter(action="blocklist.entry_approved").count() == 1


def test_an_analyst_cannot_approve(
    hotline_a: Organisation, analyst: User, senior: User, assessment: BlocklistSource
) -> None:
    entry = do_propose_entry(
        hotline_a, value="http://bad.test/a", kind="url", source=assessment, actor=senior
    )
    with pytest.raises(BlocklistError, match="not a senior analyst"):
        do_approve_entry(entry, actor=analyst)


def test_a_whole_domain_needs_to_be_marked_dedicated(
    hotline_a: Organisation, analyst: User, assessment: BlocklistSource
) -> None:
    with pytest.raises(BlocklistError, match="dedicated"):
        do_propose_entry(hotline_a, value="bad.test", kind="domain", source=assessment)
    entry = do_propose_entry(
        hotline_a, value="bad.test", kind="domain", source=assessment, dedicated=True
    )
    assert entry.dedicated and entry.host == "bad.test"


def test_proposing_a_listed_value_again_returns_the_entry(
    hotline_a: Organisation, assessment: BlocklistSource
) -> None:
    first = do_propose_entry(hotline_a, value="http://bad.test/a", kind="url", source=assessment)
    again = do_propose_entry(hotline_a, value="HTTP://BAD.test/a", kind="url", source=assessment)
    assert again.pk == first.pk


def test_evidence_must_belong_to_the_hotline(
    hotline_a: Organisation, hotline_b: Organisation, assessment: BlocklistSource
) -> None:
    report = do_file_report(hotline_b, source=ReportSource.PUBLIC, urls=["http://bad.test/x"])
    with pytest.raises(BlocklistError, match="another hotline"):
        do_propose_entry(
            hotline_a,
            value="http://bad.test/x",
            kind="url",
            source=assessment,
            evidence=report.urls.get(),
        )


def test_delisting_a_live_entry_takes_a_second_person(
    hotline_a: Organisation, senior: User, senior2: User, published
) -> None:
    published(urls=["http://bad.test/a"])
    entry = BlocklistEntry.objects.get()
    do_propose_delisting(entry, reason="removed at source", actor=senior)
    with pytest.raises(BlocklistError, match="four-eyes"):
        do_approve_delisting(entry, actor=senior)
    do_approve_delisting(entry, actor=senior2)
    entry.refresh_from_db()
    # Still live until the next version goes out.
    assert entry.state == EntryState.LIVE and entry.is_going_out()


def test_a_delisting_of_a_mere_proposal_withdraws_it(
    hotline_a: Organisation, assessment: BlocklistSource
) -> None:
    entry = do_propose_entry(hotline_a, value="http://bad.test/a", kind="url", source=assessment)
    do_propose_delisting(entry, reason="re-check: no longer reachable")
    entry.refresh_from_db()
    assert entry.state == EntryState.DELISTED


def test_a_proposal_is_rejected_only_by_its_proposer_or_a_senior(
    hotline_a: Organisation, analyst: User, admin: User, senior: User, assessment: BlocklistSource
) -> None:
    entry = do_propose_entry(
        hotline_a, value="http://bad.test/a", kind="url", source=assessment, actor=analyst
    )
    with pytest.raises(BlocklistError, match="proposer or a senior"):
        do_reject_entry(entry, actor=admin)
    do_reject_entry(entry, actor=senior, reason="not illegal")
    entry.refresh_from_db()
    assert entry.state == EntryState.DELISTED and entry.delist_reason == "not illegal"


def test_a_failed_reverification_proposes_delisting_and_a_good_one_dates_it(
    hotline_a: Organisation, published
) -> None:
    published(urls=["http://dead.test/a", "http://alive.test/b"])
    dead = BlocklistEntry.objects.get(host="dead.test")
    alive = BlocklistEntry.objects.get(host="alive.test")
    old = timezone.now() - timedelta(days=30)
    BlocklistEntry.objects.update(last_verified_at=old)
    assert set(entries_due_for_verification(hotline_a, older_than=timedelta(days=7))) == {
        dead,
        alive,
    }
    do_record_verification(dead, reachable=False, still_illegal=True)
    do_record_verification(alive, reachable=True, still_illegal=True)
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.awaits_delisting_approval() and "no longer reachable" in dead.delist_reason
    assert alive.last_verified_at is not None and alive.last_verified_at > old
    assert list(entries_due_for_verification(hotline_a, older_than=timedelta(days=7))) == [dead]


def test_import_proposes_csv_rows_and_reports_bad_lines(hotline_a: Organisation) -> None:
    data = (
        b"value,kind,reason\n"
        b"http://bad.test/a,url,police list\n"
        b"whole.test,domain,dedicated site\n"
        b"http://bad.test/a,url,repeated\n"
        b"co.uk,domain,a public suffix\n"
        b"http://x.test/,proxy,wrong kind\n"
    )
    result = do_import_entries(hotline_a, read_list(io.BytesIO(data)), source_name="Police DK")
    assert result.created == 2
    assert result.already_listed == 1
    assert [p.line for p in result.problems] == [5, 6]
    domain = BlocklistEntry.objects.get(kind="domain")
    # A domain from an imported list counts as marked dedicated by its source.
    assert domain.dedicated and domain.source.name == "Police DK"
    assert domain.state == EntryState.PROPOSED


def test_import_reads_json_lists(hotline_a: Organisation) -> None:
    entries = [{"value": "http://bad.test/j", "kind": "url", "reason": "INTERPOL"}, 7]
    for document in (entries, {"entries": entries}):
        rows = list(read_list(io.BytesIO(json.dumps(document).encode())))
        assert rows[0].value == "http://bad.test/j"  # type: ignore[union-attr]
        assert isinstance(rows[1], ImportProblem)


def test_import_refuses_a_csv_without_the_header() -> None:
    with pytest.raises(ImportFormatError, match="header"):
        list(read_list(io.BytesIO(b"http://bad.test/,url\n")))


def test_bulk_approval_skips_the_approvers_own_proposals(
    hotline_a: Organisation, senior: User, assessment: BlocklistSource
) -> None:
    do_import_entries(
        hotline_a,
        read_list(io.BytesIO(b"value,kind\nhttp://a.test/,url\nhttp://b.test/,url\n")),
        source_name="INTERPOL",
    )
    own = do_propose_entry(
        hotline_a, value="http://c.test/", kind="url", source=assessment, actor=senior
    )
    result = do_approve_all(hotline_a, actor=senior)
    assert (result.approved, result.skipped) == (2, 1)
    own.refresh_from_db()
    assert own.state == EntryState.PROPOSED


def test_grace_time_policy_is_read_per_country() -> None:
    policy = "DK=48, NL=off, *=72"
    assert propose_after_hours(policy, "DK") == 48
    assert propose_after_hours(policy, "NL") is None
    assert propose_after_hours(policy, "DE") == 72
    assert propose_after_hours("DK=24", "FR") is None


def test_confirmed_illegal_urls_still_online_are_proposed_once(
    hotline_a: Organisation, settings
) -> None:
    settings.OPENHOTLINE_BLOCKLIST_PROPOSE_AFTER_HOURS = "DK=48"
    report = do_file_report(
        hotline_a, source=ReportSource.PUBLIC, urls=["http://old.test/a", "http://new.test/b"]
    )
    for reported_url in report.urls.all():
        do_set_url_state(reported_url, UrlState.ILLEGAL)
        hours = 49 if reported_url.host == "old.test" else 2
        # The grace time runs from when the verdict took effect (four-eyes met).
        UrlAssessment.objects.create(
            reported_url=reported_url,
            verdict="baseline",
            in_force_at=timezone.now() - timedelta(hours=hours),
        )
    waiting = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://wait.test/"])
    pending = waiting.urls.get()
    do_set_url_state(pending, UrlState.ILLEGAL)
    UrlAssessment.objects.create(
        reported_url=pending,
        verdict="baseline",
        assessed_at=timezone.now() - timedelta(hours=72),
    )
    assert propose_overdue_urls() == 1
    entry = BlocklistEntry.objects.get()
    assert entry.value == "http://old.test/a" and entry.evidence is not None
    assert entry.state == EntryState.PROPOSED and entry.source.kind == "assessment"
    do_reject_entry(entry, actor=_a_senior(hotline_a))
    assert propose_overdue_urls() == 0  # a rejected proposal is not made again


def _a_senior(hotline: Organisation) -> User:
    from openhotline.accounts.actions import do_create_user

    return do_create_user("rita", hotline, "senior_analyst", password="correct horse 8")


def test_one_senior_withdraws_an_approved_entry_not_yet_published(
    hotline_a: Organisation, analyst: User, senior: User, assessment: BlocklistSource
) -> None:
    """A hotline with one senior analyst is never stuck with an entry it wants gone."""
    entry = do_propose_entry(
        hotline_a, value="http://bad.test/a", kind="url", source=assessment, actor=analyst
    )
    do_approve_entry(entry, actor=senior)
    do_propose_delisting(entry, reason="wrong URL", actor=senior)
    entry.refresh_from_db()
    assert entry.state == EntryState.DELISTED and entry.delist_reason == "wrong URL"


def test_an_analyst_only_proposes_withdrawing_an_approved_entry(
    hotline_a: Organisation, analyst: User, senior: User, assessment: BlocklistSource
) -> None:
    entry = do_propose_entry(
        hotline_a, value="http://bad.test/a", kind="url", source=assessment, actor=analyst
    )
    do_approve_entry(entry, actor=senior)
    do_propose_delisting(entry, reason="wrong URL", actor=analyst)
    entry.refresh_from_db()
    assert entry.state == EntryState.APPROVED and entry.awaits_delisting_approval()
    # The one senior approves it, though the analyst is the only other person.
    do_approve_delisting(entry, actor=senior)
    entry.refresh_from_db()
    assert entry.state == EntryState.DELISTED


def test_a_senior_own_pending_withdrawal_of_an_unpublished_entry_is_not_deadlocked(
    hotline_a: Organisation, analyst: User, senior: User, assessment: BlocklistSource
) -> None:
    """A withdrawal the senior asked for earlier (before one senior sufficed) can be approved."""
    entry = do_propose_entry(
        hotline_a, value="http://bad.test/a", kind="url", source=assessment, actor=analyst
    )
    do_approve_entry(entry, actor=senior)
    BlocklistEntry.objects.filter(pk=entry.pk).update(
        delist_proposed_by=senior, delist_proposed_at=timezone.now(), delist_reason="old"
    )
    do_approve_delisting(entry, actor=senior)
    entry.refresh_from_db()
    assert entry.state == EntryState.DELISTED


def test_a_live_entry_still_takes_two_people_to_withdraw(
    hotline_a: Organisation, senior: User, published
) -> None:
    published(urls=["http://bad.test/a"])
    entry = BlocklistEntry.objects.get()
    do_propose_delisting(entry, reason="removed at source", actor=senior)
    entry.refresh_from_db()
    assert entry.state == EntryState.LIVE and entry.awaits_delisting_approval()
    with pytest.raises(BlocklistError, match="four-eyes"):
        do_approve_delisting(entry, actor=senior)


def test_publishing_still_takes_two_people(
    hotline_a: Organisation, senior: User, assessment: BlocklistSource
) -> None:
    """The one senior cannot approve their own proposal, so nothing goes out on one person."""
    entry = do_propose_entry(
        hotline_a, value="http://bad.test/a", kind="url", source=assessment, actor=senior
    )
    with pytest.raises(BlocklistError, match="four-eyes"):
        do_approve_entry(entry, actor=senior)
