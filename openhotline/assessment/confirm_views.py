"""Four-eyes in the workspace: a second opinion on a classification, settling a dispute.

The confirmation screen shows what the first analyst saw: each item blurred,
revealed step by step through the review screen's reveal endpoint (counted
and audited), with the URL, the page's screenshot (blurred) and what the
reporters wrote. With blind confirmation (the default, per hotline) the
confirmer gives a verdict before seeing the first one; a different verdict
opens a dispute, whose settler sees both opinions and their notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from openhotline.accounts.access import hotlines_for_user, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import SENIOR_ROLES
from openhotline.accounts.pages import act
from openhotline.assessment.actions.classification import (
    AssessmentError,
    do_confirm_item,
    do_page_second_opinion,
    do_second_opinion,
    do_settle_dispute,
    do_settle_page_dispute,
    opinions,
)
from openhotline.assessment.models import (
    Classification,
    ItemStatus,
    ReviewState,
    UrlAssessment,
    WorkspaceSettings,
)
from openhotline.assessment.vocabulary import FINAL_VERDICTS, Verdict
from openhotline.assessment.wellbeing_views import wellbeing_context
from openhotline.crawler.models import CrawlRun
from openhotline.evidence.models import UrlMedia
from openhotline.reports.models import Report, ReportedUrl

PAGE_SIZE = 50
WAITING = [ReviewState.AWAITING_CONFIRMATION, ReviewState.DISPUTED]
KEYS = [
    ("j / k", gettext_lazy("Next / previous item")),
    (
        "r",
        gettext_lazy(
            "Reveal the item: greyscale, then colour (counted; hidden again when you move on)"
        ),
    ),
    ("1 / 2 / 4", gettext_lazy("My verdict: baseline / nationally illegal / not illegal")),
    ("Enter", gettext_lazy("Send my verdict for the item (a verdict must be chosen)")),
    ("y", gettext_lazy("Confirm the first verdict (when confirmation is not blind)")),
    ("x", gettext_lazy("Select or unselect the item, for confirming many at once")),
    ("?", gettext_lazy("This help")),
]


def blind_hotlines(hotline_ids: set[int]) -> set[int]:
    """The hotlines among these that confirm blind (the default when never set)."""
    seeing = set(
        WorkspaceSettings.objects.filter(
            hotline_id__in=hotline_ids, blind_confirmation=False
        ).values_list("hotline_id", flat=True)
    )
    return hotline_ids - seeing


@dataclass
class Waiting:
    """One item or page verdict waiting for a second or third person, as the screen shows it."""

    status: ItemStatus | None
    assessment: UrlAssessment | None
    url: ReportedUrl | None
    blind: bool
    may_confirm: bool
    may_settle: bool
    opinions: list[dict[str, Any]] = field(default_factory=list)
    screenshot: str = ""  # the code of the latest crawl with a screenshot

    @property
    def hotline_name(self) -> str:
        if self.status is not None:
            return self.status.hotline.name
        if self.url is None:
            raise ValueError("a waiting verdict is of an item status or of a page")
        return self.url.hotline.name

    @property
    def disputed(self) -> bool:
        if self.status is not None:
            return self.status.review_state == ReviewState.DISPUTED
        if self.assessment is None:
            raise ValueError("a waiting verdict is of an item status or of a page")
        return self.assessment.page_review_state == ReviewState.DISPUTED


def _reports() -> QuerySet[Report]:
    """What the reporters wrote, shown beside the item."""
    return Report.objects.only(
        "pk", "code", "description", "comment", "where_found", "language", "created_at"
    ).order_by("created_at")


def _screenshots(urls: list[ReportedUrl]) -> dict[int, str]:
    """The latest crawl with a screenshot, per URL (one query)."""
    found: dict[int, str] = {}
    for url_id, code in (
        CrawlRun.objects.filter(reported_url__in=urls, screenshot__isnull=False)
        .order_by("reported_url_id", "-created_at", "-pk")
        .values_list("reported_url_id", "code")
    ):
        found.setdefault(url_id, code)
    return found


def _find_urls(rows: list[Waiting]) -> None:
    """A URL for items classified without one (hash matches): the first that showed them."""
    if not rows:
        return
    first: dict[tuple[int, int], int] = {}
    for item_id, link_url_id, hotline_id in (
        UrlMedia.objects.filter(
            media_item_id__in=[row.status.media_item_id for row in rows if row.status],
            reported_url__hotline_id__in={row.status.hotline_id for row in rows if row.status},
        )
        .order_by("created_at", "pk")
        .values_list("media_item_id", "reported_url_id", "reported_url__hotline_id")
    ):
        first.setdefault((item_id, hotline_id), link_url_id)
    urls = (
        ReportedUrl.objects.select_related("hotline")
        .prefetch_related(Prefetch("reports", queryset=_reports()))
        .in_bulk(set(first.values()))
    )
    for row in rows:
        if row.status is None:  # these rows were built from item statuses
            raise ValueError("an item row without its item status")
        url_id = first.get((row.status.media_item_id, row.status.hotline_id))
        row.url = urls.get(url_id) if url_id is not None else None


def _opinion_rows(status: ItemStatus) -> list[dict[str, Any]]:
    return [
        {
            "who": c.analyst.get_username() if c.analyst else c.get_source_display(),
            "verdict": c.get_verdict_display(),
            "note": c.note,
            "at": c.created_at,
        }
        for c in opinions(status)
    ]


@staff_required
def confirm_list(request: HttpRequest) -> HttpResponse:
    """Items and page verdicts awaiting a second person, and disputes awaiting a third."""
    user = request_user(request)
    hotline_ids = set(hotlines_for_user(user).values_list("pk", flat=True))
    senior_of = set(hotlines_for_user(user, roles=SENIOR_ROLES).values_list("pk", flat=True))
    blind = blind_hotlines(hotline_ids)
    statuses = list(
        ItemStatus.objects.filter(hotline_id__in=hotline_ids, review_state__in=WAITING)
        .select_related(
            "hotline",
            "media_item",
            "current",
            "current__analyst",
            "current__reported_url",
            "current__reported_url__hotline",
        )
        .prefetch_related(Prefetch("current__reported_url__reports", queryset=_reports()))
        .order_by("updated_at", "pk")[:PAGE_SIZE]
    )
    pages = list(
        UrlAssessment.objects.filter(
            reported_url__hotline_id__in=hotline_ids, page_review_state__in=WAITING
        )
        .select_related("reported_url", "reported_url__hotline", "assessed_by", "page_second_by")
        .prefetch_related(Prefetch("reported_url__reports", queryset=_reports()))
        .order_by("assessed_at", "pk")[:PAGE_SIZE]
    )
    rows: list[Waiting] = []
    for page in pages:
        disputed = page.page_review_state == ReviewState.DISPUTED
        involved = {page.assessed_by_id, page.page_second_by_id}
        row = Waiting(
            status=None,
            assessment=page,
            url=page.reported_url,
            blind=page.reported_url.hotline_id in blind,
            may_confirm=not disputed
            and page.reported_url.hotline_id in senior_of
            and page.assessed_by_id != user.pk,
            may_settle=disputed and user.pk not in involved,
        )
        if disputed:
            row.opinions = [
                {
                    "who": page.assessed_by.get_username() if page.assessed_by else "–",
                    "verdict": page.get_verdict_display(),
                    "note": page.memo,
                    "at": page.assessed_at,
                },
                {
                    "who": page.page_second_by.get_username() if page.page_second_by else "–",
                    "verdict": Verdict(page.page_second_verdict).label,
                    "note": page.page_second_note,
                    "at": None,
                },
            ]
        rows.append(row)
    for status in statuses:
        disputed = status.review_state == ReviewState.DISPUTED
        row = Waiting(
            status=status,
            assessment=None,
            url=status.current.reported_url,
            blind=status.hotline_id in blind,
            may_confirm=not disputed
            and status.hotline_id in senior_of
            and status.current.analyst_id != user.pk,
            may_settle=False,
        )
        if disputed:
            row.opinions = _opinion_rows(status)
            involved = {
                c.analyst_id
                for c in Classification.objects.filter(
                    hotline_id=status.hotline_id,
                    media_item_id=status.media_item_id,
                    created_at__gte=status.current.created_at,
                )
            }
            row.may_settle = user.pk not in involved
        rows.append(row)
    _find_urls([row for row in rows if row.url is None and row.status is not None])
    shots = _screenshots([row.url for row in rows if row.url is not None])
    for row in rows:
        row.screenshot = shots.get(row.url.pk, "") if row.url is not None else ""
    return render(
        request,
        "assessment/confirm.html",
        {
            "rows": rows,
            "verdicts": [(v, label) for v, label in Verdict.choices if v in FINAL_VERDICTS],
            "keys": KEYS,
            **wellbeing_context(request),
        },
    )


def _status(request: HttpRequest, media_code: str) -> ItemStatus:
    user = request_user(request)
    status = (
        ItemStatus.objects.filter(
            hotline__in=hotlines_for_user(user),
            hotline_id=request.POST.get("hotline") or None,
            media_item__code=media_code,
        )
        .select_related("hotline", "media_item", "current")
        .first()
    )
    if status is None:
        raise Http404("No such classification")
    return status


def _page(request: HttpRequest, code: str) -> UrlAssessment:
    assessment = (
        UrlAssessment.objects.filter(
            reported_url__hotline__in=hotlines_for_user(request_user(request)),
            reported_url__code=code,
        )
        .select_related("reported_url", "reported_url__hotline")
        .first()
    )
    if assessment is None:
        raise Http404("No such assessment")
    return assessment


def _verdict(request: HttpRequest) -> str:
    verdict = request.POST.get("verdict", "")
    if verdict not in FINAL_VERDICTS:
        raise AssessmentError(_("choose a verdict"))
    return verdict


def _note(request: HttpRequest) -> str:
    return request.POST.get("note", "").strip()[:500]


def _is_blind(hotline_id: int) -> bool:
    return bool(blind_hotlines({hotline_id}))


def _not_blind(status: ItemStatus) -> ItemStatus:
    """``status`` itself, where its hotline's confirmation is not blind."""
    if _is_blind(status.hotline_id):
        raise AssessmentError(_("confirmation is blind here: give your own verdict"))
    return status


def _said(request: HttpRequest, state: str) -> None:
    if state == ReviewState.FINAL:
        messages.success(request, _("Confirmed: the verdict is in force."))
    else:
        messages.warning(request, _("Your verdict differs: a third analyst will decide."))


@require_POST
@staff_required
def agree(request: HttpRequest, media_code: str) -> HttpResponse:
    """Confirm the first verdict as shown (only where confirmation is not blind)."""
    status = _status(request, media_code)
    state = act(
        request,
        lambda: do_confirm_item(
            _not_blind(status), request_user(request), agree=True, note=_note(request)
        ),
        refused=AssessmentError,
    )
    if state is not None:
        _said(request, state)
    return redirect("assessment:confirm")


@require_POST
@staff_required
def disagree(request: HttpRequest, media_code: str) -> HttpResponse:
    status = _status(request, media_code)
    state = act(
        request,
        lambda: do_confirm_item(
            _not_blind(status),
            request_user(request),
            agree=False,
            verdict=_verdict(request),
            note=_note(request),
        ),
        refused=AssessmentError,
    )
    if state is not None:
        messages.warning(request, _("Disputed: a third analyst will decide."))
    return redirect("assessment:confirm")


@require_POST
@staff_required
def opinion(request: HttpRequest, media_code: str) -> HttpResponse:
    """A second opinion given blind: the same verdict confirms, another opens a dispute."""
    status = _status(request, media_code)
    state = act(
        request,
        lambda: do_second_opinion(
            status, request_user(request), _verdict(request), note=_note(request)
        ),
        refused=AssessmentError,
    )
    if state is not None:
        _said(request, state)
    return redirect("assessment:confirm")


@require_POST
@staff_required
def confirm_selected(request: HttpRequest) -> HttpResponse:
    """Confirm many items at once: their shown verdicts, or (blind) the verdict chosen for all."""
    user = request_user(request)
    codes = [c for c in request.POST.getlist("item") if c][:PAGE_SIZE]
    statuses = list(
        ItemStatus.objects.filter(
            hotline__in=hotlines_for_user(user),
            media_item__code__in=codes,
            review_state=ReviewState.AWAITING_CONFIRMATION,
        ).select_related("hotline", "media_item", "current")
    )
    if not statuses:
        messages.error(request, _("Select the items to confirm first."))
        return redirect("assessment:confirm")
    blind = blind_hotlines({s.hotline_id for s in statuses})
    chosen = request.POST.get("verdict", "")
    confirmed = disputed = 0
    errors: list[str] = []
    for status in statuses:
        try:
            if status.hotline_id in blind:
                if chosen not in FINAL_VERDICTS:
                    raise AssessmentError(_("confirmation is blind: choose the verdict for all"))
                state = do_second_opinion(status, user, chosen)
            else:
                state = do_confirm_item(status, user, agree=True)
        except AssessmentError as exc:
            errors.append(f"{status.media_item.code}: {exc}")
            continue
        if state == ReviewState.FINAL:
            confirmed += 1
        else:
            disputed += 1
    if confirmed or disputed:
        messages.success(
            request,
            _("%(confirmed)s confirmed, %(disputed)s disputed.")
            % {"confirmed": confirmed, "disputed": disputed},
        )
    for error in errors[:5]:
        messages.error(request, error)
    return redirect("assessment:confirm")


@require_POST
@staff_required
def settle(request: HttpRequest, media_code: str) -> HttpResponse:
    status = _status(request, media_code)
    act(
        request,
        lambda: do_settle_dispute(
            status, request_user(request), _verdict(request), note=_note(request)
        ),
        refused=AssessmentError,
        done=_("Dispute settled."),
    )
    return redirect("assessment:confirm")


@require_POST
@staff_required
def page_opinion(request: HttpRequest, code: str) -> HttpResponse:
    assessment = _page(request, code)
    state = act(
        request,
        lambda: do_page_second_opinion(
            assessment, request_user(request), _verdict(request), note=_note(request)
        ),
        refused=AssessmentError,
    )
    if state is not None:
        _said(request, state)
    return redirect("assessment:confirm")


@require_POST
@staff_required
def page_settle(request: HttpRequest, code: str) -> HttpResponse:
    assessment = _page(request, code)
    act(
        request,
        lambda: do_settle_page_dispute(
            assessment, request_user(request), _verdict(request), note=_note(request)
        ),
        refused=AssessmentError,
        done=_("Dispute settled."),
    )
    return redirect("assessment:confirm")
