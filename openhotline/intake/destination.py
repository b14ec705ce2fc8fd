"""Which hotline receives a report that names none.

An installation may host several hotlines. Public reports at ``/report/``
go to ``OPENHOTLINE_PUBLIC_HOTLINE`` (a slug), or to the only hotline when
there is exactly one; ``/report/<slug>/`` reaches any hotline. E-mail
reports go to ``OPENHOTLINE_INTAKE_MAIL_HOTLINE``, or the same default.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from openhotline.accounts.models import Organisation, OrgKind


def hotlines() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrgKind.HOTLINE).order_by("name")


def hotline_by_slug(slug: str) -> Organisation:
    try:
        return hotlines().get(slug=slug)
    except Organisation.DoesNotExist:
        raise Http404("No such hotline") from None


def default_hotline(slug: str = "") -> Organisation | None:
    """The hotline named by ``slug`` (or the public setting), else the only one, else None."""
    wanted = slug or settings.OPENHOTLINE_PUBLIC_HOTLINE
    if wanted:
        return hotlines().filter(slug=wanted).first()
    only = list(hotlines()[:2])
    return only[0] if len(only) == 1 else None


def mail_hotline() -> Organisation | None:
    return default_hotline(settings.OPENHOTLINE_INTAKE_MAIL_HOTLINE)
