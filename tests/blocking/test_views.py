from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.blocking.actions.entries import BlocklistError, do_propose_entry
from openhotline.blocking.models import (
    BlocklistEntry,
    BlocklistSource,
    EntryState,
    ProtectedDomain,
    Publication,
    StopPageSettings,
    StopPageText,
)
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportSource, UrlState
from tests.support.pages import same_page

pytestmark = pytest.mark.django_db

AsUser = Callable[[User], Client]


@pytest.fixture
def proposal(hotline_a: Organisation, analyst: User, assessment: BlocklistSource) -> BlocklistEntry:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://bad.test/img"])
    return do_propose_entry(
        hotline_a,
        value="http://bad.test/img",
        kind="url",
        source=assessment,
        evidence=report.urls.get(),
        actor=analyst,
    )


def test_an_analyst_proposes_and_a_senior_approves_with_the_evidence_blurred(
    hotline_a: Organisation, analyst: User, senior: User, as_user: AsUser
) -> None:
    report = do_file_report(hotline_a, source=ReportSource.PUBLIC, urls=["http://bad.test/x"])
    evidence = report.urls.get()
    response = as_user(analyst).post(
        "/app/blocking/hotline-a/propose/",
        {"value": "http://bad.test/x", "kind": "url", "reason": "CSAM", "evidence": evidence.code},
    )
    entry = BlocklistEntry.objects.get()
    assert response["Location"] == f"/app/blocking/entries/{entry.code}/"
    assert entry.proposed_by == analyst and entry.evidence == evidence

    own = as_user(analyst).get(f"/app/blocking/entries/{entry.code}/").content.decode()
    assert "another senior analyst approves it" in own and "Approve (four-eyes)" not in own
    page = as_user(senior).get(f"/app/blocking/entries/{entry.code}/").content.decode()
    assert 'class="blurred"' in page and f"/app/urls/{evidence.code}/" in page
    as_user(senior).post(f"/app/blocking/entries/{entry.code}/approve/")
    entry.refresh_from_db()
    assert entry.state == EntryState.APPROVED and entry.approved_by == senior


def test_a_domain_proposal_without_the_dedicated_mark_is_refused(
    analyst: User, as_user: AsUser
) -> None:
    response = as_user(analyst).post(
        "/app/blocking/hotline-a/propose/", {"value": "bad.test", "kind": "domain"}
    )
    assert response.status_code == 200 and "dedicated" in response.content.decode()
    assert not BlocklistEntry.objects.exists()


def test_the_proposer_cannot_approve_through_the_view(
    proposal: BlocklistEntry, analyst: User, as_user: AsUser
) -> None:
    as_user(analyst).post(f"/app/blocking/entries/{proposal.code}/approve/")
    proposal.refresh_from_db()
    assert proposal.state == EntryState.PROPOSED


def test_publish_shows_the_guard_that_refused(
    hotline_a: Organisation, senior: User, approved_entries, as_user: AsUser
) -> None:
    entries = approved_entries(domains=["facebook.com"])
    client = as_user(senior)
    response = client.post("/app/blocking/hotline-a/publish/", follow=True)
    page = response.content.decode()
    assert "protected-domain" in page and entries[0].code in page
    assert not Publication.objects.exists()


def test_publish_and_roll_back_from_the_versions_page(
    hotline_a: Organisation, senior: User, approved_entries, as_user: AsUser
) -> None:
    client = as_user(senior)
    approved_entries(urls=["http://a.test/"])
    client.post("/app/blocking/hotline-a/publish/")
    approved_entries(urls=["http://b.test/"])
    client.post("/app/blocking/hotline-a/publish/", {"override": "on"})
    assert Publication.objects.count() == 2
    client.post("/app/blocking/hotline-a/versions/1/rollback/")
    latest = Publication.objects.get(serial=3)
    assert latest.restores_serial == 1 and latest.entry_count == 1
    assert (
        "Roll back to this version"
        in client.get("/app/blocking/hotline-a/versions/").content.decode()
    )


def test_the_list_page_does_not_grow_queries_with_entries(
    hotline_a: Organisation, senior: User, assessment: BlocklistSource, as_user: AsUser
) -> None:
    client = as_user(senior)
    do_propose_entry(hotline_a, value="http://a.test/", kind="url", source=assessment)
    with CaptureQueriesContext(connection) as few:
        client.get("/app/blocking/hotline-a/")
    for i in range(20):
        do_propose_entry(hotline_a, value=f"http://s{i}.test/", kind="url", source=assessment)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/app/blocking/hotline-a/").content.decode()
    assert "s19.test" in page
    assert len(many.captured_queries) == len(few.captured_queries)


def test_admins_add_protected_names_and_edit_the_stop_page(
    hotline_a: Organisation, admin: User, analyst: User, as_user: AsUser
) -> None:
    client = as_user(admin)
    client.post("/app/blocking/hotline-a/protected/", {"name": "Ministry.test", "note": "gov"})
    assert ProtectedDomain.objects.get().name == "ministry.test"
    assert "facebook.com" in client.get("/app/blocking/hotline-a/protected/").content.decode()
    client.post(
        "/app/blocking/hotline-a/stop-page/da/",
        {"title": "Spærret", "explanation": "a", "complaint": "b", "help": "c"},
    )
    assert StopPageText.objects.get(language="da").title == "Spærret"
    # Analysts work the list but do not administer it.
    assert as_user(analyst).get("/app/blocking/hotline-a/protected/").status_code == 404
    assert as_user(analyst).get("/app/blocking/hotline-a/stop-page/").status_code == 404


def test_the_list_shows_url_only_hosts_and_proposes_a_whole_host_in_one_click(
    hotline_a: Organisation,
    analyst: User,
    senior: User,
    senior2: User,
    published,
    as_user: AsUser,
) -> None:
    published(
        urls=["http://img.mixed.test/x/1.jpg", "http://img.mixed.test/x/2.jpg"],
        domains=["whole.test"],
    )
    published(urls=["http://a.whole.test/covered.jpg"])
    page = as_user(analyst).get("/app/blocking/hotline-a/").content.decode()
    section = page.split('id="url-only-hosts"', 1)[1]
    # The mixed host is listed with its two URLs; the one under a live domain is not.
    assert "<code>img.mixed.test</code></td>\n  <td>2</td>" in section
    assert "a.whole.test" not in section
    response = as_user(analyst).post(
        "/app/blocking/hotline-a/propose-host/", {"host": "img.mixed.test"}
    )
    entry = BlocklistEntry.objects.get(kind="host", host="img.mixed.test")
    assert response.status_code == 302 and response["Location"].endswith(f"/{entry.code}/")
    assert entry.state == EntryState.PROPOSED and entry.dedicated
    assert entry.proposed_by == analyst
    assert AuditEvent.objects.filter(action="blocklist.entry_proposed", object_id=entry.code)
    again = as_user(analyst).get("/app/blocking/hotline-a/").content.decode()
    assert f"whole host proposed ({entry.code})" in again
    # The usual four-eyes: the proposer cannot approve, another senior can.
    as_user(analyst).post(f"/app/blocking/entries/{entry.code}/approve/")
    entry.refresh_from_db()
    assert entry.state == EntryState.PROPOSED
    as_user(senior2).post(f"/app/blocking/entries/{entry.code}/approve/")
    entry.refresh_from_db()
    assert entry.state == EntryState.APPROVED and entry.approved_by == senior2


def test_a_one_click_whole_host_on_a_public_suffix_is_refused(
    hotline_a: Organisation, analyst: User, as_user: AsUser
) -> None:
    response = as_user(analyst).post(
        "/app/blocking/hotline-a/propose-host/", {"host": "blogspot.com"}, follow=True
    )
    assert "public suffix" in response.content.decode()
    assert not BlocklistEntry.objects.filter(kind="host").exists()


def test_a_whole_host_without_the_dedicated_mark_is_refused(
    hotline_a: Organisation, analyst: User, assessment: BlocklistSource
) -> None:
    with pytest.raises(BlocklistError, match="whole host is blocked only when it is marked"):
        do_propose_entry(
            hotline_a, value="img.mixed.test", kind="host", source=assessment, actor=analyst
        )


def test_the_outsider_sees_and_changes_nothing(
    proposal: BlocklistEntry, outsider: User, as_user: AsUser
) -> None:
    client = as_user(outsider)
    for path in (
        "/app/blocking/hotline-a/",
        "/app/blocking/hotline-a/propose/",
        "/app/blocking/hotline-a/versions/",
        "/app/blocking/hotline-a/protected/",
        "/app/blocking/hotline-a/stop-page/",
        f"/app/blocking/entries/{proposal.code}/",
    ):
        assert client.get(path).status_code == 404, path
    for path in (
        f"/app/blocking/entries/{proposal.code}/approve/",
        f"/app/blocking/entries/{proposal.code}/reject/",
        f"/app/blocking/entries/{proposal.code}/delist/",
        "/app/blocking/hotline-a/publish/",
        "/app/blocking/hotline-a/versions/1/rollback/",
        "/app/blocking/hotline-a/propose-host/",
    ):
        assert client.post(path, {"host": "bad.test"}).status_code == 404, path
    assert not BlocklistEntry.objects.filter(kind="host").exists()
    proposal.refresh_from_db()
    assert proposal.state == EntryState.PROPOSED
    assert "bad.test" not in client.get("/app/blocking/").content.decode()


def test_not_found_and_not_yours_look_the_same(
    proposal: BlocklistEntry, outsider: User, as_user: AsUser
) -> None:
    client = as_user(outsider)
    theirs = client.get(f"/app/blocking/entries/{proposal.code}/")
    missing = client.get("/app/blocking/entries/BNOPENOPE00/")
    assert theirs.status_code == missing.status_code == 404
    assert same_page(theirs.content, missing.content)


@pytest.mark.parametrize("persona", ["police", "isp_operator"])
def test_non_hotline_roles_see_no_blocklist(
    persona: str, request: pytest.FixtureRequest, proposal: BlocklistEntry, as_user: AsUser
) -> None:
    client = as_user(request.getfixturevalue(persona))
    assert client.get(f"/app/blocking/entries/{proposal.code}/").status_code == 404
    assert client.get("/app/blocking/hotline-a/").status_code == 404


def test_a_shared_host_is_shown_as_refused_by_the_guards_and_has_no_one_click(
    hotline_a: Organisation, analyst: User, published, as_user: AsUser, settings
) -> None:
    settings.OPENHOTLINE_BLOCKLIST_MAX_NOT_ILLEGAL_URLS = 3
    report = do_file_report(
        hotline_a,
        source=ReportSource.PUBLIC,
        urls=[f"http://img.shared.test/ok{i}.jpg" for i in range(3)]
        + ["http://sub.img.shared.test/ok.jpg"],
    )
    report.urls.update(state=UrlState.NOT_ILLEGAL)
    published(urls=["http://img.shared.test/bad.jpg", "http://img.dedicated.test/bad.jpg"])
    section = (
        as_user(analyst).get("/app/blocking/hotline-a/").content.decode().split("url-only-hosts")[1]
    )
    shared = section.split("<code>img.shared.test</code>", 1)[1].split("</tr>", 1)[0]
    assert "the guards would refuse it" in shared
    assert "[many-not-illegal-urls] 3 distinct URLs on img.shared.test" in shared
    assert "Propose as whole host" not in shared
    dedicated = section.split("<code>img.dedicated.test</code>", 1)[1].split("</tr>", 1)[0]
    assert "Propose as whole host (dedicated)" in dedicated


def test_the_entry_page_says_what_the_guards_say_before_publication(
    hotline_a: Organisation,
    analyst: User,
    senior2: User,
    assessment: BlocklistSource,
    as_user: AsUser,
    settings,
) -> None:
    settings.OPENHOTLINE_BLOCKLIST_MAX_NOT_ILLEGAL_URLS = 2
    report = do_file_report(
        hotline_a,
        source=ReportSource.PUBLIC,
        urls=["http://a.shared.test/1", "http://b.shared.test/2"],
    )
    report.urls.update(state=UrlState.NOT_ILLEGAL)
    domain = do_propose_entry(
        hotline_a, value="shared.test", kind="domain", source=assessment, dedicated=True
    )
    host = do_propose_entry(
        hotline_a, value="a.shared.test", kind="host", source=assessment, dedicated=True
    )
    client = as_user(senior2)
    page = client.get(f"/app/blocking/entries/{domain.code}/").content.decode()
    # The domain covers both legitimate URLs; the whole host a.shared.test only one.
    assert "The guards would refuse it" in page
    assert "[many-not-illegal-urls] 2 distinct URLs under shared.test" in page
    page = client.get(f"/app/blocking/entries/{host.code}/").content.decode()
    assert "Passes the guards now" in page and "The guards would refuse it" not in page
    protected = do_propose_entry(
        hotline_a, value="http://www.google.com/x", kind="url", source=assessment, actor=analyst
    )
    page = client.get(f"/app/blocking/entries/{protected.code}/").content.decode()
    assert "[protected-domain]" in page


def test_the_stop_page_complaint_contact_must_be_an_address_or_a_form(
    hotline_a: Organisation, admin: User, as_user: AsUser
) -> None:
    client = as_user(admin)
    for bad in ("call us on weekdays", "javascript:alert(1)", "//elsewhere.test/", "a@b"):
        response = client.post("/app/blocking/hotline-a/stop-page/", {"complaint_contact": bad})
        assert response.status_code == 200, bad
        assert "Give an e-mail address, a link to a form" in response.content.decode(), bad
        assert (
            not StopPageSettings.objects.filter(hotline=hotline_a)
            .exclude(complaint_contact="")
            .exists()
        ), bad
    for good in ("klage@hotline-a.test", "https://hotline-a.test/complain", "/klage/", ""):
        response = client.post("/app/blocking/hotline-a/stop-page/", {"complaint_contact": good})
        assert response.status_code == 302, good
        assert StopPageSettings.objects.get(hotline=hotline_a).complaint_contact == good


def test_the_propose_page_says_dns_never_blocks_a_url(
    hotline_a: Organisation, analyst: User, as_user: AsUser
) -> None:
    page = as_user(analyst).get("/app/blocking/hotline-a/propose/").content.decode()
    assert "a URL entry is blocked by proxies only, never by DNS" in page
    assert "a URL entry blocks its whole host" not in page
