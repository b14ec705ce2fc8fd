"""Reports from partners through the API, made safe to retry with an Idempotency-Key.

A partner that lost the answer to a request sends it again with the same
``Idempotency-Key``: it gets the first answer again and no second report.
The same key with a different request is refused, so a client bug cannot
silently drop a report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from openhotline.accounts.models import ApiKey, Organisation, OrgKind
from openhotline.intake.models import IdempotencyRecord, ReportedFileHash
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import Report, ReportSource

Response = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class FileHashIn:
    algorithm: str
    value: str
    algorithm_label: str = ""
    file_name: str = ""
    industry_classification: str = ""
    # Normalised URL of the file (CyberTipline locationOfFile), also reported.
    location_url: str = ""


@dataclass
class PartnerSubmission:
    urls: list[str]
    description: str = ""
    where_found: str = ""
    comment: str = ""
    external_ref: str = ""
    escalated: bool = False
    incident_at: datetime | None = None
    file_hashes: list[FileHashIn] = field(default_factory=list)


@dataclass(frozen=True)
class Idempotency:
    key: str
    endpoint: str
    request_hash: str

    @classmethod
    def of(cls, key: str | None, endpoint: str, body: bytes) -> Idempotency | None:
        if not key:
            return None
        return cls(key, endpoint, hashlib.sha256(body).hexdigest())


class IdempotencyConflict(Exception):
    """The key was used before for a different request."""


def source_for(organisation: Organisation, hotline: Organisation) -> str:
    if organisation.pk == hotline.pk:
        return ReportSource.STAFF
    if organisation.kind == OrgKind.HOTLINE:
        return ReportSource.HOTLINE
    return ReportSource.PARTNER


def do_submit_partner_report(
    api_key: ApiKey,
    hotline: Organisation,
    submission: PartnerSubmission,
    *,
    idempotency: Idempotency | None,
    render: Callable[[Report], dict[str, Any]],
) -> Response:
    """File a partner's report and return the answer (status, body), or replay the first one.

    1. A known key with the same request returns the stored answer.
    2. Otherwise file the report and its file hashes, render the answer and
       store it under the key, all in one transaction.
    3. When two retries race, the unique key lets one win; the other finds
       its answer after the insert fails.
    """
    organisation = api_key.organisation
    if idempotency is not None:
        replay = _replay(organisation, idempotency)
        if replay is not None:
            return replay
    try:
        with transaction.atomic():
            report = do_file_report(
                hotline,
                source=source_for(organisation, hotline),
                urls=submission.urls,
                description=submission.description,
                where_found=submission.where_found,
                comment=submission.comment,
                submitted_by_org=organisation,
                escalated=submission.escalated,
                external_ref=submission.external_ref,
                incident_at=submission.incident_at,
            )
            _store_hashes(report, submission.file_hashes)
            body = render(report)
            if idempotency is not None:
                IdempotencyRecord.objects.create(
                    organisation=organisation,
                    key=idempotency.key,
                    endpoint=idempotency.endpoint,
                    request_hash=idempotency.request_hash,
                    status_code=201,
                    response=body,
                    report=report,
                    expires_at=timezone.now()
                    + timedelta(hours=settings.OPENHOTLINE_IDEMPOTENCY_HOURS),
                )
    except IntegrityError:
        replay = _replay(organisation, idempotency) if idempotency is not None else None
        if replay is None:
            raise
        return replay
    return 201, body


def _replay(organisation: Organisation, idempotency: Idempotency) -> Response | None:
    found = IdempotencyRecord.objects.filter(organisation=organisation, key=idempotency.key).first()
    if found is None:
        return None
    if found.expires_at <= timezone.now():
        found.delete()
        return None
    if not found.matches(idempotency.endpoint, idempotency.request_hash):
        raise IdempotencyConflict
    return found.status_code, found.response


def _store_hashes(report: Report, hashes: list[FileHashIn]) -> None:
    urls = {u.normalized_url: u for u in report.urls.all()}
    ReportedFileHash.objects.bulk_create(
        ReportedFileHash(
            report=report,
            reported_url=urls.get(item.location_url),
            algorithm=item.algorithm,
            algorithm_label=item.algorithm_label,
            value=item.value,
            file_name=item.file_name,
            industry_classification=item.industry_classification,
        )
        for item in hashes
    )
