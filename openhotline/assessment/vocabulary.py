"""The classification vocabulary (DESIGN.md §4), with ICCAM and export codes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Verdict(models.TextChoices):
    BASELINE = "baseline", _("Baseline (illegal worldwide)")
    NATIONAL = "national", _("Nationally illegal")
    NOT_ILLEGAL = "not_illegal", _("Not illegal")
    SECOND_OPINION = "second_opinion", _("Needs a second opinion")
    NOT_ASSESSABLE = "not_assessable", _("Not assessable")


# ICCAM ClassificationID; working states have none.
ICCAM_VERDICT = {Verdict.BASELINE: 1, Verdict.NATIONAL: 2, Verdict.NOT_ILLEGAL: 4}
ILLEGAL_VERDICTS = frozenset({Verdict.BASELINE, Verdict.NATIONAL})
FINAL_VERDICTS = frozenset({Verdict.BASELINE, Verdict.NATIONAL, Verdict.NOT_ILLEGAL})
# Most severe first: a page's verdict is that of its most severe item.
SEVERITY = [
    Verdict.BASELINE,
    Verdict.NATIONAL,
    Verdict.SECOND_OPINION,
    Verdict.NOT_ASSESSABLE,
    Verdict.NOT_ILLEGAL,
]


class AgeGroup(models.TextChoices):
    NOT_DETERMINED = "not_determined", _("Not determined")
    INFANT = "infant", _("Infant / toddler")
    PREPUBESCENT = "prepubescent", _("Pre-pubescent")
    PUBESCENT = "pubescent", _("Pubescent")


ICCAM_AGE_GROUP = {
    AgeGroup.NOT_DETERMINED: 1,
    AgeGroup.INFANT: 2,
    AgeGroup.PREPUBESCENT: 3,
    AgeGroup.PUBESCENT: 4,
}


class Gender(models.TextChoices):
    NOT_DETERMINED = "not_determined", _("Not determined")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    BOTH = "both", _("Both")


ICCAM_GENDER = {Gender.NOT_DETERMINED: 1, Gender.FEMALE: 2, Gender.MALE: 3, Gender.BOTH: 4}


class SiteType(models.TextChoices):
    NOT_DETERMINED = "not_determined", _("Not determined")
    WEBSITE = "website", _("Website")
    FILE_HOST = "file_host", _("File host")
    IMAGE_STORE = "image_store", _("Image store")
    IMAGE_BOARD = "image_board", _("Image board")
    FORUM = "forum", _("Forum")
    BANNER_SITE = "banner_site", _("Banner site")
    LINK_SITE = "link_site", _("Link site")
    SOCIAL_NETWORK = "social_network", _("Social network")
    REDIRECTOR = "redirector", _("Redirector")
    WEB_ARCHIVE = "web_archive", _("Web archive")
    SEARCH_PROVIDER = "search_provider", _("Search provider")
    IMAGE_HOST = "image_host", _("Image host")
    BLOG = "blog", _("Blog")
    WEBPAGE = "webpage", _("Web page")


ICCAM_SITE_TYPE = {
    SiteType.NOT_DETERMINED: 1,
    SiteType.WEBSITE: 2,
    SiteType.FILE_HOST: 3,
    SiteType.IMAGE_STORE: 4,
    SiteType.IMAGE_BOARD: 5,
    SiteType.FORUM: 6,
    SiteType.BANNER_SITE: 7,
    SiteType.LINK_SITE: 8,
    SiteType.SOCIAL_NETWORK: 9,
    SiteType.REDIRECTOR: 10,
    SiteType.WEB_ARCHIVE: 11,
    SiteType.SEARCH_PROVIDER: 18,
    SiteType.IMAGE_HOST: 20,
    SiteType.BLOG: 22,
    SiteType.WEBPAGE: 23,
}


def vics_category(verdict: str, *, virtual: bool) -> int | None:
    """Project VIC category on export (FORMATS.md): 1 CAM, 3 virtual, 0 not pertinent."""
    if verdict == Verdict.BASELINE:
        return 1
    if verdict == Verdict.NATIONAL:
        return 3 if virtual else 1
    if verdict == Verdict.NOT_ILLEGAL:
        return 0
    return None


def most_severe(verdicts: list[str]) -> str | None:
    for verdict in SEVERITY:
        if verdict in verdicts:
            return verdict
    return None
