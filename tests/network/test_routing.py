"""The routing table, case by case, with two hotlines on one installation (A: DK, B: NL)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

from django.core import mail

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import ClassificationSource, ItemStatus
from openhotline.crawler.hosting_facts import HostingFacts
from openhotline.evidence.models import UrlMedia
from openhotline.lib.vics import VicsMedia, read_vics
from openhotline.network.actions.routing import do_route
from openhotline.network.models import (
    Forward,
    ForwardState,
    MemberHotline,
    PoliceReferral,
    ReferralChannel,
    Route,
    RouteKind,
)
from openhotline.network.tasks import send_forward_package, sweep
from openhotline.reports.models import Report, ReportedUrl, ReportSource, UrlState
from openhotline.takedown.models import CaseState, ContactKind, TakedownCase
from tests.network.conftest import AssessFn, media_of, page_with_media, record_hosting


def test_our_own_country_gets_a_police_referral_then_a_notice_after_the_hold(
    hotline_a: Organisation, analyst: User, assess: AssessFn
) -> None:
    MemberHotline.objects.filter(organisation=hotline_a).update(police_first_hours=24)
    page = page_with_media(hotline_a, "http://gallery.test/dk", images=2)
    record_hosting(page, country="DK")
    assess(page, analyst)

    route = Route.objects.get(reported_url=page)
    assert route.kind == RouteKind.NATIONAL
    referral = PoliceReferral.objects.get(reported_url=page)
    assert (referral.channel, referral.country) == (ReferralChannel.NATIONAL, "DK")
    assert route.notice_not_before == referral.created_at + timedelta(hours=24)
    case = TakedownCase.objects.get(reported_url=page)
    assert case.notify and case.not_before == route.notice_not_before
    assert case.state == CaseState.WAITING
    assert case.contact is not None and case.contact.email == "abuse@hoster.test"
    assert not case.contact.is_approved()  # nobody is mailed before an admin approves
    assert page.state == UrlState.ILLEGAL


def test_a_police_first_hold_may_be_a_fraction_of_an_hour(
    hotline_a: Organisation, analyst: User, assess: AssessFn
) -> None:
    # 90 seconds: a simulation shortens the hold like every other interval of the chain.
    MemberHotline.objects.filter(organisation=hotline_a).update(police_first_hours=0.025)
    page = page_with_media(hotline_a, "http://gallery.test/dk-short", images=1)
    record_hosting(page, country="DK")
    assess(page, analyst)
    referral = PoliceReferral.objects.get(reported_url=page)
    route = Route.objects.get(reported_url=page)
    assert route.notice_not_before == referral.created_at + timedelta(seconds=90)
    assert TakedownCase.objects.get(reported_url=page).not_before == route.notice_not_before


def test_a_member_on_this_installation_gets_its_own_linked_url_with_the_evidence(
    hotline_a: Organisation,
    hotline_b: Organisation,
    analyst: User,
    assess: AssessFn,
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/nl", images=3)
    record_hosting(page, country="NL")
    items = media_of(page)
    assess(page, analyst)
    forward = Forward.objects.get(sender_url=page)
    assert forward.state == ForwardState.DELIVERED
    received = forward.receiver_url
    assert received is not None and received.hotline == hotline_b
    assert received.url == page.url
    report = Report.objects.get(urls=received)
    assert report.source == ReportSource.HOTLINE
    assert report.submitted_by_org == hotline_a and report.external_ref == page.code
    assert set(
        UrlMedia.objects.filter(reported_url=received).values_list("media_item", flat=True)
    ) == {item.pk for item in items}
    forwarded = ItemStatus.objects.filter(hotline=hotline_b).select_related("current")
    assert forwarded.count() == 3
    assert {s.current.source for s in forwarded} == {ClassificationSource.FORWARDED}
    assert page.state == UrlState.FORWARDED
    assert Route.objects.get(reported_url=page).kind == RouteKind.FORWARD_TENANT
    assert not PoliceReferral.objects.filter(reported_url=page).exists()


def test_nationally_illegal_items_are_left_for_the_receiving_hotline_to_assess(
    hotline_a: Organisation, hotline_b: Organisation, analyst: User, assess: AssessFn
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/national", images=2)
    record_hosting(page, country="NL")
    assess(page, analyst, verdict="national")
    received = Forward.objects.get(sender_url=page).receiver_url
    assert received is not None
    assert UrlMedia.objects.filter(reported_url=received).count() == 2
    assert not ItemStatus.objects.filter(hotline=hotline_b).exists()


def test_each_hotline_sees_only_its_side_of_a_forward(
    hotline_a: Organisation,
    hotline_b: Organisation,
    analyst: User,
    analyst_b: User,
    outsider_c: User,
    assess: AssessFn,
    as_user: Any,
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/split", images=1)
    record_hosting(page, country="NL")
    assess(page, analyst)
    received = Forward.objects.get(sender_url=page).receiver_url
    assert received is not None
    item = media_of(page)[0]
    a, b, c = as_user(analyst), as_user(analyst_b), as_user(outsider_c)

    assert a.get(f"/app/urls/{page.code}/").status_code == 200
    assert a.get(f"/app/urls/{received.code}/").status_code == 404
    assert b.get(f"/app/urls/{received.code}/").status_code == 200
    assert b.get(f"/app/urls/{page.code}/").status_code == 404
    assert b.get(f"/app/media/{item.code}/thumb.jpg").status_code == 200
    for client in (c,):
        assert client.get(f"/app/urls/{page.code}/").status_code == 404
        assert client.get(f"/app/urls/{received.code}/").status_code == 404
        assert client.get(f"/app/media/{item.code}/thumb.jpg").status_code == 404
        assert client.get(f"/app/network/urls/{page.code}/").status_code == 404
        assert client.get(f"/app/network/urls/{received.code}/").status_code == 404

    sender_view = a.get(f"/app/network/urls/{page.code}/").content.decode()
    assert "Forwarded to Hotline B" in sender_view
    assert "Being crawled" in sender_view or "New" in sender_view  # B's progress, not B's data
    assert received.code not in sender_view
    receiver_view = b.get(f"/app/network/urls/{received.code}/").content.decode()
    assert "Forwarded to us by Hotline A" in receiver_view
    assert item.code in receiver_view  # the sender's classification of the item
    assert page.code not in receiver_view


def test_the_sender_sees_the_receivers_progress(
    hotline_a: Organisation,
    hotline_b: Organisation,
    analyst: User,
    analyst_b: User,
    assess: AssessFn,
    as_user: Any,
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/progress", images=1)
    record_hosting(page, country="NL")
    assess(page, analyst)
    received = Forward.objects.get(sender_url=page).receiver_url
    assert received is not None
    record_hosting(received, country="NL")
    assess(received, analyst_b)  # B assesses under its own law; NL is B's own country
    assert Route.objects.get(reported_url=received).kind == RouteKind.NATIONAL
    assert PoliceReferral.objects.get(reported_url=received).country == "NL"
    view = as_user(analyst).get(f"/app/network/urls/{page.code}/").content.decode()
    assert "Assessed illegal" in view and "Baseline" in view


def test_an_external_member_gets_a_package_by_email_without_media(
    hotline_a: Organisation, analyst: User, external_de: MemberHotline, assess: AssessFn
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/de", images=2)
    record_hosting(page, country="DE")
    assess(page, analyst)
    forward = Forward.objects.get(sender_url=page)
    assert forward.state == ForwardState.SENDING and page.state == UrlState.FORWARDED

    assert send_forward_package(forward.pk) == "sent"
    assert send_forward_package(forward.pk) == "nothing to do"  # sent once
    forward.refresh_from_db()
    assert forward.state == ForwardState.SENT and forward.message_id
    [message] = mail.outbox
    assert message.to == ["forwards@hotline-de.test"]
    assert page.url in message.body
    names = {name: content for name, content, _ in message.attachments}
    assert set(names) == {"report.json", "manifest.vics.json"}  # no media leave by e-mail
    report = json.loads(names["report.json"])
    assert report["Url"] == page.url and report["ClassificationID"] == 1
    assert report["HostingCountry"] == "DE" and report["ReportingHotlineReference"] == page.code
    manifest = names["manifest.vics.json"]
    data = manifest.encode() if isinstance(manifest, str) else manifest
    records = [r for r in read_vics(io.BytesIO(data)) if isinstance(r, VicsMedia)]
    assert {r.sha1 for r in records} == {item.sha1 for item in media_of(page)}
    assert all(r.category == 1 for r in records)


def test_no_member_hotline_goes_to_interpol_and_is_flagged(
    hotline_a: Organisation, analyst: User, assess: AssessFn
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/br", images=1)
    record_hosting(page, country="BR")
    assess(page, analyst)
    route = Route.objects.get(reported_url=page)
    assert route.kind == RouteKind.NO_MEMBER and route.country == "BR"
    referral = PoliceReferral.objects.get(reported_url=page)
    assert referral.channel == ReferralChannel.INTERPOL
    case = TakedownCase.objects.get(reported_url=page)
    assert case.state == CaseState.MONITORING and not case.notify
    assert Route.objects.filter(kind=RouteKind.NO_MEMBER).count() == 1  # the statistic


def test_behind_a_cdn_the_cdn_gets_the_notice_until_the_origin_shows(
    hotline_a: Organisation, hotline_b: Organisation, analyst: User, assess: AssessFn
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/cdn", images=1)
    record_hosting(page, cdn="Cloudflare")
    assess(page, analyst)
    route = Route.objects.get(reported_url=page)
    assert route.kind == RouteKind.CDN and route.cdn == "Cloudflare"
    case = TakedownCase.objects.get(reported_url=page)
    assert case.notify and case.contact is not None
    assert (case.contact.kind, case.contact.email) == (ContactKind.CDN, "abuse@cdn.test")

    origin = HostingFacts(country="NL", address="192.0.2.77", hoster="Origin BV")
    rerouted = do_route(page, facts=origin)
    assert rerouted is not None and rerouted.kind == RouteKind.FORWARD_TENANT
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert Forward.objects.get(sender_url=page).receiver_url.hotline == hotline_b  # type: ignore[union-attr]


def test_unknown_hosting_is_watched_and_routed_once_known(
    hotline_a: Organisation, analyst: User, assess: AssessFn
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/unknown", images=1)
    assess(page, analyst)  # no hosting trace at all
    assert Route.objects.get(reported_url=page).kind == RouteKind.UNKNOWN
    assert TakedownCase.objects.get(reported_url=page).state == CaseState.MONITORING
    route = do_route(page, facts=HostingFacts(country="DK", hoster_abuse="abuse@hoster.test"))
    assert route is not None and route.kind == RouteKind.NATIONAL
    assert TakedownCase.objects.get(reported_url=page).notify


def test_a_decided_route_stands_when_routed_again(
    hotline_a: Organisation, analyst: User, assess: AssessFn
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/twice", images=1)
    record_hosting(page, country="DK")
    assess(page, analyst)
    first = Route.objects.get(reported_url=page)
    again = do_route(page, facts=HostingFacts(country="BR"))
    assert again is not None and again.pk == first.pk and again.kind == RouteKind.NATIONAL
    assert PoliceReferral.objects.filter(reported_url=page).count() == 1


def test_not_illegal_is_not_routed(
    hotline_a: Organisation, analyst: User, assess: AssessFn
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/fine", images=1)
    record_hosting(page, country="DK")
    assess(page, analyst, verdict="not_illegal")
    assert not Route.objects.filter(reported_url=page).exists()
    assert do_route(page) is None


def test_the_sweep_routes_what_the_signal_missed(
    hotline_a: Organisation, analyst: User, assess: AssessFn
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/missed", images=1)
    record_hosting(page, country="BR")
    assess(page, analyst)
    Route.objects.filter(reported_url=page).delete()
    assert sweep()["routed"] == 1
    assert Route.objects.get(reported_url=page).kind == RouteKind.NO_MEMBER


def test_route_again_is_for_the_hotlines_analysts_only(
    hotline_a: Organisation,
    analyst: User,
    outsider: User,
    police: User,
    assess: AssessFn,
    as_user: Any,
) -> None:
    page = page_with_media(hotline_a, "http://gallery.test/again", images=1)
    assess(page, analyst)
    assert Route.objects.get(reported_url=page).kind == RouteKind.UNKNOWN
    ReportedUrl.objects.filter(pk=page.pk).update(hosting_country="BR")
    record_hosting(page, country="BR")
    for stranger in (outsider, police):
        response = as_user(stranger).post(f"/app/network/urls/{page.code}/route/")
        assert response.status_code == 404
    assert Route.objects.get(reported_url=page).kind == RouteKind.UNKNOWN
    response = as_user(analyst).post(f"/app/network/urls/{page.code}/route/")
    assert response.status_code == 302
    assert Route.objects.get(reported_url=page).kind == RouteKind.NO_MEMBER
