"""Admin pages of the blocklist: protected names, and the stop page's wording."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import get_hotline_for_user, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import ADMIN_ROLES
from openhotline.blocking.actions.entries import (
    do_protect_name,
    do_save_stop_page,
    do_save_stop_page_text,
    do_unprotect_name,
)
from openhotline.blocking.forms import ProtectedDomainForm, StopPageSettingsForm, StopPageTextForm
from openhotline.blocking.guards import shipped_protected_domains
from openhotline.blocking.models import EntryKind, ProtectedDomain, StopPageSettings, StopPageText
from openhotline.blocking.names import EntryValueError, canonical_entry
from openhotline.blocking.stoppage_texts import DEFAULT_TEXTS


@staff_required
def protected(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    form = ProtectedDomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _value, name = canonical_entry(form.cleaned_data["name"], EntryKind.DOMAIN)
        except EntryValueError as exc:
            form.add_error("name", str(exc))
        else:
            do_protect_name(hotline, name, form.cleaned_data["note"], actor=user)
            messages.success(request, _("%(name)s is protected.") % {"name": name})
            return redirect("blocking:protected", slug=hotline.slug)
    return render(
        request,
        "blocking/protected.html",
        {
            "hotline": hotline,
            "form": form,
            "own": ProtectedDomain.objects.filter(hotline=hotline),
            "shipped": sorted(shipped_protected_domains()),
        },
    )


@require_POST
@staff_required
def protected_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    item = ProtectedDomain.objects.filter(hotline=hotline, pk=pk).first()
    if item is None:
        raise Http404("No such name")
    do_unprotect_name(item, actor=user)
    return redirect("blocking:protected", slug=hotline.slug)


@staff_required
def stop_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    page_settings = StopPageSettings.objects.filter(hotline=hotline).first() or StopPageSettings(
        hotline=hotline
    )
    form = StopPageSettingsForm(request.POST or None, instance=page_settings)
    if request.method == "POST" and form.is_valid():
        do_save_stop_page(form.save(commit=False), actor=user)
        messages.success(request, _("Stop page settings saved."))
        return redirect("blocking:stop_page", slug=hotline.slug)
    texts = []
    for language, default in DEFAULT_TEXTS.items():
        text = StopPageText.objects.filter(hotline=hotline, language=language).first()
        initial = {
            "title": default.title,
            "explanation": default.explanation,
            "complaint": default.complaint,
            "help": default.help,
        }
        texts.append((language, StopPageTextForm(instance=text, initial=None if text else initial)))
    return render(
        request, "blocking/stop_page.html", {"hotline": hotline, "form": form, "texts": texts}
    )


@require_POST
@staff_required
def stop_page_text(request: HttpRequest, slug: str, language: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    if language not in DEFAULT_TEXTS:
        raise Http404("No such language")
    text = StopPageText.objects.filter(hotline=hotline, language=language).first()
    form = StopPageTextForm(request.POST, instance=text)
    if form.is_valid():
        saved = form.save(commit=False)
        saved.hotline = hotline
        saved.language = language
        do_save_stop_page_text(saved, actor=user)
        messages.success(
            request, _("Stop page text (%(language)s) saved.") % {"language": language}
        )
    else:
        messages.error(request, _("Every field of the text is needed."))
    return redirect("blocking:stop_page", slug=hotline.slug)
