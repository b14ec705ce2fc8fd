"""Who may see and change a hotline's blocklist, and which list a provider's key reads.

Staff: the hotline's analysts see and propose; its senior analysts approve (never
their own proposals) and override the change-share guard
(``SENIOR_ANALYSTS_NOT_ADMINS``); senior analysts and admins publish and roll
back (``SENIOR_ROLES``); admins edit the protected names and the stop page
(``ADMIN_ROLES``). The role sets live in ``accounts.models``; checks use
``accounts.access.has_role`` and ``get_hotline_for_user``.

Providers: an ISP organisation reads the list of the hotline of its own country
(the Danish model: one national list, one national stop page). Where a country
has more than one hotline the provider names it with ``?hotline=SLUG``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.models import ApiKey, Organisation, OrgKind, User
from openhotline.blocking.models import BlocklistEntry


def entries_for_user(user: User) -> QuerySet[BlocklistEntry]:
    return BlocklistEntry.objects.filter(hotline__in=hotlines_for_user(user))


def get_entry_for_user(user: User, code: str) -> BlocklistEntry:
    try:
        return entries_for_user(user).select_related("hotline", "source", "evidence").get(code=code)
    except BlocklistEntry.DoesNotExist:
        raise Http404("No such entry") from None


def hotlines_for_isp(isp: Organisation) -> QuerySet[Organisation]:
    """The hotlines whose lists an ISP organisation reads: those of its country."""
    if isp.kind != OrgKind.ISP:
        return Organisation.objects.none()
    return Organisation.objects.filter(kind=OrgKind.HOTLINE, country=isp.country).order_by("name")


class AmbiguousHotline(LookupError):
    """More than one hotline fits; the caller must name one."""


def hotline_for_provider(key: ApiKey, slug: str | None) -> Organisation:
    """The hotline whose list this provider key may read; 404 for anything else."""
    isp = key.organisation
    if isp.kind != OrgKind.ISP:
        raise Http404("No such list")
    candidates = hotlines_for_isp(isp)
    if slug:
        candidates = candidates.filter(slug=slug)
    found = list(candidates[:2])
    if not found:
        raise Http404("No such list")
    if len(found) > 1:
        raise AmbiguousHotline("several hotlines serve this country; add ?hotline=SLUG")
    return found[0]


def only_hotline(slug: str | None) -> Organisation:
    """The hotline named by ``slug``, or the only one there is (for the CLI)."""
    hotlines = Organisation.objects.filter(kind=OrgKind.HOTLINE)
    if slug:
        hotline = hotlines.filter(slug=slug).first()
        if hotline is None:
            raise LookupError(f"no hotline with the slug {slug!r}")
        return hotline
    found = list(hotlines[:2])
    if len(found) != 1:
        raise LookupError(
            "no hotline exists" if not found else "several hotlines exist; name one with --hotline"
        )
    return found[0]
