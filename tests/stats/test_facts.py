"""The facts follow the working tables, and a rebuild computes the same facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Model

from openhotline.accounts.models import Organisation
from openhotline.assessment.actions.classification import do_classify_item
from openhotline.assessment.models import ClassificationSource, FourEyesRule, UrlAssessment
from openhotline.audit.models import AuditEvent
from openhotline.network.models import PoliceReferral
from openhotline.reports.models import ReportedUrl
from openhotline.stats.actions import do_rebuild_facts
from openhotline.stats.models import ItemFact, ReportFact, UrlFact
from openhotline.takedown.models import TakedownCase
from tests.stats.conftest import HOUR, T0, make_contact, make_item, make_url

pytestmark = pytest.mark.django_db


def snapshot(model: type[Model]) -> list[dict[str, Any]]:
    return list(model._default_manager.order_by("pk").values())


def test_receivers_give_the_same_facts_as_a_full_rebuild(hotline_a: Organisation) -> None:
    contact = make_contact(hotline_a, "Host A")
    make_url(
        hotline_a,
        country="NL",
        verdict="baseline",
        assessed=2 * HOUR,
        referred=3 * HOUR,
        noticed=5 * HOUR,
        removed=30 * HOUR,
        contact=contact,
        source="partner",
    )
    make_url(hotline_a, country="", verdict="not_illegal")
    make_url(hotline_a, country="US")
    page = make_url(hotline_a, country="DK", verdict="national")
    do_classify_item(hotline_a, make_item(page), "baseline", analyst=None, age_group="infant")
    before = [snapshot(m) for m in (UrlFact, ReportFact, ItemFact)]
    assert all(before)
    UrlFact.objects.all().delete()
    ReportFact.objects.all().delete()
    ItemFact.objects.all().delete()
    written = do_rebuild_facts()
    assert written == {"UrlFact": 4, "ReportFact": 4, "ItemFact": 1}
    assert [snapshot(m) for m in (UrlFact, ReportFact, ItemFact)] == before
    assert AuditEvent.objects.filter(action="stats.facts_rebuilt").exists()


def test_a_url_fact_holds_each_duration_in_whole_seconds(hotline_a: Organisation) -> None:
    contact = make_contact(hotline_a, "Host B")
    url = make_url(
        hotline_a,
        country="NL",
        verdict="baseline",
        assessed=timedelta(minutes=90, seconds=59.9),
        referred=3 * HOUR,
        noticed=5 * HOUR,
        removed=29 * HOUR,
        contact=contact,
    )
    # A second, later referral (INTERPOL) does not move the time to referral.
    PoliceReferral.objects.create(
        reported_url=url,
        hotline=hotline_a,
        country="NL",
        channel="interpol",
        created_at=T0 + 9 * HOUR,
    )
    fact = UrlFact.objects.get(pk=url.pk)
    assert (fact.hotline_id, fact.country, fact.verdict, fact.illegal) == (
        hotline_a.pk,
        "NL",
        "baseline",
        True,
    )
    assert fact.assessed_s == 90 * 60 + 59  # fractions of a second are cut off
    assert (fact.referral_s, fact.notice_s, fact.removal_s) == (3 * 3600, 5 * 3600, 29 * 3600)
    assert (fact.removal_after_notice_s, fact.contact_pk) == (24 * 3600, contact.pk)


def test_facts_follow_later_changes_of_their_sources(hotline_a: Organisation) -> None:
    url = make_url(hotline_a)
    assert UrlFact.objects.get(pk=url.pk).verdict == ""
    url.hosting_country = "DE"
    url.save(update_fields=["hosting_country", "updated_at"])
    assessment = UrlAssessment.objects.create(
        reported_url=url, verdict="national", assessed_at=T0 + HOUR
    )
    case = TakedownCase.objects.create(
        reported_url=url, hotline=hotline_a, state="waiting", next_check_at=T0
    )
    assert UrlFact.objects.get(pk=url.pk).notice_s is None
    case.first_notice_at = T0 + 2 * HOUR
    case.save()
    fact = UrlFact.objects.get(pk=url.pk)
    assert (fact.country, fact.verdict, fact.illegal, fact.notice_s) == (
        "DE",
        "national",
        True,
        7200,
    )
    assessment.verdict = "not_illegal"
    assessment.save()
    assert UrlFact.objects.get(pk=url.pk).illegal is False


def test_deleting_an_assessment_or_referral_recomputes_after_the_commit(
    hotline_a: Organisation, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    url = make_url(hotline_a, verdict="baseline", referred=HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        UrlAssessment.objects.filter(reported_url=url).delete()
        PoliceReferral.objects.filter(reported_url=url).delete()
    fact = UrlFact.objects.get(pk=url.pk)
    assert (fact.verdict, fact.illegal, fact.referral_s) == ("", False, None)


def test_deleting_a_reported_url_takes_its_facts_with_it(
    hotline_a: Organisation, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    url = make_url(hotline_a, verdict="baseline", referred=HOUR, noticed=HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        ReportedUrl.objects.filter(pk=url.pk).delete()
    assert not UrlFact.objects.exists()


def test_a_rebuild_repairs_what_a_bulk_update_went_around(hotline_a: Organisation) -> None:
    url = make_url(hotline_a, country="NL", verdict="baseline")
    ReportedUrl.objects.filter(pk=url.pk).update(removed_at=T0 + 48 * HOUR, hosting_country="BE")
    assert UrlFact.objects.get(pk=url.pk).removal_s is None
    do_rebuild_facts(chunk=1)
    fact = UrlFact.objects.get(pk=url.pk)
    assert (fact.removal_s, fact.country) == (48 * 3600, "BE")


def test_item_facts_know_known_material_and_what_is_not_yet_in_force(
    hotline_a: Organisation,
) -> None:
    page = make_url(hotline_a, country="NL")
    known, new, pending = make_item(page), make_item(page), make_item(page)
    do_classify_item(
        hotline_a,
        known,
        "baseline",
        analyst=None,
        source=ClassificationSource.HASH_MATCH,
        new_material=False,
        age_group="prepubescent",
        gender="female",
    )
    do_classify_item(hotline_a, new, "national", analyst=None, is_virtual=True)
    FourEyesRule.objects.create(
        hotline=hotline_a, verdict="baseline", material="new", requires_confirmation=True
    )
    do_classify_item(hotline_a, pending, "baseline", analyst=None)
    facts = {f.media_item_id: f for f in ItemFact.objects.all()}
    assert (facts[known.pk].known, facts[known.pk].age_group, facts[known.pk].gender) == (
        True,
        "prepubescent",
        "female",
    )
    assert (facts[new.pk].known, facts[new.pk].is_virtual, facts[new.pk].verdict) == (
        False,
        True,
        "national",
    )
    assert facts[pending.pk].in_force is False and facts[known.pk].in_force is True


def test_the_check_command_reports_missing_facts_and_rebuild_fills_them(
    hotline_a: Organisation,
) -> None:
    make_url(hotline_a)
    out = StringIO()
    call_command("stats", "check", stdout=out)
    assert "reported URLs: 1 rows, 1 facts  ok" in out.getvalue()
    UrlFact.objects.all().delete()
    with pytest.raises(SystemExit):
        call_command("stats", "check", stdout=StringIO())
    out = StringIO()
    call_command("stats", "rebuild", "--chunk", "10", stdout=out)
    assert "UrlFact: 1 rows" in out.getvalue() and UrlFact.objects.count() == 1


def test_a_rebuild_walks_only_the_ids_that_exist(
    hotline_a: Organisation, django_assert_max_num_queries: Any
) -> None:
    """Ids of deleted rows are never reused: a rebuild starts at the lowest id, not at 0.

    It walked every range from 0, so on PostgreSQL, late in a test suite whose
    sequences had passed 100,000, a rebuild in ranges of one row timed out.
    """
    url = ReportedUrl.objects.create(
        pk=5000,
        hotline=hotline_a,
        url="http://late.test/page",
        normalized_url="http://late.test/page",
        host="late.test",
    )
    UrlFact.objects.all().delete()
    with django_assert_max_num_queries(60):
        written = do_rebuild_facts(chunk=1)
    assert written["UrlFact"] == 1
    assert UrlFact.objects.filter(pk=url.pk).exists()
