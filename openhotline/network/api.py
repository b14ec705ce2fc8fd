"""The law-enforcement API: ``GET /api/v1/lea/items?since=…`` and friends.

For automated ingestion by police and INTERPOL systems, with an API key of a
law-enforcement or INTERPOL organisation (other keys get 404, as in the
portal). The items are those of the portal, as VICS-like JSON records, in
the order they last changed; ``next_since`` is the ``since`` of the next
call. Withdrawn items (a hotline changed its classification) come too, with
``in_force: false``. Every call is audited; so is every media download.

The police's answers to a referral (acknowledge, accept, decline,
investigation opened, victim identified) are POSTs that need a
``read_write`` key and run the portal's own ``do_*`` actions
(``actions.police_feedback``): the same timeline entry, audit event and
guards. Acknowledging again answers 200 and writes nothing; a step the
referral's state refuses (decided already, withdrawn, not accepted) is 409.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from django.conf import settings
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError, ValidationError
from pydantic import BeforeValidator, Field

from openhotline.accounts.access import request_api_key
from openhotline.accounts.models import ApiKey
from openhotline.assessment.vocabulary import vics_category
from openhotline.evidence.models import UrlMedia
from openhotline.evidence.store import get_store
from openhotline.network.actions.members import do_record_lea_api_download, do_record_lea_api_read
from openhotline.network.actions.police_feedback import (
    MAX_REASON,
    FeedbackConflict,
    FeedbackError,
    do_acknowledge_referral,
    do_decide_referral,
    do_record_outcome,
)
from openhotline.network.lea_access import (
    LeaSeat,
    get_media,
    get_referral,
    open_referrals,
    referrals_for,
    seat_for_key,
)
from openhotline.network.lea_access import items_for as visible_items
from openhotline.network.models import LeaItem, PoliceReferral, ReferralDecision
from openhotline.network.police_priority import rank

router = Router(tags=["law enforcement"])


def _iso_datetime(value: Any) -> Any:
    """Only ISO 8601 text, as the schema says: pydantic alone would also take a
    number as seconds since 1970 (``?since=0.5``)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("an ISO 8601 date and time, e.g. 2024-05-01T13:45:00Z") from None
    if not isinstance(value, datetime):
        raise ValueError("an ISO 8601 date and time, e.g. 2024-05-01T13:45:00Z")
    return value


Since = Annotated[datetime, BeforeValidator(_iso_datetime)]


class MessageOut(Schema):
    detail: str


class LeaItemOut(Schema):
    code: str = Field(..., description="this hotline's classification of the item")
    media_code: str
    hotline: str
    verdict: str = Field(..., description="baseline or national")
    vics_category: int | None = Field(..., description="Project VIC category (US profile)")
    virtual: bool
    in_force: bool = Field(..., description="false: the hotline withdrew the classification")
    md5: str
    sha1: str
    sha256: str
    pdq: str = Field("", description="64 hex characters, or empty")
    mime: str
    size: int
    hosting_country: str
    source_urls: list[str]
    classified_at: datetime
    updated_at: datetime
    media_url: str


class LeaItemsOut(Schema):
    items: list[LeaItemOut]
    next_since: datetime | None = Field(
        ..., description="pass as ?since= to get what changed after this page"
    )
    has_more: bool


class ReferralOut(Schema):
    code: str
    channel: str
    country: str
    hotline: str
    url: str
    url_state: str
    referred_at: datetime
    removed_at: datetime | None
    state: str = Field(
        ..., description="active, or withdrawn / corrected by the hotline after a new verdict"
    )
    state_changed_at: datetime | None
    state_reason: str
    acknowledged_at: datetime | None = None
    decision: str = Field("", description="accepted, declined, or empty")
    decided_at: datetime | None = None
    investigation_opened_at: datetime | None = None
    victim_identified_at: datetime | None = None


class ReasonOut(Schema):
    kind: str
    label: str
    value: int
    weight: int
    points: int
    series: list[str] = Field(default_factory=list, description="flagged series matched")


class RankedReferralOut(ReferralOut):
    score: int = Field(..., description="the organisation's police priority")
    reasons: list[ReasonOut] = Field(..., description="the signals that added or took points")


def _referral_out(r: PoliceReferral, cls: type[ReferralOut] = ReferralOut, **extra: Any) -> Any:
    return cls(
        code=r.code,
        channel=r.channel,
        country=r.country,
        hotline=r.hotline.name,
        url=r.reported_url.url,
        url_state=r.reported_url.state,
        referred_at=r.created_at,
        removed_at=r.reported_url.removed_at,
        state=r.state,
        state_changed_at=r.state_changed_at,
        state_reason=r.state_reason,
        acknowledged_at=r.acknowledged_at,
        decision=r.decision,
        decided_at=r.decided_at,
        investigation_opened_at=r.investigation_opened_at,
        victim_identified_at=r.victim_identified_at,
        **extra,
    )


def _seat(request: HttpRequest) -> tuple[ApiKey, LeaSeat]:
    key = request_api_key(request)
    try:
        return key, seat_for_key(key)
    except Http404:
        raise HttpError(404, "Not found") from None


def _page(rows: list[LeaItem], limit: int) -> tuple[list[LeaItem], bool]:
    """Cut after ``limit`` rows, but never between two rows of the same moment."""
    if len(rows) <= limit:
        return rows, False
    cut = limit
    while cut < len(rows) and rows[cut].updated_at == rows[cut - 1].updated_at:
        cut += 1
    return rows[:cut], cut < len(rows)


@router.get(
    "/items",
    response={200: LeaItemsOut, 404: MessageOut},
    summary="Illegal items that changed after `since`",
)
def lea_items(request: HttpRequest, since: Since | None = None) -> LeaItemsOut:
    key, seat = _seat(request)
    limit = settings.OPENHOTLINE_LEA_API_PAGE
    query = visible_items(seat, withdrawn=True)
    if since is not None:
        query = query.filter(updated_at__gt=since)
    query = query.select_related("media_item", "hotline", "classification")
    # One page plus the rows that share the last row's moment (bounded at twice the page).
    rows, has_more = _page(list(query.order_by("updated_at", "pk")[: 2 * limit + 1]), limit)
    sources: dict[tuple[int, int], list[str]] = defaultdict(list)
    links = UrlMedia.objects.filter(media_item_id__in=[r.media_item_id for r in rows])
    for media_id, hotline_id, source in links.values_list(
        "media_item_id", "reported_url__hotline_id", "source_url"
    ).order_by("pk"):
        if source not in sources[(media_id, hotline_id)]:
            sources[(media_id, hotline_id)].append(source)
    items = [
        LeaItemOut(
            code=row.code,
            media_code=row.media_item.code,
            hotline=row.hotline.name,
            verdict=row.verdict,
            vics_category=vics_category(row.verdict, virtual=row.is_virtual),
            virtual=row.is_virtual,
            in_force=row.in_force,
            md5=row.media_item.md5.upper(),
            sha1=row.media_item.sha1.upper(),
            sha256=row.media_item.sha256,
            pdq=row.media_item.pdq,
            mime=row.media_item.mime,
            size=row.media_item.size,
            hosting_country=row.hosting_country,
            source_urls=sources[(row.media_item_id, row.hotline_id)],
            classified_at=row.classification.created_at,
            updated_at=row.updated_at,
            media_url=f"/api/v1/lea/items/{row.media_item.code}/media",
        )
        for row in rows
    ]
    do_record_lea_api_read(
        seat,
        key,
        "lea.api_items",
        since=since.isoformat() if since else None,
        count_key="items",
        count=len(items),
    )
    return LeaItemsOut(
        items=items, next_since=rows[-1].updated_at if rows else since, has_more=has_more
    )


@router.get(
    "/items/{code}/media",
    response={200: None, 404: MessageOut},
    summary="The media file of an item (audited)",
)
def lea_item_media(request: HttpRequest, code: str) -> HttpResponse:
    key, seat = _seat(request)
    try:
        item = get_media(seat, code)
    except Http404:
        raise HttpError(404, "Not found") from None
    do_record_lea_api_download(seat, key, item)
    response = HttpResponse(get_store().get(item.blob.name), content_type=item.mime or "")
    response["Cache-Control"] = "no-store, private"
    return response


@router.get(
    "/referrals",
    response={200: list[ReferralOut], 404: MessageOut},
    summary="Referrals to this organisation after `since`",
)
def lea_referrals(request: HttpRequest, since: Since | None = None) -> list[ReferralOut]:
    key, seat = _seat(request)
    # A referral withdrawn or corrected later comes again, so a poller learns of it.
    query = referrals_for(seat).annotate(
        changed_at=Greatest("created_at", Coalesce("state_changed_at", "created_at"))
    )
    if since is not None:
        query = query.filter(changed_at__gt=since)
    rows = list(query.order_by("changed_at", "pk")[: settings.OPENHOTLINE_LEA_API_PAGE])
    do_record_lea_api_read(
        seat,
        key,
        "lea.api_referrals",
        since=since.isoformat() if since else None,
        count_key="referrals",
        count=len(rows),
    )
    return [_referral_out(r) for r in rows]


@router.get(
    "/referrals/ranked",
    response={200: list[RankedReferralOut], 404: MessageOut},
    summary="Referrals, highest police priority first (settled last), each with its reasons",
)
def lea_referrals_ranked(request: HttpRequest, show: str = "all") -> list[RankedReferralOut]:
    """The ranking of the portal's referral list; ``show=open`` leaves out the settled ones."""
    key, seat = _seat(request)
    referrals = list(open_referrals(seat, show)[: settings.OPENHOTLINE_LEA_API_PAGE * 10])
    ranked = rank(referrals, seat.organisation)[: settings.OPENHOTLINE_LEA_API_PAGE]
    do_record_lea_api_read(
        seat, key, "lea.api_referrals_ranked", since=None, count_key="referrals", count=len(ranked)
    )
    return [
        _referral_out(
            row.referral,
            RankedReferralOut,
            score=row.score,
            reasons=[ReasonOut(**line) for line in row.explanation],  # type: ignore[arg-type]
        )
        for row in ranked
    ]


# --- The police's answers (POST, read_write keys) ---


class ReasonIn(Schema):
    reason: str = Field(
        ..., min_length=1, max_length=MAX_REASON, description="why; shown to the hotline"
    )


class NoteIn(Schema):
    note: str = Field("", max_length=MAX_REASON, description="optional; shown to the hotline")


def _answering_seat(request: HttpRequest, code: str) -> tuple[ApiKey, LeaSeat, PoliceReferral]:
    """The key, its seat and the referral ``code`` it may answer; 404 for others' referrals."""
    key, seat = _seat(request)
    try:
        referral = get_referral(seat, code)
    except Http404:
        raise HttpError(404, "Not found") from None
    if not key.can_write():
        raise HttpError(403, "this API key is read-only; answering a referral needs read_write")
    return key, seat, referral


def _answered(seat: LeaSeat, code: str) -> ReferralOut:
    """The referral as it is now, as ``GET /referrals`` gives it."""
    answer: ReferralOut = _referral_out(get_referral(seat, code))
    return answer


def _run(step: Callable[[], None], field: str) -> None:
    """Run a feedback action: its refusals as 409 (state) or 422 (input, on ``field``)."""
    try:
        step()
    except FeedbackConflict as error:
        raise HttpError(409, str(error)) from None
    except FeedbackError as error:
        raise ValidationError(
            [{"loc": ["body", "payload", field], "msg": str(error), "type": "value_error"}]
        ) from None


_ANSWERS: dict[int | str, Any] = {
    200: ReferralOut,
    403: MessageOut,
    404: MessageOut,
    409: MessageOut,
}


@router.post(
    "/referrals/{code}/acknowledge",
    response=_ANSWERS,
    summary="Acknowledge a referral (again: 200, nothing written)",
)
def lea_acknowledge(request: HttpRequest, code: str) -> ReferralOut:
    key, seat, referral = _answering_seat(request, code)
    do_acknowledge_referral(referral, seat, actor=None, api_key=key)
    return _answered(seat, code)


def _decide(request: HttpRequest, code: str, decision: str, payload: ReasonIn) -> ReferralOut:
    key, seat, referral = _answering_seat(request, code)
    _run(
        lambda: do_decide_referral(
            referral, seat, decision=decision, reason=payload.reason, actor=None, api_key=key
        ),
        "reason",
    )
    return _answered(seat, code)


@router.post(
    "/referrals/{code}/accept",
    response=_ANSWERS,
    summary="Accept a referral, with a reason (a decision stands: again is 409)",
)
def lea_accept(request: HttpRequest, code: str, payload: ReasonIn) -> ReferralOut:
    return _decide(request, code, ReferralDecision.ACCEPTED, payload)


@router.post(
    "/referrals/{code}/decline",
    response=_ANSWERS,
    summary="Decline a referral, with a reason (a decision stands: again is 409)",
)
def lea_decline(request: HttpRequest, code: str, payload: ReasonIn) -> ReferralOut:
    return _decide(request, code, ReferralDecision.DECLINED, payload)


def _outcome(request: HttpRequest, code: str, outcome: str, payload: NoteIn | None) -> ReferralOut:
    key, seat, referral = _answering_seat(request, code)
    note = payload.note if payload is not None else ""
    _run(
        lambda: do_record_outcome(
            referral, seat, outcome=outcome, note=note, actor=None, api_key=key
        ),
        "note",
    )
    return _answered(seat, code)


@router.post(
    "/referrals/{code}/investigation",
    response=_ANSWERS,
    summary="Record that an investigation was opened (accepted referrals; once)",
)
def lea_investigation(
    request: HttpRequest, code: str, payload: NoteIn | None = None
) -> ReferralOut:
    return _outcome(request, code, "investigation", payload)


@router.post(
    "/referrals/{code}/victim",
    response=_ANSWERS,
    summary="Record that a victim was identified (accepted referrals; once)",
)
def lea_victim(request: HttpRequest, code: str, payload: NoteIn | None = None) -> ReferralOut:
    return _outcome(request, code, "victim", payload)
