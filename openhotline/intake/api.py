"""The partner report API: ``POST /api/v1/reports`` (JSON) and ``/reports/cybertipline`` (XML).

Keys must belong to a partner or a hotline and have the read_write scope.
Errors are JSON: ``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}``
with the path of the field (or XML element) at fault, or ``{"detail": "..."}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Header, Router
from ninja.decorators import decorate_view
from ninja.errors import HttpError, ValidationError

from openhotline.accounts.access import request_api_key
from openhotline.accounts.models import ApiKey, Organisation, OrgKind
from openhotline.intake import schemas
from openhotline.intake.actions.partner import (
    FileHashIn,
    Idempotency,
    IdempotencyConflict,
    PartnerSubmission,
    do_submit_partner_report,
)
from openhotline.intake.cybertip import CyberTipError, parse_cybertip
from openhotline.intake.destination import default_hotline, hotlines
from openhotline.intake.filehashes import HashValueError, parse_hash
from openhotline.lib.urlnorm import UrlError, normalize_url
from openhotline.reports.models import Report, ReportLink

router = Router(tags=["reports"])

# Printable ASCII without spaces; also in the schema, so clients can check it.
_KEY_PATTERN = r"^[!-~]{1,200}$"
_KEY_RE = re.compile(_KEY_PATTERN)
_ERRORS: dict[int | tuple[int, ...], Any] = {
    (401, 403, 404, 413): schemas.MessageOut,
    422: schemas.ValidationErrorOut,
}
_IDEMPOTENCY_DOC = (
    "Any unique string (e.g. a UUID) of 1 to 200 printable ASCII characters without spaces. "
    "A retry with the same key and the same body within the retention time (24 hours by "
    "default) gets the first answer again instead of filing a second report; the same key "
    "with a different body is refused with 422."
)


def limit_body(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a body above Django's upload limit with a JSON answer, before reading it."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return JsonResponse({"detail": f"the body is larger than {limit} bytes"}, status=413)
        return run(request, *args, **kwargs)

    return wrapper


def _error(loc: Sequence[str | int], msg: str, kind: str = "value_error") -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": kind}


def _writer(request: HttpRequest) -> ApiKey:
    key = request_api_key(request)
    if not key.can_write():
        raise HttpError(403, "this API key is read-only; reports need a read_write key")
    if key.organisation.kind not in {OrgKind.PARTNER, OrgKind.HOTLINE}:
        raise HttpError(403, "only partner and hotline keys may submit reports")
    return key


def _hotline(key: ApiKey, slug: str, loc: list[str | int]) -> Organisation:
    if slug:
        found = hotlines().filter(slug=slug).first()
        if found is None:
            raise ValidationError([_error(loc, "no hotline has this slug")])
        return found
    if key.organisation.kind == OrgKind.HOTLINE:
        return key.organisation
    hotline = default_hotline()
    if hotline is None:
        raise ValidationError([_error(loc, "name the receiving hotline (its slug)", "missing")])
    return hotline


def _idempotency(raw: str | None, endpoint: str, body: bytes) -> Idempotency | None:
    if raw is not None and not _KEY_RE.fullmatch(raw):
        raise ValidationError(
            [_error(["header", "Idempotency-Key"], "1 to 200 printable ASCII characters")]
        )
    return Idempotency.of(raw, endpoint, body)


def render_report(report: Report) -> dict[str, Any]:
    """The answer about a report. Per URL only whether it was new to the hotline: its
    state there (e.g. ``notice_sent``) is the hotline's finding, which any partner
    could otherwise learn by reporting the URL (no state oracle)."""
    links = ReportLink.objects.filter(report=report).order_by("pk")
    earlier = ReportLink.objects.filter(
        reported_url=OuterRef("reported_url"), pk__lt=OuterRef("pk")
    )
    rows = links.annotate(seen_before=Exists(earlier)).values_list(
        "reported_url__normalized_url", "seen_before"
    )
    return {
        "code": report.code,
        "hotline": report.hotline.name,
        "state": report.state,
        "received_at": report.created_at.isoformat(),
        "urls": [{"normalized_url": url, "new": not seen} for url, seen in rows],
    }


def _submit(
    key: ApiKey, hotline: Organisation, submission: PartnerSubmission, idem: Idempotency | None
) -> JsonResponse:
    try:
        status, body = do_submit_partner_report(
            key, hotline, submission, idempotency=idem, render=render_report
        )
        return JsonResponse(body, status=status)
    except IdempotencyConflict:
        raise ValidationError(
            [_error(["header", "Idempotency-Key"], "this key was used for a different request")]
        ) from None


@router.post(
    "/reports",
    response={201: schemas.ReportOut, **_ERRORS},
    summary="Submit a report (JSON)",
)
@decorate_view(limit_body)
def submit_report(
    request: HttpRequest,
    report: schemas.ReportIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description=_IDEMPOTENCY_DOC,
        min_length=1,
        max_length=200,
        pattern=_KEY_PATTERN,
    ),
) -> JsonResponse:
    """File a report with one or more URLs. Answers 201 with the report's code and the
    state of each URL; a URL already known to the hotline is linked, not duplicated."""
    key = _writer(request)
    idem = _idempotency(idempotency_key, "reports", request.body)
    hotline = _hotline(key, report.hotline, ["body", "report", "hotline"])
    errors: list[dict[str, Any]] = []
    urls: list[str] = []
    for index, raw in enumerate(report.urls):
        url = _normalise(raw, ["body", "report", "urls", index], errors)
        if url and url not in urls:
            urls.append(url)
    hashes: list[FileHashIn] = []
    for index, item in enumerate(report.file_hashes):
        loc: list[str | int] = ["body", "report", "file_hashes", index]
        location = _normalise(item.url, [*loc, "url"], errors) if item.url else ""
        if location and location not in urls:
            urls.append(location)
        try:
            algorithm, label, value = parse_hash(item.algorithm, item.value)
        except HashValueError as exc:
            errors.append(_error([*loc, "value"], str(exc)))
            continue
        hashes.append(FileHashIn(algorithm, value, label, item.file_name, location_url=location))
    if len(urls) > settings.OPENHOTLINE_INTAKE_MAX_URLS:
        errors.append(
            _error(
                ["body", "report", "urls"],
                f"at most {settings.OPENHOTLINE_INTAKE_MAX_URLS} URLs per report",
            )
        )
    if not urls and not report.description.strip():
        errors.append(_error(["body", "report", "urls"], "give a URL or a description", "missing"))
    if report.incident_at is not None and report.incident_at.tzinfo is None:
        errors.append(_error(["body", "report", "incident_at"], "needs a time zone"))
    if errors:
        raise ValidationError(errors)
    submission = PartnerSubmission(
        urls=urls,
        description=report.description,
        where_found=report.where_found,
        comment=report.comment,
        external_ref=report.external_ref,
        escalated=report.escalate,
        incident_at=report.incident_at,
        file_hashes=hashes,
    )
    return _submit(key, hotline, submission, idem)


def _normalise(raw: str, loc: list[str | int], errors: list[dict[str, Any]]) -> str:
    """The canonical URL, or "" with the reason noted at ``loc``."""
    try:
        return normalize_url(raw, max_length=settings.OPENHOTLINE_INTAKE_MAX_URL_LENGTH)
    except UrlError as exc:
        errors.append(_error(loc, str(exc), f"url_{exc.code}"))
        return ""


@router.post(
    "/reports/cybertipline",
    response={201: schemas.ReportOut, **_ERRORS},
    summary="Submit a report as CyberTipline-shaped XML",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string"}}},
        }
    },
)
@decorate_view(limit_body)
def submit_cybertipline(
    request: HttpRequest,
    hotline: str = "",
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description=_IDEMPOTENCY_DOC,
        min_length=1,
        max_length=200,
        pattern=_KEY_PATTERN,
    ),
) -> JsonResponse:
    """File a report in the shape of NCMEC CyberTipline XML (``<report>`` with
    ``incidentSummary``, ``internetDetails``, ``reporter``, ``personOrUserReported``,
    ``fileDetails``). URLs, incident time, file hashes and the escalation flag are kept;
    errors name the element's path. DTDs and entities are refused."""
    key = _writer(request)
    idem = _idempotency(idempotency_key, "cybertipline", request.body)
    receiving = _hotline(key, hotline, ["query", "hotline"])
    try:
        tip = parse_cybertip(
            request.body,
            max_urls=settings.OPENHOTLINE_INTAKE_MAX_URLS,
            max_url_length=settings.OPENHOTLINE_INTAKE_MAX_URL_LENGTH,
        )
    except CyberTipError as exc:
        raise ValidationError(
            [_error(p.loc(), p.message, "xml") | {"path": p.path} for p in exc.problems]
        ) from None
    submission = PartnerSubmission(
        urls=tip.urls,
        description=tip.description(),
        where_found="CyberTipline report",
        comment=tip.additional_info[:5000],
        escalated=tip.escalated,
        incident_at=tip.incident_at,
        file_hashes=tip.file_hashes,
    )
    return _submit(key, receiving, submission, idem)


@router.get("/reports/{code}", response={200: schemas.ReportOut, **_ERRORS})
def get_report(request: HttpRequest, code: str) -> JsonResponse:
    """A report this organisation submitted: its state and the state of each URL."""
    key = request_api_key(request)
    report = (
        Report.objects.select_related("hotline")
        .filter(code=code, submitted_by_org=key.organisation)
        .first()
    )
    if report is None:
        raise HttpError(404, "no such report")
    return JsonResponse(render_report(report))
