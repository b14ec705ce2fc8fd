"""The review screen of one reported URL and its actions, each saved at once (htmx).

Every action answers with small fragments (``hx-swap-oob``) for the items it
changed, so that an image the analyst revealed stays as it is. Actions need
the URL's claim: opening the screen takes it when it is free.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.exceptions import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from openhotline.accounts.access import has_role, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import SENIOR_ROLES, User
from openhotline.assessment.actions.claims import (
    ClaimError,
    do_claim_url,
    do_release_claim,
    live_claim,
)
from openhotline.assessment.actions.classification import AssessmentError
from openhotline.assessment.actions.review import (
    FLAGS,
    Card,
    SharedItemChange,
    cards_for,
    do_classify_items,
    do_finish_review,
    do_set_site_type,
    do_undo,
    group_by_page,
    media_links,
    page_media,
    parse_changes,
)
from openhotline.assessment.actions.wellbeing import (
    SESSION_REVEALED,
    CapReached,
    RevealRefused,
    do_count_reveal,
)
from openhotline.assessment.models import ReviewDraft, UrlAssessment, UrlPriority
from openhotline.assessment.page_facts import hosting_status, reporter_notes
from openhotline.assessment.queue import QUEUE_STATES
from openhotline.assessment.vocabulary import (
    FINAL_VERDICTS,
    AgeGroup,
    Gender,
    SiteType,
    Verdict,
)
from openhotline.assessment.wellbeing_views import wellbeing_context
from openhotline.evidence.actions import do_record_media_view
from openhotline.evidence.thumbs import RevealStep
from openhotline.evidence.views import reveal_link
from openhotline.reports.access import get_reported_url_for_user
from openhotline.reports.models import ReportedUrl

UNDO_DEPTH = 50
# An optional fragment the crawler app may provide: screenshot and hosting trace.
PAGE_EVIDENCE_TEMPLATE = "crawler/_page_evidence.html"

KEYS = [
    ("j / k", gettext_lazy("Next / previous item")),
    (
        "1 / 2 / 4",
        gettext_lazy(
            "Verdict: baseline / nationally illegal / not illegal (ICCAM codes); "
            "then on to the next unclassified item"
        ),
    ),
    ("o / n", gettext_lazy("Needs a second opinion / not assessable (also moves on)")),
    ("i / p / a", gettext_lazy("Age group: infant or toddler / pre-pubescent / pubescent")),
    ("f / m / g", gettext_lazy("Gender: female / male / both")),
    (
        "v / s / c / $",
        gettext_lazy(
            "Toggle: virtual or AI-generated / self-generated / child modelling / commercial"
        ),
    ),
    (
        "i … $ before a verdict",
        gettext_lazy("On an unclassified item: kept and saved together with its verdict"),
    ),
    ("x", gettext_lazy("Select or unselect the item; keys then apply to every selected item")),
    ("X", gettext_lazy("Select all items shown")),
    ("Esc", gettext_lazy("Clear the selection, close this help or the enlarged view")),
    (
        "r",
        gettext_lazy(
            "Reveal the item: greyscale, then colour (counted; hidden again when you move on). "
            "With hold-to-reveal (wellbeing settings): shown only while you hold r down"
        ),
    ),
    ("z", gettext_lazy("Enlarge the revealed item (audited); z or Esc closes")),
    ("e", gettext_lazy("Show or hide the known (hash-matched) items")),
    ("t", gettext_lazy("Choose the site type of the page")),
    ("u", gettext_lazy("Undo the last change")),
    (
        "Enter",
        gettext_lazy(
            "Finish the URL. A choice still missing (an item's verdict, the page's verdict, "
            "the site type) gets the focus instead, and nothing is saved"
        ),
    ),
    ("?", gettext_lazy("This help")),
]


def controls_context() -> dict[str, Any]:
    """The vocabulary the classification controls need (page and fragments alike)."""
    return {
        "verdict_buttons": [
            (Verdict.BASELINE, Verdict.BASELINE.label, "1"),
            (Verdict.NATIONAL, Verdict.NATIONAL.label, "2"),
            (Verdict.NOT_ILLEGAL, Verdict.NOT_ILLEGAL.label, "4"),
            (Verdict.SECOND_OPINION, Verdict.SECOND_OPINION.label, "o"),
            (Verdict.NOT_ASSESSABLE, Verdict.NOT_ASSESSABLE.label, "n"),
        ],
        "age_groups": AgeGroup.choices,
        "genders": Gender.choices,
        "flags_all": FLAGS,
        "flag_labels": [
            ("is_virtual", _("Virtual / AI (v)")),
            ("is_self_generated", _("Self-generated (s)")),
            ("is_child_modelling", _("Child modelling (c)")),
            ("is_commercial", _("Commercial ($)")),
        ],
    }


def _undo_key(reported_url: ReportedUrl) -> str:
    return f"undo:{reported_url.code}"


def _fragments(
    request: HttpRequest,
    reported_url: ReportedUrl,
    *,
    cards: list[Card] | None = None,
    message: str = "",
    error: bool = False,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {
        "reported_url": reported_url,
        "cards": cards or [],
        "message": message,
        "error": error,
        "undo_depth": len(request.session.get(_undo_key(reported_url), [])),
        "oob": True,
        "can_work": True,
        **controls_context(),
        **wellbeing_context(request),
        **(extra or {}),
    }
    return render(request, "assessment/_changes.html", context, status=status)


def _page_evidence_template() -> str | None:
    try:
        get_template(PAGE_EVIDENCE_TEMPLATE)
    except TemplateDoesNotExist:
        return None
    return PAGE_EVIDENCE_TEMPLATE


@staff_required
def review(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    reported_url = get_reported_url_for_user(user, code, write=True)
    waiting = reported_url.state in QUEUE_STATES
    claim = live_claim(reported_url)
    if waiting and (claim is None or claim.analyst_id == user.pk):
        try:
            claim = do_claim_url(reported_url, user)
        except ClaimError:
            claim = live_claim(reported_url)
    links = media_links(reported_url)
    cards = cards_for(reported_url, [link.media_item for link in links])
    new_cards = [card for card in cards if not card.known]
    known_cards = [card for card in cards if card.known]
    return render(
        request,
        "assessment/review.html",
        {
            "reported_url": reported_url,
            "claim": claim,
            "can_work": waiting and claim is not None and claim.analyst_id == user.pk,
            "can_release": claim is not None
            and (claim.analyst_id == user.pk or has_role(user, reported_url.hotline, SENIOR_ROLES)),
            "new_cards": new_cards,
            "known_cards": known_cards,
            # A heading per page when the crawler followed the URL's gallery.
            "new_groups": group_by_page(new_cards, links, reported_url.url),
            "known_groups": group_by_page(known_cards, links, reported_url.url),
            "total": len(cards),
            "draft": ReviewDraft.objects.filter(reported_url=reported_url).first(),
            "assessment": UrlAssessment.objects.filter(reported_url=reported_url).first(),
            "priority": UrlPriority.objects.filter(reported_url=reported_url).first(),
            "reports": reporter_notes(reported_url),
            "hosting": hosting_status(reported_url),
            "evidence_template": _page_evidence_template(),
            "final_verdicts": [(v, label) for v, label in Verdict.choices if v in FINAL_VERDICTS],
            "site_types": SiteType.choices,
            **controls_context(),
            "keys": KEYS,
            "undo_depth": len(request.session.get(_undo_key(reported_url), [])),
            **wellbeing_context(request),
        },
    )


def _working(request: HttpRequest, code: str) -> tuple[User, ReportedUrl, HttpResponse | None]:
    """The URL, if the user may act on it now (they hold, or can take, its claim)."""
    user = request_user(request)
    reported_url = get_reported_url_for_user(user, code, write=True)
    if reported_url.state not in QUEUE_STATES:
        return (
            user,
            reported_url,
            _fragments(
                request,
                reported_url,
                message=_("This URL is already assessed."),
                error=True,
                status=409,
            ),
        )
    try:
        do_claim_url(reported_url, user)
    except ClaimError as exc:
        return (
            user,
            reported_url,
            _fragments(
                request,
                reported_url,
                message=_("Read only: %(reason)s.") % {"reason": exc},
                error=True,
                status=409,
            ),
        )
    return user, reported_url, None


@require_POST
@staff_required
def classify(request: HttpRequest, code: str) -> HttpResponse:
    user, reported_url, refused = _working(request, code)
    if refused is not None:
        return refused
    wanted = [c for c in request.POST.get("items", "").split(",") if c]
    items = [item for item in page_media(reported_url) if item.code in wanted]
    if not items or len(items) != len(set(wanted)):
        return _fragments(request, reported_url, message=_("No such item."), error=True, status=400)
    try:
        changes = parse_changes(request.POST)
        entry = do_classify_items(
            reported_url,
            user,
            items,
            changes,
            confirm_shared=request.POST.get("confirm_shared") == "1",
        )
    except SharedItemChange as exc:
        # The analyst confirms with the button listed beside the message (same request,
        # with confirm_shared=1).
        confirm_values = {
            key: value for key, value in request.POST.items() if key != "csrfmiddlewaretoken"
        }
        confirm_values["confirm_shared"] = "1"
        return _fragments(
            request,
            reported_url,
            message=str(exc),
            error=True,
            status=409,
            extra={"shared_urls": exc.urls, "shared_confirm_values": confirm_values},
        )
    except AssessmentError as exc:
        return _fragments(request, reported_url, message=str(exc), error=True, status=400)
    stack = request.session.get(_undo_key(reported_url), [])
    stack.append(entry)
    request.session[_undo_key(reported_url)] = stack[-UNDO_DEPTH:]
    described = ", ".join(f"{k.replace('_', ' ')}={v}" for k, v in changes.items())
    return _fragments(
        request,
        reported_url,
        cards=cards_for(reported_url, items),
        message=_("Saved for %(n)s item(s): %(changes)s.")
        % {"n": len(items), "changes": described},
    )


@require_POST
@staff_required
def undo(request: HttpRequest, code: str) -> HttpResponse:
    user, reported_url, refused = _working(request, code)
    if refused is not None:
        return refused
    stack = request.session.get(_undo_key(reported_url), [])
    if not stack:
        return _fragments(
            request, reported_url, message=_("Nothing to undo."), error=True, status=400
        )
    entry = stack.pop()
    request.session[_undo_key(reported_url)] = stack
    restored = do_undo(reported_url, user, entry)
    items = [item for item in page_media(reported_url) if item.pk in set(restored)]
    skipped = len(entry) - len(restored)
    message = _("Undone for %(n)s item(s).") % {"n": len(restored)}
    if skipped:
        message += " " + _("%(n)s changed since by someone else and were left as they are.") % {
            "n": skipped
        }
    return _fragments(request, reported_url, cards=cards_for(reported_url, items), message=message)


@require_POST
@staff_required
def reveal(request: HttpRequest, code: str, media_code: str) -> HttpResponse:
    """Reveal one item one step further: greyscale first, then colour; counted and audited.

    A URL still waiting for assessment is revealed by whoever works it (its
    claim); a finished one by any analyst of its hotline: the second person
    confirming its items, or someone reading it later.
    """
    user = request_user(request)
    reported_url = get_reported_url_for_user(user, code)
    if reported_url.state in QUEUE_STATES:
        user, reported_url, refused = _working(request, code)
        if refused is not None:
            return refused
    item = next((i for i in page_media(reported_url) if i.code == media_code), None)
    if item is None:
        return _fragments(request, reported_url, message=_("No such item."), error=True, status=404)
    step = request.POST.get("step", RevealStep.GREY)
    try:
        do_count_reveal(user, request.session, item.code, step=step)
    except RevealRefused as exc:
        return _fragments(request, reported_url, message=str(exc), error=True, status=400)
    except CapReached as exc:
        return _fragments(
            request,
            reported_url,
            message=_("%(reason)s. A senior analyst can lift it for today.") % {"reason": exc},
            error=True,
            status=409,
        )
    do_record_media_view(user, item, step=step, purpose="revealed")
    return _fragments(
        request,
        reported_url,
        message=_("Item revealed (%(step)s). It is hidden again when you move on.")
        % {"step": step},
        extra={
            "revealed": {
                "item": item,
                "src": reveal_link(user, item, RevealStep(step)),
                "step": step,
            }
        },
    )


@require_POST
@staff_required
def enlarge(request: HttpRequest, code: str, media_code: str) -> HttpResponse:
    """A larger view of an item the analyst revealed in this session; audited, not counted again.

    Never a way around the reveal: an item not revealed first is refused, and
    the picture is the one of the step asked for (greyscale or colour), which
    the reveal already allowed.
    """
    user, reported_url, refused = _working(request, code)
    if refused is not None:
        return refused
    item = next((i for i in page_media(reported_url) if i.code == media_code), None)
    if item is None:
        return _fragments(request, reported_url, message=_("No such item."), error=True, status=404)
    step = request.POST.get("step", "")
    if step not in {RevealStep.GREY, RevealStep.COLOUR}:
        return _fragments(request, reported_url, message=_("Unknown step."), error=True, status=400)
    if item.code not in request.session.get(SESSION_REVEALED, []):
        return _fragments(
            request, reported_url, message=_("Reveal the item first (r)."), error=True, status=400
        )
    do_record_media_view(user, item, step=step, purpose="enlarged")
    return _fragments(
        request,
        reported_url,
        message=_("Enlarged. z or Esc closes it."),
        extra={
            "enlarged": {
                "item": item,
                "src": reveal_link(user, item, RevealStep(step)),
                "step": step,
            }
        },
    )


@require_POST
@staff_required
def site_type(request: HttpRequest, code: str) -> HttpResponse:
    user, reported_url, refused = _working(request, code)
    if refused is not None:
        return refused
    try:
        draft = do_set_site_type(
            reported_url,
            user,
            request.POST.get("site_type", ""),
            domain_dedicated=request.POST.get("domain_dedicated") == "1",
        )
    except AssessmentError as exc:
        return _fragments(request, reported_url, message=str(exc), error=True, status=400)
    return _fragments(
        request,
        reported_url,
        message=_("Site type: %(type)s.") % {"type": draft.get_site_type_display()},
    )


@require_POST
@staff_required
def finish(request: HttpRequest, code: str) -> HttpResponse:
    user, reported_url, refused = _working(request, code)
    if refused is not None:
        return refused
    try:
        assessment = do_finish_review(
            reported_url,
            user,
            page_verdict=request.POST.get("page_verdict") or None,
            memo=request.POST.get("memo", "")[:2000],
        )
    except AssessmentError as exc:
        return _fragments(request, reported_url, message=str(exc), error=True, status=400)
    request.session.pop(_undo_key(reported_url), None)
    target = reverse("assessment:queue")
    response = HttpResponse(
        _("Finished: %(verdict)s") % {"verdict": assessment.get_verdict_display()}
    )
    if request.headers.get("HX-Request"):
        response["HX-Redirect"] = target
        return response
    return redirect(target)


@require_POST
@staff_required
def claim(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    reported_url = get_reported_url_for_user(user, code, write=True)
    try:
        do_claim_url(reported_url, user)
    except ClaimError:
        pass  # the review screen says who holds it
    return redirect("assessment:review", code=reported_url.code)


@require_POST
@staff_required
def release(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    reported_url = get_reported_url_for_user(user, code, write=True)
    try:
        do_release_claim(reported_url, user, reason=request.POST.get("reason", "")[:200])
    except ClaimError:
        return HttpResponse(
            _("Only a senior analyst can release someone else's claim."), status=403
        )
    return redirect("assessment:queue")
