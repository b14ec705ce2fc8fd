"""Fixtures of the network tests: more personas, classified pages with a hosting trace.

Hotline A is Danish and hotline B Dutch (tests/conftest.py). Here: hotline C
(French, the outsider of A's and B's forwards), an external German member
reached by e-mail, police in Denmark and the Netherlands, and INTERPOL.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from pytest_django import Settings as SettingsWrapper

from openhotline.accounts.actions import do_create_organisation, do_create_user
from openhotline.accounts.models import Organisation, Role, User
from openhotline.assessment.actions.classification import do_classify_item, do_finish_url
from openhotline.crawler.actions import do_record_hosting
from openhotline.crawler.hosting import HostingTrace
from openhotline.crawler.models import CrawlRun, CrawlState
from openhotline.evidence.actions import do_store_media
from openhotline.evidence.models import MediaItem
from openhotline.network.models import MemberHotline, PoliceReferral
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import ReportedUrl, ReportSource, TimelineEntry
from tests.support.evidence import own_evidence_store


@pytest.fixture(autouse=True)
def network_settings(tmp_path: Path, settings: SettingsWrapper) -> Iterator[None]:
    """An evidence store per test; mail kept in memory unless a test starts an SMTP server."""
    settings.OPENHOTLINE_MAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.OPENHOTLINE_MAIL_FROM = "notices@hotline-a.test"
    settings.OPENHOTLINE_POLICE_FIRST_HOURS = 0
    with own_evidence_store(settings, tmp_path):
        yield


@pytest.fixture
def hotline_c(db: Any) -> Organisation:
    return do_create_organisation("Hotline C", "hotline", "FR")


@pytest.fixture
def outsider_c(hotline_c: Organisation) -> User:
    return do_create_user("carl", hotline_c, Role.ANALYST, password="correct horse 10")


@pytest.fixture
def analyst_b(hotline_b: Organisation) -> User:
    return do_create_user("bea", hotline_b, Role.ANALYST, password="correct horse 11")


@pytest.fixture
def external_de(db: Any) -> MemberHotline:
    return MemberHotline.objects.create(
        country="DE", name="Hotline DE", contact_email="forwards@hotline-de.test"
    )


@pytest.fixture
def police_nl(db: Any) -> User:
    org = do_create_organisation("Police NL", "lea", "NL")
    return do_create_user("piet", org, Role.POLICE_OFFICER, password="correct horse 12")


@pytest.fixture
def interpol_org(db: Any) -> Organisation:
    return do_create_organisation("INTERPOL", "interpol", "FR")


@pytest.fixture
def interpol(interpol_org: Organisation) -> User:
    return do_create_user("ines", interpol_org, Role.INTERPOL_OFFICER, password="correct horse 13")


def generated_image(seed: int, size: tuple[int, int] = (160, 120)) -> bytes:
    """A benign generated picture, different for each seed."""
    image = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(image)
    step = 4 + seed % 9
    for x in range(0, size[0], step):
        for y in range(0, size[1], step):
            if (x // step + y // step + seed) % 3 == 0:
                draw.rectangle((x, y, x + step - 1, y + step - 1), fill=(37 * seed % 255, 90, 160))
    draw.text((5, 5), f"seed {seed}", fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def record_hosting(
    url: ReportedUrl,
    *,
    country: str = "",
    cdn: str = "",
    address: str = "192.0.2.10",
    hoster: str = "Hoster A/S",
    abuse: str = "abuse@hoster.test",
) -> None:
    """What a crawl's hosting trace would have recorded (see crawler/hosting.py)."""
    run = CrawlRun.objects.create(reported_url=url, state=CrawlState.DONE)
    trace = HostingTrace(
        host=url.host,
        address=address,
        country="" if cdn else country,
        country_known=bool(country) and not cdn,
        cdn=cdn,
        cdn_abuse="abuse@cdn.test" if cdn else "",
        hoster=hoster,
        hoster_abuse=abuse,
        registrar="Registrar A/S",
        registrar_abuse="abuse@registrar.test",
        notice_to="abuse@cdn.test" if cdn else abuse,
        notice_via="cdn" if cdn else "hoster",
    )
    do_record_hosting(run, url, trace)


def page_with_media(
    hotline: Organisation, url: str, *, images: int = 1, first_seed: int = 1
) -> ReportedUrl:
    report = do_file_report(hotline, source=ReportSource.PUBLIC, urls=[url])
    page = report.urls.get()
    for n in range(images):
        do_store_media(
            generated_image(first_seed + n),
            mime="image/png",
            reported_url=page,
            source_url=f"{url.rstrip('/')}/img{n}.png",
        )
    return page


def media_of(page: ReportedUrl) -> list[MediaItem]:
    return list(MediaItem.objects.filter(url_links__reported_url=page).order_by("pk"))


AssessFn = Callable[..., ReportedUrl]


@pytest.fixture
def assess(django_capture_on_commit_callbacks: Any) -> AssessFn:
    """Classify every item on a page (as known material) and finish it, with the signals."""

    def run(
        page: ReportedUrl, analyst: User, verdict: str = "baseline", **attrs: Any
    ) -> ReportedUrl:
        with django_capture_on_commit_callbacks(execute=True):
            for item in media_of(page):
                do_classify_item(
                    page.hotline,
                    item,
                    verdict,
                    analyst=analyst,
                    reported_url=page,
                    new_material=False,
                    **attrs,
                )
            do_finish_url(page, analyst, site_type="image_host", verdict=verdict)
        page.refresh_from_db()
        return page

    return run


@pytest.fixture
def referral(hotline_a: Organisation, analyst: User, assess: AssessFn) -> PoliceReferral:
    """A police referral of hotline A: one picture, hosted in Denmark, assessed."""
    page = page_with_media(hotline_a, "http://gallery.test/loop", images=1)
    record_hosting(page, country="DK")
    assess(page, analyst)
    return PoliceReferral.objects.select_related("reported_url").get(reported_url=page)


def referral_timeline(referral: PoliceReferral) -> list[str]:
    """The kinds of the police's answers on the hotline's URL timeline, in order."""
    return list(
        TimelineEntry.objects.filter(
            reported_url=referral.reported_url, kind__startswith="network.referral_"
        )
        .order_by("pk")
        .values_list("kind", flat=True)
    )
