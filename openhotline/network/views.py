"""Staff pages of the network: the member directory, and routing a reported URL again."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import hotlines_for_user, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import ADMIN_ROLES
from openhotline.network.actions.members import do_update_member
from openhotline.network.actions.routing import do_route
from openhotline.network.forms import MemberForm
from openhotline.network.models import MemberHotline
from openhotline.network.panel import panel_context
from openhotline.reports.access import get_reported_url_for_user


@staff_required
def directory(request: HttpRequest) -> HttpResponse:
    """Every member hotline; a hotline's admin edits its own entry."""
    user = request_user(request)
    if not hotlines_for_user(user).exists():
        raise Http404("Not found")
    own = set(hotlines_for_user(user, roles=ADMIN_ROLES).values_list("pk", flat=True))
    members = MemberHotline.objects.select_related("organisation").order_by("country")
    return render(request, "network/directory.html", {"members": members, "own": own})


@staff_required
def member_edit(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    admin_of = hotlines_for_user(user, roles=ADMIN_ROLES)
    member = MemberHotline.objects.filter(code=code, organisation__in=admin_of).first()
    if member is None:
        raise Http404("No such member")
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        do_update_member(form.save(commit=False), form.cleaned_data, actor=user)
        messages.success(request, _("Saved."))
        return redirect("network:directory")
    return render(request, "network/member_edit.html", {"member": member, "form": form})


@staff_required
def url_network(request: HttpRequest, code: str) -> HttpResponse:
    """The network section of a reported URL on a page of its own."""
    url = get_reported_url_for_user(request_user(request), code)
    return render(request, "network/url.html", panel_context(request_user(request), url))


@require_POST
@staff_required
def route_again(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    url = get_reported_url_for_user(user, code, write=True)
    route = do_route(url, actor=user, again=True)
    if route is None:
        messages.error(request, _("Only a URL assessed illegal and still ours can be routed."))
    else:
        messages.success(request, _("Route: %(route)s") % {"route": route.get_kind_display()})
    return redirect("network:url", code=url.code)
