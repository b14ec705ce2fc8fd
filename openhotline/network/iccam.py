"""What another hotline is told about a URL: the ICCAM report and the VICS manifest.

Used by forwarding (a member on this installation gets the sender's
classifications in force) and by the e-mail package to an external member
(``forward_mail``); no media ever leave by e-mail.
"""

from __future__ import annotations

import json
from typing import Any

from openhotline.assessment.models import ItemStatus, ReviewState, UrlAssessment
from openhotline.assessment.vocabulary import (
    ICCAM_AGE_GROUP,
    ICCAM_GENDER,
    ICCAM_SITE_TYPE,
    ICCAM_VERDICT,
    ILLEGAL_VERDICTS,
)
from openhotline.crawler.hosting_facts import latest_facts
from openhotline.network.manifest import items_from_statuses, vics_manifest
from openhotline.reports.models import ReportedUrl


def sender_statuses(url: ReportedUrl) -> list[ItemStatus]:
    """The sender's classifications in force of the media on its URL."""
    return list(
        ItemStatus.objects.filter(
            hotline=url.hotline,
            media_item__url_links__reported_url=url,
            review_state=ReviewState.FINAL,
        )
        .select_related("current", "media_item", "hotline")
        .order_by("media_item__pk")
    )


def iccam_report(url: ReportedUrl) -> dict[str, Any]:
    """The URL in ICCAM's field names (shared/FORMATS.md), for another hotline."""
    assessment = UrlAssessment.objects.filter(reported_url=url).first()
    facts = latest_facts(url)
    statuses = [s for s in sender_statuses(url) if s.current.verdict in ILLEGAL_VERDICTS]
    first = statuses[0].current if statuses else None
    received = url.reports.order_by("created_at").values_list("created_at", flat=True).first()
    return {
        "Url": url.url,
        "HostingCountry": url.hosting_country,
        "HostingIP": facts.address if facts is not None else "",
        "HostingNetName": facts.hoster if facts is not None else "",
        "Received": (received or url.created_at).isoformat(),
        "ReportingHotline": url.hotline.name,
        "ReportingHotlineReference": url.code,
        "ClassificationID": ICCAM_VERDICT.get(assessment.verdict) if assessment else None,  # type: ignore[call-overload]
        "ClassificationDate": assessment.assessed_at.isoformat() if assessment else None,
        "SiteTypeID": ICCAM_SITE_TYPE.get(assessment.site_type) if assessment else None,  # type: ignore[call-overload]
        "AgeGroupID": ICCAM_AGE_GROUP.get(first.age_group) if first else None,  # type: ignore[call-overload]
        "GenderID": ICCAM_GENDER.get(first.gender) if first else None,  # type: ignore[call-overload]
        "IsVirtual": bool(first and first.is_virtual),
        "IsChildModeling": bool(first and first.is_child_modelling),
        "IsUserGC": bool(first and first.is_self_generated),
        "IllegalMediaCount": len(statuses),
    }


def package_attachments(url: ReportedUrl) -> list[tuple[str, bytes, str]]:
    """The files of an external forward: the ICCAM report and a VICS hash manifest."""
    report = json.dumps(iccam_report(url), indent=2, ensure_ascii=True).encode()
    illegal = [s for s in sender_statuses(url) if s.current.verdict in ILLEGAL_VERDICTS]
    manifest = vics_manifest(
        items_from_statuses(illegal),
        case_number=url.code,
        contact_email=url.hotline.contact_email,
        with_files=False,
    )
    return [
        ("report.json", report, "application/json"),
        ("manifest.vics.json", manifest, "application/json"),
    ]
