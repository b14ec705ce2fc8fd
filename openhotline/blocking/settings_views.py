"""Admin pages of the blocklist: protected names, and the stop page's wording."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import User
from openhotline.audit.log import record
from openhotline.blocking.access import ADMIN_ROLES, get_list_for_user
from openhotline.blocking.forms import ProtectedDomainForm, StopPageSettingsForm, StopPageTextForm
from openhotline.blocking.guards import shipped_protected_domains
from openhotline.blocking.models import EntryKind, ProtectedDomain, StopPageSettings, StopPageText
from openhotline.blocking.names import EntryValueError, canonical_entry
from openhotline.blocking.stoppage_texts import DEFAULT_TEXTS


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@staff_required
def protected(request: HttpRequest, slug: str) -> HttpResponse:
    user = _user(request)
    hotline = get_list_for_user(user, slug, roles=ADMIN_ROLES)
    form = ProtectedDomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _value, name = canonical_entry(form.cleaned_data["name"], EntryKind.DOMAIN)
        except EntryValueError as exc:
            form.add_error("name", str(exc))
        else:
            with transaction.atomic():
                _item, created = ProtectedDomain.objects.get_or_create(
                    hotline=hotline,
                    name=name,
                    defaults={"note": form.cleaned_data["note"], "added_by": user},
                )
                if created:
                    record(
                        "blocklist.protected_added",
                        actor=user,
                        organisation=hotline,
                        object_type="blocking.protecteddomain",
                        object_id=name,
                    )
            messages.success(request, f"{name} is protected.")
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
    user = _user(request)
    hotline = get_list_for_user(user, slug, roles=ADMIN_ROLES)
    item = ProtectedDomain.objects.filter(hotline=hotline, pk=pk).first()
    if item is None:
        raise Http404("No such name")
    with transaction.atomic():
        item.delete()
        record(
            "blocklist.protected_removed",
            actor=user,
            organisation=hotline,
            object_type="blocking.protecteddomain",
            object_id=item.name,
        )
    return redirect("blocking:protected", slug=hotline.slug)


@staff_required
def stop_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = _user(request)
    hotline = get_list_for_user(user, slug, roles=ADMIN_ROLES)
    page_settings = StopPageSettings.objects.filter(hotline=hotline).first() or StopPageSettings(
        hotline=hotline
    )
    form = StopPageSettingsForm(request.POST or None, instance=page_settings)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            record("blocklist.stop_page_changed", actor=user, organisation=hotline)
        messages.success(request, "Stop page settings saved.")
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
    user = _user(request)
    hotline = get_list_for_user(user, slug, roles=ADMIN_ROLES)
    if language not in DEFAULT_TEXTS:
        raise Http404("No such language")
    text = StopPageText.objects.filter(hotline=hotline, language=language).first()
    form = StopPageTextForm(request.POST, instance=text)
    if form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.hotline = hotline
            saved.language = language
            saved.save()
            record(
                "blocklist.stop_page_text_changed",
                actor=user,
                organisation=hotline,
                detail={"language": language},
            )
        messages.success(request, f"Stop page text ({language}) saved.")
    else:
        messages.error(request, "Every field of the text is needed.")
    return redirect("blocking:stop_page", slug=hotline.slug)
