"""The admin's pages under ``/app/admin/``: its people and links to every setting.

People: invite by a one-time enrolment link (the invitee chooses a password
and enrols an authenticator through it), set roles, deactivate, reset the
second factor. Each change is a ``do_*`` action in ``accounts.actions``; an
admin reaches only their own organisation's members
(``access.get_member_for_admin``). A hotline's admin manages the hotline's
people; a police force's or INTERPOL's agency admin those of the agency, on
the same pages (``ORGANISATION_ADMIN_ROLE``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.access import (
    administered_organisations,
    get_administered_organisation,
    get_member_for_admin,
    request_user,
)
from openhotline.accounts.actions import (
    AccountError,
    do_deactivate_user,
    do_invite_user,
    do_reactivate_user,
    do_reset_second_factor,
    do_set_roles,
)
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.forms import InviteForm, RolesForm
from openhotline.accounts.models import (
    ROLES_BY_KIND,
    Membership,
    Organisation,
    OrgKind,
    Role,
    User,
)
from openhotline.accounts.pages import act

# Every settings page of a hotline, by URL name (each takes the hotline's slug
# unless marked), so the admin home links them all from one place.
SETTINGS_PAGES: list[tuple[str, object, bool]] = [
    ("assessment:settings", gettext_lazy("Queue, claims and four-eyes rules"), True),
    ("crawler:rules", gettext_lazy("Crawler rules per domain"), True),
    ("blocking:protected", gettext_lazy("Blocklist: protected names"), True),
    ("blocking:stop_page", gettext_lazy("Blocklist: stop page"), True),
    ("blocking:versions", gettext_lazy("Blocklist: versions and providers"), True),
    ("takedown:contacts", gettext_lazy("Takedown: abuse contacts"), True),
    ("takedown:templates", gettext_lazy("Takedown: notice templates"), True),
    ("evidence:storage", gettext_lazy("Evidence storage"), True),
    ("network:directory", gettext_lazy("Network: partner hotlines and police"), False),
    ("assessment:wellbeing", gettext_lazy("Wellbeing: exposure caps"), False),
    ("federation:peers", gettext_lazy("Federation: peer installations and deliveries"), False),
]
# A police force's or INTERPOL's settings, for its agency admin.
AGENCY_SETTINGS_PAGES: list[tuple[str, object, bool]] = [
    ("lea:priority", gettext_lazy("Police priority: rules and flagged series"), False),
]


def _role_choices(hotline: Organisation) -> list[tuple[str, str]]:
    allowed = ROLES_BY_KIND[hotline.kind]
    return [(value, str(label)) for value, label in Role.choices if value in allowed]


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    hotlines = list(administered_organisations(request_user(request)))
    if len(hotlines) == 1:
        return redirect("hotline_admin:home", slug=hotlines[0].slug)
    return render(request, "accounts/admin_index.html", {"hotlines": hotlines})


@staff_required
def home(request: HttpRequest, slug: str) -> HttpResponse:
    hotline = get_administered_organisation(request_user(request), slug)
    listed = SETTINGS_PAGES if hotline.kind == OrgKind.HOTLINE else AGENCY_SETTINGS_PAGES
    pages = [
        (reverse(name, args=[hotline.slug] if per_hotline else []), label)
        for name, label, per_hotline in listed
    ]
    counts = Membership.objects.filter(organisation=hotline).aggregate(
        people=Count("user", distinct=True)
    )
    return render(
        request,
        "accounts/admin_home.html",
        {"hotline": hotline, "pages": pages, "people": counts["people"]},
    )


@staff_required
def people(request: HttpRequest, slug: str) -> HttpResponse:
    hotline = get_administered_organisation(request_user(request), slug)
    members = (
        User.objects.filter(memberships__organisation=hotline)
        .distinct()
        .order_by("username")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(organisation=hotline).order_by("role"),
                to_attr="here",
            )
        )
        .annotate(
            devices=Count("totpdevice", distinct=True),
        )
    )
    return render(
        request,
        "accounts/admin_people.html",
        {
            "hotline": hotline,
            "members": members,
            "invite_form": InviteForm(roles=_role_choices(hotline)),
        },
    )


@require_POST
@staff_required
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    """Create the account and show its invitation link, once (only its hash is stored)."""
    user = request_user(request)
    hotline = get_administered_organisation(user, slug)
    form = InviteForm(request.POST, roles=_role_choices(hotline))
    if form.is_valid():
        data = form.cleaned_data
        try:
            member, token = do_invite_user(
                hotline, data["username"], data["role"], email=data["email"], actor=user
            )
        except AccountError as exc:
            form.add_error("username", str(exc))
        else:
            return _show_link(request, hotline, member, token, invited=True)
    messages.error(
        request, _("The invitation was not sent: %(errors)s") % {"errors": _errors(form)}
    )
    return redirect("hotline_admin:people", slug=hotline.slug)


def _errors(form: InviteForm | RolesForm) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _show_link(
    request: HttpRequest, hotline: Organisation, member: User, token: str, *, invited: bool
) -> HttpResponse:
    link = request.build_absolute_uri(reverse("accounts:enrol", args=[token]))
    response = render(
        request,
        "accounts/admin_link.html",
        {"hotline": hotline, "member": member, "link": link, "invited": invited},
    )
    # The page holds a secret that works once: keep it out of every cache.
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def member(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    hotline, person = get_member_for_admin(request_user(request), slug, username)
    roles = set(
        Membership.objects.filter(user=person, organisation=hotline).values_list("role", flat=True)
    )
    return render(
        request,
        "accounts/admin_member.html",
        {
            "hotline": hotline,
            "person": person,
            "roles_form": RolesForm(initial={"roles": sorted(roles)}, roles=_role_choices(hotline)),
            "has_authenticator": TOTPDevice.objects.filter(user=person, confirmed=True).exists(),
            "other_organisations": person.memberships.exclude(organisation=hotline).exists(),
        },
    )


@require_POST
@staff_required
def set_roles(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    user = request_user(request)
    hotline, person = get_member_for_admin(user, slug, username)
    form = RolesForm(request.POST, roles=_role_choices(hotline))
    if form.is_valid():
        act(
            request,
            lambda: do_set_roles(person, hotline, set(form.cleaned_data["roles"]), actor=user),
            refused=AccountError,
            done=_("Roles saved."),
        )
    else:
        messages.error(request, _errors(form))
    return redirect("hotline_admin:member", slug=hotline.slug, username=person.username)


def _change_account(
    request: HttpRequest,
    slug: str,
    username: str,
    action: Callable[..., None],
    done: str,
) -> HttpResponse:
    """Run ``action(person, hotline, actor=…)`` on a member, then back to their page."""
    user = request_user(request)
    hotline, person = get_member_for_admin(user, slug, username)
    act(request, lambda: action(person, hotline, actor=user), refused=AccountError, done=done)
    return redirect("hotline_admin:member", slug=hotline.slug, username=person.username)


@require_POST
@staff_required
def deactivate(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    return _change_account(
        request,
        slug,
        username,
        do_deactivate_user,
        _("Account deactivated: it can no longer log in."),
    )


@require_POST
@staff_required
def reactivate(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    return _change_account(request, slug, username, do_reactivate_user, _("Account active again."))


@require_POST
@staff_required
def reset_second_factor(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    user = request_user(request)
    hotline, person = get_member_for_admin(user, slug, username)
    token = act(
        request, lambda: do_reset_second_factor(person, hotline, actor=user), refused=AccountError
    )
    if token is None:
        return redirect("hotline_admin:member", slug=hotline.slug, username=person.username)
    return _show_link(request, hotline, person, token, invited=False)
