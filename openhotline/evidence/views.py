"""Media thumbnails and the audited reveal.

A thumbnail is blurred and greyscale (a video's is a strip of blurred
frames). The analyst's wellbeing settings may ask for a stronger or lighter
blur (``?blur=light|normal|strong``) or blurred colour (``?tint=colour``),
never for less than a blur. Seeing more is a deliberate, audited step per
item in the workspace (``assessment.review_views.reveal``, which also counts
it against the analyst's daily cap); it hands out a short-lived signed link
from ``reveal_link``, valid for that user and that item only.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from openhotline.accounts.access import get_hotline_for_user, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import ADMIN_ROLES, User
from openhotline.evidence.access import get_media_for_user
from openhotline.evidence.actions import do_record_media_view, hotline_evidence_bytes
from openhotline.evidence.models import MediaItem, MediaKind, StorageAlarm
from openhotline.evidence.previews import blurred_preview, render_preview
from openhotline.evidence.store import get_store
from openhotline.evidence.thumbs import BLUR_LEVELS, DEFAULT_BLUR, RevealStep

REVEAL_SALT = "openhotline.evidence.reveal"
REVEAL_SECONDS = 120


def _image_response(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="image/jpeg")
    # Evidence must not linger in shared or browser caches.
    response["Cache-Control"] = "no-store, private"
    return response


def _render_revealed(item: MediaItem, step: RevealStep) -> bytes:
    # Never cached: a sharp picture exists only for the audited request that asked for it.
    return render_preview(
        get_store().get(item.blob.name),
        step,
        label=f"media {item.code}",
        video=item.kind == MediaKind.VIDEO,
    )


def reveal_link(user: User, item: MediaItem, step: RevealStep) -> str:
    """A short-lived link to ``item`` at ``step``, valid for ``user`` only."""
    token = signing.dumps({"u": user.pk, "m": item.code, "s": str(step)}, salt=REVEAL_SALT)
    return reverse("evidence:revealed", args=[item.code]) + f"?t={token}"


@require_GET
@staff_required
def thumbnail(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    item = get_media_for_user(user, code)
    blur = request.GET.get("blur", DEFAULT_BLUR)
    if blur not in BLUR_LEVELS:
        blur = DEFAULT_BLUR
    greyscale = request.GET.get("tint") != "colour"
    do_record_media_view(user, item, step=RevealStep.BLURRED, purpose="view")
    body = blurred_preview(
        lambda: get_store().get(item.blob.name),
        blob_name=item.blob.name,
        label=f"media {item.code}",
        video=item.kind == MediaKind.VIDEO,
        blur=blur,
        greyscale=greyscale,
    )
    return _image_response(body)


@require_GET
@staff_required
def revealed(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    try:
        claims = signing.loads(request.GET.get("t", ""), salt=REVEAL_SALT, max_age=REVEAL_SECONDS)
    except signing.BadSignature:
        raise Http404("This link has expired") from None
    if claims.get("u") != user.pk or claims.get("m") != code:
        raise Http404("No such media item")
    item = get_media_for_user(user, code)
    step = RevealStep(claims["s"])
    do_record_media_view(user, item, step=step, purpose="view")
    return _image_response(_render_revealed(item, step))


@require_GET
@staff_required
def storage(request: HttpRequest, slug: str) -> HttpResponse:
    """The hotline's stored evidence against its alarm threshold (admins of the hotline)."""
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    context = {
        "hotline": hotline,
        "bytes_stored": hotline_evidence_bytes(hotline),
        "threshold": settings.OPENHOTLINE_EVIDENCE_ALARM_BYTES,
        "alarm": StorageAlarm.objects.filter(hotline=hotline).first(),
    }
    return render(request, "evidence/storage.html", context)
