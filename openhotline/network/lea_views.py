"""The law-enforcement portal under ``/lea/``: referrals, items, download packages.

Police officers see the referrals for their country and the illegal items on
them; INTERPOL officers see every item in force at any hotline, with filters
and counts. Media are blurred as everywhere (``lea_media_views``); packages
are encrypted ZIPs whose password is shown once.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import User
from openhotline.crawler.hosting_facts import latest_facts
from openhotline.evidence.store import get_store
from openhotline.network.actions.packages import (
    PackageRefused,
    do_create_package,
    do_record_download,
)
from openhotline.network.actions.referrals import CORRECTION_KINDS
from openhotline.network.forms import ItemFilterForm, ReasonForm
from openhotline.network.lea_access import (
    LeaSeat,
    get_package,
    get_referral,
    is_agency_admin,
    items_for,
    open_referrals,
    seat_for_user,
)
from openhotline.network.models import (
    Delivery,
    LeaItem,
    OfficerProfile,
    Package,
    PackageEncryption,
)
from openhotline.network.police_priority import rank

PAGE_SIZE = 50


def _seat(request: HttpRequest) -> tuple[User, LeaSeat]:
    user = request_user(request)
    return user, seat_for_user(user)


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    _, seat = _seat(request)
    return redirect("lea:items" if seat.interpol else "lea:referrals")


@staff_required
def referrals(request: HttpRequest) -> HttpResponse:
    """The referrals ranked by the organisation's police priority, each with its reasons."""
    user, seat = _seat(request)
    show = "open" if request.GET.get("show") == "open" else "all"
    ranked = rank(list(open_referrals(seat, show)), seat.organisation)
    page = Paginator(ranked, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "network/lea_referrals.html",
        {
            "seat": seat,
            "page": page,
            "total": len(ranked),
            "show": show,
            "can_edit": is_agency_admin(user, seat),
        },
    )


@staff_required
def referral_detail(request: HttpRequest, code: str) -> HttpResponse:
    _, seat = _seat(request)
    referral = get_referral(seat, code)
    url = referral.reported_url
    ranked = rank([referral], seat.organisation)[0]
    items = (
        items_for(seat)
        .filter(hotline=referral.hotline, media_item__url_links__reported_url=url)
        .select_related("media_item")
        .distinct()
    )
    return render(
        request,
        "network/lea_referral.html",
        {
            "seat": seat,
            "referral": referral,
            "url": url,
            "facts": latest_facts(url),
            "items": items,
            "corrections": url.timeline.filter(
                kind__in=CORRECTION_KINDS, detail__referral=referral.code
            ).order_by("created_at", "pk"),
            "ranked": ranked,
            "reason_form": ReasonForm(),
        },
    )


def _filtered(seat: LeaSeat, form: ItemFilterForm) -> QuerySet[LeaItem]:
    rows = items_for(seat)
    if not form.is_valid():
        return rows
    data = form.cleaned_data
    if data["verdict"]:
        rows = rows.filter(verdict=data["verdict"])
    if data["hotline"]:
        rows = rows.filter(hotline__slug=data["hotline"])
    if data["country"]:
        rows = rows.filter(hosting_country=data["country"].upper())
    if data["kind"]:
        rows = rows.filter(media_item__kind=data["kind"])
    delivered = Delivery.objects.filter(organisation=seat.organisation).values("media_item_id")
    if data["delivered"] == "yes":
        rows = rows.filter(media_item_id__in=delivered)
    elif data["delivered"] == "no":
        rows = rows.exclude(media_item_id__in=delivered)
    if data["since"]:
        start = timezone.make_aware(datetime.combine(data["since"], time.min))
        rows = rows.filter(first_in_force_at__gte=start)
    return rows


@staff_required
def items(request: HttpRequest) -> HttpResponse:
    _, seat = _seat(request)
    form = ItemFilterForm(request.GET or None)
    rows = _filtered(seat, form)
    delivered = Delivery.objects.filter(organisation=seat.organisation).values("media_item_id")
    counts = {
        "items": rows.values("media_item").distinct().count(),
        "undelivered": rows.exclude(media_item_id__in=delivered)
        .values("media_item")
        .distinct()
        .count(),
        "by_verdict": list(
            rows.values("verdict")
            .annotate(n=Count("media_item", distinct=True))
            .order_by("verdict")
        ),
        "by_hotline": list(
            rows.values("hotline__name", "hotline__slug")
            .annotate(n=Count("media_item", distinct=True))
            .order_by("hotline__name")
        ),
        "by_country": list(
            rows.values("hosting_country")
            .annotate(n=Count("media_item", distinct=True))
            .order_by("-n", "hosting_country")[:20]
        ),
    }
    ordered = rows.select_related("media_item", "hotline").order_by("-first_in_force_at", "-pk")
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "network/lea_items.html",
        {"seat": seat, "form": form, "page": page, "counts": counts, "query": query.urlencode()},
    )


@staff_required
def packages(request: HttpRequest) -> HttpResponse:
    user, seat = _seat(request)
    rows = Package.objects.filter(organisation=seat.organisation).select_related("created_by")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    delivered = Delivery.objects.filter(organisation=seat.organisation).values("media_item_id")
    waiting = items_for(seat).exclude(media_item_id__in=delivered).values("media_item").distinct()
    profile = OfficerProfile.objects.filter(user=user).first()
    return render(
        request,
        "network/lea_packages.html",
        {
            "seat": seat,
            "page": page,
            "waiting": waiting.count(),
            "now": timezone.now(),
            "age_recipient": profile.age_recipient if profile else "",
        },
    )


@require_POST
@staff_required
def package_new(request: HttpRequest) -> HttpResponse:
    """Build the next package and show its password, this once."""
    user, seat = _seat(request)
    try:
        made = do_create_package(seat, actor=user, to_age_key=bool(request.POST.get("to_age_key")))
    except PackageRefused as refused:
        messages.error(request, str(refused))
        return redirect("lea:packages")
    if made is None:
        messages.info(request, _("Nothing new since your last package."))
        return redirect("lea:packages")
    package, password = made
    response = render(
        request, "network/lea_package_ready.html", {"package": package, "password": password}
    )
    response["Cache-Control"] = "no-store, private"
    return response


@staff_required
def package_download(request: HttpRequest, code: str) -> HttpResponse:
    user, seat = _seat(request)
    package = get_package(seat, code)
    if not package.is_available():
        raise Http404("This package has expired")
    do_record_download(package, actor=user)
    chunks = get_store().iter_content(package.blob_name)
    response = FileResponse(
        chunks,
        as_attachment=True,
        filename=package.file_name,
        content_type="application/zip"
        if package.encryption == PackageEncryption.PASSWORD
        else "application/octet-stream",
    )
    # FileResponse names the file only for file objects; the store gives chunks.
    response["Content-Disposition"] = content_disposition_header(True, package.file_name) or ""
    response["Content-Length"] = str(package.size)
    response["Cache-Control"] = "no-store, private"
    return cast(HttpResponse, response)  # streamed: the guards pass any response through
