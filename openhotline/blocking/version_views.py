"""Staff pages for versions: publish, roll back, and which providers are up to date."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import get_hotline_for_user, has_role, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import (
    SENIOR_ANALYSTS_NOT_ADMINS,
    SENIOR_ROLES,
    Organisation,
    OrgKind,
)
from openhotline.blocking.actions.entries import BlocklistError
from openhotline.blocking.actions.publishing import PublishRefused, do_publish, do_rollback
from openhotline.blocking.exports import unservable_formats
from openhotline.blocking.forms import PublishForm
from openhotline.blocking.models import FeedFetch, Publication

VERSIONS_SHOWN = 50


@staff_required
def versions(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug)
    publications = list(
        Publication.objects.filter(hotline=hotline)
        .select_related("created_by", "override_by")
        .order_by("-serial")[:VERSIONS_SHOWN]
    )
    return render(
        request,
        "blocking/versions.html",
        {
            "hotline": hotline,
            "publications": publications,
            "current": publications[0] if publications else None,
            "providers": _providers(hotline),
            "form": PublishForm(),
            "can_publish": has_role(user, hotline, SENIOR_ROLES),
            "can_roll_back": has_role(user, hotline, SENIOR_ANALYSTS_NOT_ADMINS),
            "violations": request.session.pop("blocking_violations", None),
            "feed_problems": unservable_formats(),
        },
    )


def _providers(hotline: Organisation) -> list[dict[str, object]]:
    """Each provider of the hotline's country with its last fetch and the version it has."""
    isps = Organisation.objects.filter(kind=OrgKind.ISP, country=hotline.country).order_by("name")
    fetched = {
        row["isp"]: row
        for row in FeedFetch.objects.filter(hotline=hotline)
        .values("isp")
        # A refused fetch (503) names the live serial but delivered nothing.
        .annotate(
            last=Max("created_at"),
            serial=Max("serial", filter=Q(status__in=[200, 304])),
            failed=Max("created_at", filter=Q(status__gte=500)),
        )
    }
    return [
        {
            "name": isp.name,
            "last": fetched.get(isp.pk, {}).get("last"),
            "serial": fetched.get(isp.pk, {}).get("serial"),
            "failed": fetched.get(isp.pk, {}).get("failed"),
        }
        for isp in isps
    ]


@require_POST
@staff_required
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=SENIOR_ROLES)
    form = PublishForm(request.POST)
    override = form.is_valid() and form.cleaned_data["override"]
    try:
        outcome = do_publish(hotline, actor=user, override=override)
    except PublishRefused as exc:
        request.session["blocking_violations"] = [str(v) for v in exc.violations]
        messages.error(
            request, _("Publication refused: %(n)s violation(s), listed below.") % {"n": exc.total}
        )
    except BlocklistError as exc:
        messages.error(request, str(exc))
    else:
        if outcome.publication is None:  # do_publish returns a version or raises
            messages.error(request, _("No version was published."))
        elif outcome.created:
            messages.success(
                request,
                _("Version %(serial)s published (+%(added)s −%(removed)s).")
                % {
                    "serial": outcome.publication.serial,
                    "added": outcome.added,
                    "removed": outcome.removed,
                },
            )
        else:
            messages.info(
                request,
                _("Nothing changed; version %(serial)s stays.")
                % {"serial": outcome.publication.serial},
            )
    return redirect("blocking:versions", slug=hotline.slug)


@require_POST
@staff_required
def rollback(request: HttpRequest, slug: str, serial: int) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=SENIOR_ANALYSTS_NOT_ADMINS)
    try:
        outcome = do_rollback(hotline, serial, actor=user)
    except PublishRefused as exc:
        request.session["blocking_violations"] = [str(v) for v in exc.violations]
        messages.error(
            request, _("Rollback refused: %(n)s violation(s), listed below.") % {"n": exc.total}
        )
    except BlocklistError as exc:
        messages.error(request, str(exc))
    else:
        if outcome.publication is None:  # do_rollback publishes a version or raises
            messages.error(request, _("Version %(serial)s was not restored.") % {"serial": serial})
        else:
            messages.success(
                request,
                _("Version %(new)s published, restoring version %(old)s.")
                % {"new": outcome.publication.serial, "old": serial},
            )
    return redirect("blocking:versions", slug=hotline.slug)
