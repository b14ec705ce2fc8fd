from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.utils import timezone
from PIL import Image

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.actions.wellbeing import SESSION_SINCE, RevealRefused, do_count_reveal
from openhotline.assessment.models import RevealDay, WellbeingPrefs
from openhotline.audit.models import AuditEvent
from openhotline.reports.models import ReportedUrl
from tests.assessment.conftest import generated_image, items_of, make_page

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def page(hotline_a: Organisation) -> ReportedUrl:
    return make_page(hotline_a, "http://wellbeing.test/", images=3, first_seed=30)


def energy(jpeg: bytes) -> float:
    """Mean squared difference between neighbouring pixels: the detail left in a picture."""
    pixels = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), dtype=np.float64)
    return float(np.mean(np.diff(pixels, axis=0) ** 2) + np.mean(np.diff(pixels, axis=1) ** 2))


def thumbnail_src(client: Client, page: ReportedUrl) -> str:
    body = client.get(f"/app/review/{page.code}/").content.decode()
    match = re.search(r'<img id="img-[^"]+" class="thumb"[^>]*?\ssrc="([^"]+)"', body, re.S)
    assert match
    return match.group(1).replace("&amp;", "&")


def test_each_analyst_gets_previews_at_their_own_blur_strength(
    analyst: User, analyst2: User, page: ReportedUrl, as_user: Callable[[User], Client]
) -> None:
    WellbeingPrefs.objects.create(user=analyst, blur="light")
    WellbeingPrefs.objects.create(user=analyst2, blur="strong")
    light_client, strong_client = as_user(analyst), as_user(analyst2)
    light = light_client.get(thumbnail_src(light_client, page)).content
    strong_client.post(f"/app/review/{page.code}/release")
    as_user(analyst).post(f"/app/review/{page.code}/release")
    strong = strong_client.get(thumbnail_src(strong_client, page)).content
    original = io.BytesIO()
    source = Image.open(io.BytesIO(generated_image(30))).convert("L")
    source.resize(Image.open(io.BytesIO(light)).size).save(original, "JPEG")
    # Even the lightest blur leaves far less detail than the original; strong leaves less still.
    assert energy(light) < energy(original.getvalue()) / 50
    assert energy(strong) < energy(light) / 2
    assert Image.open(io.BytesIO(light)).mode == "L"


def test_blurred_previews_may_keep_colour_when_chosen(
    analyst: User, page: ReportedUrl, as_user: Callable[[User], Client]
) -> None:
    WellbeingPrefs.objects.create(user=analyst, greyscale=False)
    client = as_user(analyst)
    src = thumbnail_src(client, page)
    assert "tint=colour" in src
    assert Image.open(io.BytesIO(client.get(src).content)).mode == "RGB"


def test_the_daily_cap_stops_reveals_until_a_senior_lifts_it(
    analyst: User, senior: User, page: ReportedUrl, as_user: Callable[[User], Client]
) -> None:
    WellbeingPrefs.objects.create(user=analyst, daily_cap=2)
    client = as_user(analyst)
    first, second, third = items_of(page)

    def reveal(code: str, step: str = "grey") -> int:
        url = f"/app/review/{page.code}/reveal/{code}"
        return client.post(url, {"step": step}, headers=HX).status_code

    assert reveal(first.code) == 200
    assert reveal(second.code) == 200
    assert reveal(second.code, "colour") == 200  # the same item's next step is not counted
    assert reveal(third.code) == 409
    assert RevealDay.objects.get(user=analyst).revealed == 2
    assert "cap 2 <strong>(reached)</strong>" in client.get("/app/wellbeing/").content.decode()
    seniors_page = as_user(senior).get("/app/wellbeing/").content.decode()
    assert "alice" in seniors_page and "Lift for today" in seniors_page
    assert client.post("/app/wellbeing/lift/alice").status_code == 404  # not by oneself
    assert as_user(senior).post("/app/wellbeing/lift/alice").status_code == 302
    assert reveal(third.code) == 200
    assert AuditEvent.objects.filter(action="wellbeing.cap_lifted", actor=senior).exists()


def test_the_outsider_cannot_lift_our_analysts_cap(
    analyst: User, outsider: User, as_user: Callable[[User], Client]
) -> None:
    WellbeingPrefs.objects.create(user=analyst, daily_cap=1)
    assert as_user(outsider).post("/app/wellbeing/lift/alice").status_code == 404
    assert not RevealDay.objects.filter(cap_lifted_at__isnull=False).exists()


def test_a_break_is_suggested_after_the_chosen_time(
    analyst: User, as_user: Callable[[User], Client]
) -> None:
    WellbeingPrefs.objects.create(user=analyst, break_minutes=45)
    client = as_user(analyst)
    assert "without a break" not in client.get("/app/").content.decode()
    session = client.session
    session[SESSION_SINCE] = (timezone.now() - timedelta(minutes=46)).isoformat()
    session.save()
    assert "worked 45 minutes without a break" in client.get("/app/").content.decode()
    client.post("/app/wellbeing/break", {"next": "https://elsewhere.invalid/"})
    assert "without a break" not in client.get("/app/").content.decode()


def test_preferences_are_saved_per_user(analyst: User, as_user: Callable[[User], Client]) -> None:
    client = as_user(analyst)
    response = client.post(
        "/app/wellbeing/",
        {"blur": "strong", "greyscale": "on", "break_minutes": "30", "daily_cap": "100"},
    )
    assert response.status_code == 302
    prefs = WellbeingPrefs.objects.get(user=analyst)
    assert (prefs.blur, prefs.greyscale, prefs.break_minutes, prefs.daily_cap) == (
        "strong",
        True,
        30,
        100,
    )
    refused = client.post("/app/wellbeing/", {"blur": "none", "break_minutes": "1"})
    assert refused.status_code == 200
    assert WellbeingPrefs.objects.get(user=analyst).blur == "strong"


def test_the_reveal_action_itself_refuses_colour_before_grey(analyst: User) -> None:
    """The rule lives in ``do_count_reveal``, not only in the view that calls it."""
    session = SessionStore()
    with pytest.raises(RevealRefused, match="greyscale first"):
        do_count_reveal(analyst, session, "M-1", step="colour")
    with pytest.raises(RevealRefused, match="Unknown step"):
        do_count_reveal(analyst, session, "M-1", step="blurred")
    assert not RevealDay.objects.filter(user=analyst).exists()  # nothing counted
    do_count_reveal(analyst, session, "M-1", step="grey")
    counted = do_count_reveal(analyst, session, "M-1", step="colour")
    assert counted.session == 1 and RevealDay.objects.get(user=analyst).revealed == 1
