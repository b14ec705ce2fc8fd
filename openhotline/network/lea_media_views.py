"""Media in the law-enforcement portal, under the same viewing rules as the analysts'.

A thumbnail is blurred and greyscale; seeing more is a deliberate POST per
item (audited, and counted with the analysts' reveal counter: greyscale
before colour, the officer's daily cap) that returns a short-lived link
valid for that officer and that item only. The item must be in the officer's view (``lea_access``).
"""

from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import User
from openhotline.assessment.actions.wellbeing import CapReached, RevealRefused, do_count_reveal
from openhotline.evidence.actions import do_record_media_view
from openhotline.evidence.models import MediaItem, MediaKind
from openhotline.evidence.previews import render_preview
from openhotline.evidence.store import get_store
from openhotline.evidence.thumbs import RevealStep
from openhotline.network.lea_access import get_media, seat_for_user

REVEAL_SALT = "openhotline.network.lea-reveal"
REVEAL_SECONDS = 120


def _officer(request: HttpRequest) -> User:
    user = request_user(request)
    return user


def _image(item: MediaItem, step: RevealStep) -> HttpResponse:
    body = render_preview(
        get_store().get(item.blob.name),
        step,
        label=f"media {item.code} (police portal)",
        video=item.kind == MediaKind.VIDEO,
    )
    response = HttpResponse(body, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
@staff_required
def thumbnail(request: HttpRequest, code: str) -> HttpResponse:
    user = _officer(request)
    item = get_media(seat_for_user(user), code)
    do_record_media_view(user, item, step=RevealStep.BLURRED, purpose="view")
    return _image(item, RevealStep.BLURRED)


@require_POST
@staff_required
def reveal(request: HttpRequest, code: str) -> JsonResponse:
    user = _officer(request)
    item = get_media(seat_for_user(user), code)
    try:
        step = RevealStep(request.POST.get("step", RevealStep.GREY))
    except ValueError:
        return JsonResponse({"error": "step must be grey or colour"}, status=400)
    if step == RevealStep.BLURRED:
        return JsonResponse({"error": "step must be grey or colour"}, status=400)
    # Counted as an analyst's reveal is: greyscale before colour, the item once a
    # session, and the officer's daily cap (wellbeing preferences) respected.
    try:
        counted = do_count_reveal(user, request.session, item.code, step=step)
    except RevealRefused as refused:
        return JsonResponse({"error": str(refused)}, status=400)
    except CapReached as capped:
        return JsonResponse({"error": str(capped)}, status=403)
    do_record_media_view(user, item, step=step, purpose="revealed")
    token = signing.dumps({"u": user.pk, "m": item.code, "s": str(step)}, salt=REVEAL_SALT)
    url = reverse("lea:revealed", args=[item.code]) + f"?t={token}"
    return JsonResponse(
        {
            "url": url,
            "step": str(step),
            "expires_in": REVEAL_SECONDS,
            "revealed_today": counted.today,
            "revealed_session": counted.session,
        }
    )


@require_GET
@staff_required
def revealed(request: HttpRequest, code: str) -> HttpResponse:
    user = _officer(request)
    try:
        claims = signing.loads(request.GET.get("t", ""), salt=REVEAL_SALT, max_age=REVEAL_SECONDS)
    except signing.BadSignature:
        raise Http404("This link has expired") from None
    if claims.get("u") != user.pk or claims.get("m") != code:
        raise Http404("No such media item")
    item = get_media(seat_for_user(user), code)
    step = RevealStep(claims["s"])
    do_record_media_view(user, item, step=step, purpose="view")
    return _image(item, step)
