"""The classification vocabulary (DESIGN.md §4), with ICCAM and export codes."""

from __future__ import annotations

from django.db import models


class Verdict(models.TextChoices):
    BASELINE = "baseline", "Baseline (illegal worldwide)"
    NATIONAL = "national", "Nationally illegal"
    NOT_ILLEGAL = "not_illegal", "Not illegal"
    SECOND_OPINION = "second_opinion", "Needs a second opinion"
    NOT_ASSESSABLE = "not_assessable", "Not assessable"


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
    NOT_DETERMINED = "not_determined", "Not determined"
    INFANT = "infant", "Infant / toddler"
    PREPUBESCENT = "prepubescent", "Pre-pubescent"
    PUBESCENT = "pubescent", "Pubescent"


ICCAM_AGE_GROUP = {
    AgeGroup.NOT_DETERMINED: 1,
    AgeGroup.INFANT: 2,
    AgeGroup.PREPUBESCENT: 3,
    AgeGroup.PUBESCENT: 4,
}


class Gender(models.TextChoices):
    NOT_DETERMINED = "not_determined", "Not determined"
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    BOTH = "both", "Both"


ICCAM_GENDER = {Gender.NOT_DETERMINED: 1, Gender.FEMALE: 2, Gender.MALE: 3, Gender.BOTH: 4}


class SiteType(models.TextChoices):
    NOT_DETERMINED = "not_determined", "Not determined"
    WEBSITE = "website", "Website"
    FILE_HOST = "file_host", "File host"
    IMAGE_STORE = "image_store", "Image store"
    IMAGE_BOARD = "image_board", "Image board"
    FORUM = "forum", "Forum"
    BANNER_SITE = "banner_site", "Banner site"
    LINK_SITE = "link_site", "Link site"
    SOCIAL_NETWORK = "social_network", "Social network"
    REDIRECTOR = "redirector", "Redirector"
    WEB_ARCHIVE = "web_archive", "Web archive"
    SEARCH_PROVIDER = "search_provider", "Search provider"
    IMAGE_HOST = "image_host", "Image host"
    BLOG = "blog", "Blog"
    WEBPAGE = "webpage", "Web page"


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
