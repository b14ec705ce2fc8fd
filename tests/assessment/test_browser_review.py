"""The review screen and the queue's search in a real browser (Debian's Chromium, Playwright).

As a new installation's analyst does it: log in with TOTP, set their own
wellbeing preferences, work pages with the keyboard. Nothing is chosen for
them: Enter with a choice missing moves the focus and sends nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from openhotline.accounts.actions import do_create_user
from openhotline.accounts.models import Organisation, Role
from openhotline.assessment.models import ItemStatus, UrlAssessment, WellbeingPrefs
from openhotline.assessment.priority import compute_scores
from openhotline.audit.models import AuditEvent
from openhotline.evidence.models import MediaItem
from openhotline.evidence.tasks import hash_media_item
from openhotline.reports.models import ReportedUrl, UrlState
from tests.assessment.conftest import items_of, make_page
from tests.support.browser import ARTIFACTS, log_in_by_enrolment, press, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def posts_to(page: Any) -> list[str]:
    """Every POST the page sends from now on (the list fills as they go)."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    return sent


def focused_id(page: Any) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def open_review(page: Any, base: str, reported_url: ReportedUrl) -> None:
    page.goto(f"{base}/app/review/{reported_url.code}/")
    page.wait_for_selector("#review")


def test_a_page_without_media_is_not_finished_by_enter_alone(
    browser_server: LiveServer,
    browser_page: Any,
    hotline_a: Organisation,
) -> None:
    do_create_user("kim", hotline_a, Role.ANALYST, password="correct horse 42")
    target = make_page(hotline_a, "http://nomedia.test/page")
    ReportedUrl.objects.filter(pk=target.pk).update(state=UrlState.AWAITING_ASSESSMENT)
    page, base = browser_page, browser_server.url
    log_in_by_enrolment(page, base, "kim", "correct horse 42")
    open_review(page, base, target)
    sent = posts_to(page)
    # Nothing is preselected: the page verdict and the site type start empty.
    assert page.input_value("#page-verdict") == ""
    assert page.input_value("#site-type") == ""

    page.keyboard.press("Enter")
    assert focused_id(page) == "page-verdict"
    assert "verdict" in page.inner_text("#ws-status")
    page.keyboard.press("Enter")  # again, from the empty choice itself
    assert focused_id(page) == "page-verdict"
    page.wait_for_timeout(300)
    assert sent == []
    assert not UrlAssessment.objects.filter(reported_url=target).exists()

    # The analyst chooses "Not illegal" (third), then Enter: now the site type is missing.
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    assert page.input_value("#page-verdict") == "not_illegal"
    page.keyboard.press("Enter")
    assert focused_id(page) == "site-type"
    page.wait_for_timeout(300)
    assert sent == []
    assert ReportedUrl.objects.get(pk=target.pk).state == UrlState.AWAITING_ASSESSMENT

    press(page, "ArrowDown", "/site-type")
    page.screenshot(path=str(ARTIFACTS / "review-no-media.png"), full_page=True)
    press(page, "Enter", "/finish")
    page.wait_for_url(f"{base}/app/")
    assessment = UrlAssessment.objects.get(reported_url=target)
    assert (assessment.verdict, assessment.site_type) == ("not_illegal", "not_determined")


def test_a_verdict_moves_on_to_the_next_unclassified_item(
    browser_server: LiveServer,
    browser_page: Any,
    hotline_a: Organisation,
) -> None:
    do_create_user("kim", hotline_a, Role.ANALYST, password="correct horse 42")
    target = make_page(hotline_a, "http://advance.test/gallery", images=4, first_seed=70)
    first, second, third, fourth = items_of(target)
    page, base = browser_page, browser_server.url
    log_in_by_enrolment(page, base, "kim", "correct horse 42")
    open_review(page, base, target)
    # Nothing is chosen for an unclassified item either.
    assert page.inner_text(f"#cls-{first.code} .verdict") == "Not classified"
    assert page.get_attribute(f"#cls-{first.code}", "data-verdict") == ""

    press(page, "4", "/classify")
    page.wait_for_selector(f"#item-{second.code}.current")
    # Item 3 first (j), attributes before the verdict: one request, then on to item 4.
    page.keyboard.press("j")
    sent = posts_to(page)
    for key in ["p", "m", "v"]:
        page.keyboard.press(key)
    assert "pre-pubescent" in page.inner_text(f"#cls-{third.code} .pending")
    assert sent == []
    press(page, "1", "/classify")
    page.wait_for_selector(f"#item-{fourth.code}.current")
    press(page, "2", "/classify")
    # Item 2 was skipped: the next unclassified one, wrapping round.
    page.wait_for_selector(f"#item-{second.code}.current")
    press(page, "n", "/classify")
    assert "Every item has a verdict" in page.inner_text("#ws-status")

    statuses = {
        s.media_item_id: s.current
        for s in ItemStatus.objects.filter(hotline=hotline_a).select_related("current")
    }
    three = statuses[third.pk]
    assert (three.verdict, three.age_group, three.gender, three.is_virtual) == (
        "baseline",
        "prepubescent",
        "male",
        True,
    )
    assert [statuses[i.pk].verdict for i in (first, second, fourth)] == [
        "not_illegal",
        "not_assessable",
        "national",
    ]

    # Select all (X), one key for all four, then the selection is cleared.
    page.keyboard.press("X")
    assert page.inner_text("#selection-count") == "4"
    press(page, "o", "/classify")
    wait_until(page, "document.getElementById('selection-count').textContent === '0'")
    assert {s.current.verdict for s in ItemStatus.objects.filter(hotline=hotline_a)} == {
        "second_opinion"
    }
    # The button does the same.
    page.click("#select-all")
    assert page.inner_text("#selection-count") == "4"


def test_a_revealed_item_can_be_enlarged_and_each_view_is_audited(
    browser_server: LiveServer,
    browser_page: Any,
    hotline_a: Organisation,
) -> None:
    do_create_user("kim", hotline_a, Role.ANALYST, password="correct horse 42")
    target = make_page(hotline_a, "http://enlarge.test/", images=1, first_seed=90)
    (item,) = items_of(target)
    page, base = browser_page, browser_server.url
    log_in_by_enrolment(page, base, "kim", "correct horse 42")
    open_review(page, base, target)
    # Blurred: no enlarging (the button is hidden and the key refuses).
    assert not page.is_visible(f"#item-{item.code} button.enlarge")
    sent = posts_to(page)
    page.keyboard.press("z")
    assert "Reveal the item first" in page.inner_text("#ws-status")
    assert sent == []

    press(page, "r", "/reveal/")
    press(page, "z", "/enlarge/")
    page.wait_for_selector("#enlarged[open] #enlarged-img")
    assert "/view.jpg?t=" in page.get_attribute("#enlarged-img", "src")
    wait_until(page, "document.getElementById('enlarged-img').naturalWidth > 0")
    page.screenshot(path=str(ARTIFACTS / "review-enlarged.png"))
    page.keyboard.press("Escape")
    assert not page.is_visible("#enlarged")
    assert page.query_selector("#enlarged-img") is None
    assert AuditEvent.objects.filter(action="media.enlarged", object_id=item.code).exists()


def test_hold_to_reveal_shows_an_item_only_while_the_key_is_held(
    browser_server: LiveServer,
    browser_page: Any,
    hotline_a: Organisation,
) -> None:
    kim = do_create_user("kim", hotline_a, Role.ANALYST, password="correct horse 42")
    target = make_page(hotline_a, "http://hold.test/", images=2, first_seed=80)
    first, _second = items_of(target)
    page, base = browser_page, browser_server.url
    log_in_by_enrolment(page, base, "kim", "correct horse 42")
    # The analyst turns it on in their wellbeing settings.
    page.goto(f"{base}/app/wellbeing/")
    page.check("#id_hold_to_reveal")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base}/app/wellbeing/")
    assert WellbeingPrefs.objects.get(user=kim).hold_to_reveal

    open_review(page, base, target)
    img = f"#img-{first.code}"
    with page.expect_response(lambda r: "/reveal/" in r.url) as got:
        page.keyboard.down("r")
    assert got.value.status == 200
    wait_until(page, f"document.querySelector('{img}').dataset.step === 'grey'")
    page.wait_for_timeout(400)  # held: key repeats reveal nothing more
    assert page.get_attribute(img, "data-step") == "grey"
    page.keyboard.up("r")
    assert page.get_attribute(img, "data-step") == "blurred"
    assert "/thumb.jpg" in page.get_attribute(img, "src")
    # The second hold shows colour, and letting go hides it again.
    with page.expect_response(lambda r: "/reveal/" in r.url):
        page.keyboard.down("r")
    wait_until(page, f"document.querySelector('{img}').dataset.step === 'colour'")
    page.keyboard.up("r")
    assert page.get_attribute(img, "data-step") == "blurred"
    # Let go before the answer came: it never shows.
    page.keyboard.down("r")
    page.keyboard.up("r")
    page.wait_for_timeout(800)
    assert page.get_attribute(img, "data-step") == "blurred"
    views = AuditEvent.objects.filter(action="media.revealed", object_id=first.code)
    assert views.count() == 3


def test_an_analyst_finds_a_page_by_a_hash_from_the_queue(
    browser_server: LiveServer,
    browser_page: Any,
    hotline_a: Organisation,
    hotline_b: Organisation,
) -> None:
    do_create_user("kim", hotline_a, Role.ANALYST, password="correct horse 42")
    target = make_page(hotline_a, "http://hashed.test/gallery", images=1, first_seed=40)
    others = [make_page(hotline_a, f"http://other{n}.test/") for n in range(3)]
    theirs = make_page(hotline_b, "http://theirs.test/", images=1, first_seed=40)
    (item,) = items_of(target)
    hash_media_item(item.pk)
    item = MediaItem.objects.get(pk=item.pk)
    ReportedUrl.objects.filter(pk=target.pk).update(state=UrlState.NOT_ILLEGAL)
    compute_scores([target.pk, theirs.pk] + [o.pk for o in others])
    page, base = browser_page, browser_server.url
    log_in_by_enrolment(page, base, "kim", "correct horse 42")
    assert "hashed.test" not in page.inner_text("#queue")  # assessed: not waiting

    page.keyboard.press("/")
    assert focused_id(page) == "q"
    page.keyboard.type(item.md5)
    page.keyboard.press("Enter")
    page.wait_for_url("**/app/?*q=*")
    rows = page.inner_text("#queue tbody")
    assert "hashed.test/gallery" in rows and "theirs.test" not in rows
    assert "other0.test" not in rows

    near = f"{int(item.pdq, 16) ^ 0b10110:064x}"  # three bits away
    page.fill("#q", f"pdq:{near}~4")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.wait_for_selector("#queue tbody tr.qrow")
    rows = page.inner_text("#queue tbody")
    assert "hashed.test/gallery" in rows and "theirs.test" not in rows
    page.screenshot(path=str(ARTIFACTS / "queue-search.png"), full_page=True)
    page.fill("#q", "md5:123")
    page.keyboard.press("Enter")
    page.wait_for_selector("#search-error")
    assert "32 hex digits" in page.inner_text("#search-error")
