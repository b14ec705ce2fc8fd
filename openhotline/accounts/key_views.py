"""An ISP's or a partner's own API keys under ``/app/keys/``: create (shown once), revoke.

Rotating a key is making a new one, putting it in place, and revoking the
old one; both work in between, so a provider's fetches never stop.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import (
    KEY_ROLES,
    get_own_api_key,
    get_own_organisation,
    request_user,
)
from openhotline.accounts.actions import do_create_api_key, do_revoke_api_key
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.forms import ApiKeyForm
from openhotline.accounts.models import ApiKey, ApiKeyScope, OrgKind


@staff_required
def keys(request: HttpRequest) -> HttpResponse:
    org = get_own_organisation(request_user(request), KEY_ROLES)
    # Providers only read the feed; partners send reports, which needs writing.
    scope = ApiKeyScope.READ if org.kind == OrgKind.ISP else ApiKeyScope.READ_WRITE
    return render(
        request,
        "accounts/keys.html",
        {
            "organisation": org,
            "keys": ApiKey.objects.filter(organisation=org)
            .select_related("created_by")
            .order_by("revoked_at", "-created_at"),
            "form": ApiKeyForm(initial={"scope": scope}),
        },
    )


@require_POST
@staff_required
def create(request: HttpRequest) -> HttpResponse:
    """Make a key and show it, this once: only its hash is stored."""
    user = request_user(request)
    org = get_own_organisation(user, KEY_ROLES)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the key a name and a scope."))
        return redirect("keys:list")
    key, full_key = do_create_api_key(
        org, form.cleaned_data["name"], form.cleaned_data["scope"], actor=user
    )
    response = render(
        request, "accounts/key_created.html", {"organisation": org, "key": key, "secret": full_key}
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@staff_required
def revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    user = request_user(request)
    key = get_own_api_key(user, prefix)
    do_revoke_api_key(key, actor=user)
    messages.success(request, _("Key %(name)s revoked: it no longer works.") % {"name": key.name})
    return redirect("keys:list")
