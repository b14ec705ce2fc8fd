"""One row per fact: real processes race on each creation, and one row results.

Every test starts the same call in several OS processes at once (a
barrier), each with its own PostgreSQL connection, and checks that exactly
one row exists and that every caller got that row. SQLite lets one writer
in at a time, so there the tests are skipped; on PostgreSQL (CI) they run.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from openhotline.accounts.actions import do_create_api_key, do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import do_classify_item, do_confirm_item
from openhotline.blocking.models import BlocklistEntry, BlocklistSource
from openhotline.celery import app
from openhotline.crawler.models import CrawlRun
from openhotline.evidence.actions import do_store_media
from openhotline.intake.models import IdempotencyRecord
from openhotline.matching.models import HashEntry, HashSet
from openhotline.network.models import PoliceReferral
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import DeconflictionLink, Report, ReportedUrl
from openhotline.takedown.models import AbuseContact, TakedownCase
from tests.support.racers import Racers, postgres_only

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), postgres_only]

RACERS = 4
PATHS = "tests.support.racepaths"


@pytest.fixture(scope="module")
def racers(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Racers]:
    with Racers(RACERS, os.environ["OPENHOTLINE_DATA"]) as started:
        yield started


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set-up in this process queues crawls; nothing here consumes them.
    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: None)


def one(values: list[Any]) -> Any:
    assert len(set(map(repr, values))) == 1, values
    return values[0]


def new_url(hotline: Organisation, url: str) -> ReportedUrl:
    return do_file_report(hotline, source="public", urls=[url]).urls.get()


def test_reports_of_a_new_url_at_once_make_one_reported_url(
    racers: Racers, hotline_a: Organisation
) -> None:
    urls = ["http://race.test/b", "http://race.test/a"]
    got = racers.run(f"{PATHS}.file_report", hotline_a.pk, urls)
    rows = list(ReportedUrl.objects.order_by("normalized_url").values_list("pk", flat=True))
    assert len(rows) == 2
    assert one(got) == rows
    assert Report.objects.count() == RACERS


def test_one_url_reported_at_two_hotlines_at_once_is_linked_both_ways(
    racers: Racers, hotline_a: Organisation, hotline_b: Organisation
) -> None:
    hotlines = [hotline_a, hotline_b] * (RACERS // 2)
    calls = [(hotline.pk, ["http://both.test/"]) for hotline in hotlines]
    got = racers.run_each(f"{PATHS}.file_report", calls)
    a = ReportedUrl.objects.get(hotline=hotline_a)
    b = ReportedUrl.objects.get(hotline=hotline_b)
    assert got == [[a.pk] if hotline == hotline_a else [b.pk] for hotline in hotlines]
    links = set(DeconflictionLink.objects.values_list("reported_url_id", "other_url_id"))
    assert links == {(a.pk, b.pk), (b.pk, a.pk)}


def test_retries_with_one_idempotency_key_at_once_file_one_report(
    racers: Racers, hotline_a: Organisation
) -> None:
    partner = Organisation.objects.create(name="Partner", slug="partner", kind="partner")
    api_key, _ = do_create_api_key(partner, "intake", "read_write")
    got = racers.run(
        f"{PATHS}.partner_report", api_key.pk, hotline_a.pk, "http://idem.test/", "retry-7"
    )
    report = Report.objects.get()
    assert one(got) == (201, report.code)
    assert IdempotencyRecord.objects.get().report_id == report.pk
    assert ReportedUrl.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "email"),
    [("Registrar Ltd", "Abuse@Registrar.TEST"), ("Registrar Without Address", "")],
)
def test_traces_finding_a_new_contact_at_once_make_one_contact(
    racers: Racers, hotline_a: Organisation, name: str, email: str
) -> None:
    got = racers.run(f"{PATHS}.registrar_contact", hotline_a.pk, name, email)
    contact = AbuseContact.objects.get()
    assert one(got) == contact.pk
    assert contact.email == email.lower()


def test_opening_a_takedown_case_at_once_makes_one_case(
    racers: Racers, hotline_a: Organisation
) -> None:
    url = new_url(hotline_a, "http://case.test/")
    got = racers.run(f"{PATHS}.open_case", url.pk)
    assert one(got) == TakedownCase.objects.get(reported_url=url).pk


def test_the_first_uses_of_our_own_set_at_once_make_one_set(
    racers: Racers, hotline_a: Organisation
) -> None:
    got = racers.run(f"{PATHS}.own_set", hotline_a.pk)
    assert one(got) == HashSet.objects.get(owner=hotline_a, is_own=True).pk


def test_feeding_one_item_to_our_set_at_once_makes_one_entry(
    racers: Racers, hotline_a: Organisation, analyst: User
) -> None:
    senior = do_create_user("sara", hotline_a, Role.SENIOR_ANALYST, password="correct horse 9")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 90)).save(picture, "PNG")
    url = new_url(hotline_a, "http://item.test/")
    item, _ = do_store_media(picture.getvalue(), mime="image/png", reported_url=url)
    status = do_classify_item(hotline_a, item, "baseline", analyst=analyst, age_group="infant")
    do_confirm_item(status, senior, agree=True)
    # The verdict took effect here already; take the entry out and feed it again, at once.
    HashEntry.objects.filter(hash_set__owner=hotline_a).delete()
    got = racers.run(f"{PATHS}.feed_own_set", status.pk)
    assert one(got) == HashEntry.objects.get(hash_set__owner=hotline_a).pk


def test_proposing_one_blocklist_entry_at_once_makes_one_entry(
    racers: Racers, hotline_a: Organisation
) -> None:
    source = BlocklistSource.objects.create(hotline=hotline_a, name="Our assessment")
    got = racers.run(f"{PATHS}.propose_entry", hotline_a.pk, source.pk, "http://block.test/p")
    assert one(got) == BlocklistEntry.objects.get().pk


def test_two_deliveries_of_a_crawl_task_at_once_share_one_run(
    racers: Racers, hotline_a: Organisation
) -> None:
    url = new_url(hotline_a, "http://crawl.test/")
    got = racers.run(f"{PATHS}.pick_crawl_run", url.pk)
    assert one(got) == CrawlRun.objects.get(reported_url=url).pk


def test_recrawl_requests_at_once_make_one_run(
    racers: Racers, hotline_a: Organisation, analyst: User
) -> None:
    url = new_url(hotline_a, "http://recrawl.test/")
    got = racers.run(f"{PATHS}.request_recrawl", analyst.pk, url.pk)
    assert one(got) == CrawlRun.objects.get(reported_url=url).pk


def test_referring_a_url_to_the_police_at_once_makes_one_referral(
    racers: Racers, hotline_a: Organisation
) -> None:
    url = new_url(hotline_a, "http://refer.test/")
    got = racers.run(f"{PATHS}.police_referral", url.pk, "national", "DK")
    assert one(got) == PoliceReferral.objects.get(reported_url=url).pk


def test_deconfliction_links_made_at_once_are_one_link(
    racers: Racers, hotline_a: Organisation, hotline_b: Organisation
) -> None:
    mine = new_url(hotline_a, "http://link.test/")
    DeconflictionLink.objects.all().delete()
    other = ReportedUrl.objects.create(
        hotline=hotline_b, url="http://link.test/", normalized_url="http://link.test/x"
    )
    got = racers.run(f"{PATHS}.deconfliction_link", mine.pk, other.pk)
    assert one(got) == DeconflictionLink.objects.get().pk
