"""Staff pages of abuse contacts and notice templates (changes are the hotline admin's)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from openhotline.accounts.access import get_hotline_for_user, has_role, request_user
from openhotline.accounts.decorators import staff_required
from openhotline.accounts.models import ADMIN_ROLES
from openhotline.accounts.pages import act
from openhotline.takedown.access import (
    get_contact_for_user,
)
from openhotline.takedown.actions.cases import do_add_contact, do_reset_template, do_save_template
from openhotline.takedown.actions.contacts import (
    ContactError,
    do_approve_contact,
    do_merge_contacts,
    do_update_contact,
)
from openhotline.takedown.forms import ContactForm, MergeForm, NewContactForm, TemplateForm
from openhotline.takedown.models import AbuseContact, NoticeTemplate, TemplateKind
from openhotline.takedown.wording import LANGUAGES, default_wording

PAGE_SIZE = 50


@staff_required
def contacts(request: HttpRequest, slug: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug)
    show = request.GET.get("show", "waiting")
    rows = AbuseContact.objects.filter(hotline=hotline, merged_into__isnull=True)
    if show == "waiting":
        rows = rows.filter(approved_at__isnull=True)
    page = Paginator(rows.order_by("name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    admin = has_role(user, hotline, ADMIN_ROLES)
    form = NewContactForm(request.POST or None)
    if request.method == "POST":
        if not admin:
            raise Http404("Not found")
        if form.is_valid():
            contact = form.save(commit=False)
            contact.hotline = hotline
            do_add_contact(contact, actor=user)
            return redirect("takedown:contact", code=contact.code)
    return render(
        request,
        "takedown/contacts.html",
        {"hotline": hotline, "page": page, "show": show, "is_admin": admin, "form": form},
    )


@staff_required
def contact_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    contact = get_contact_for_user(user, code)
    admin = has_role(user, contact.hotline, ADMIN_ROLES)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST":
        if not admin:
            raise Http404("Not found")
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in form.changed_data}
            contact.refresh_from_db()
            try:
                do_update_contact(contact, values, actor=user)
            except ContactError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Saved."))
                return redirect("takedown:contact", code=contact.code)
    cases = contact.cases.select_related("reported_url").order_by("-created_at")[:50]
    return render(
        request,
        "takedown/contact.html",
        {
            "contact": contact,
            "hotline": contact.hotline,
            "form": form,
            "merge_form": MergeForm(),
            "is_admin": admin,
            "cases": cases,
        },
    )


@require_POST
@staff_required
def contact_approve(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    contact = get_contact_for_user(user, code, admin=True)
    act(request, lambda: do_approve_contact(contact, actor=user), refused=ContactError)
    return redirect("takedown:contact", code=contact.code)


@require_POST
@staff_required
def contact_merge(request: HttpRequest, code: str) -> HttpResponse:
    user = request_user(request)
    contact = get_contact_for_user(user, code, admin=True)
    form = MergeForm(request.POST)
    if form.is_valid():
        target = AbuseContact.objects.filter(
            hotline=contact.hotline, code=form.cleaned_data["into"].strip().upper()
        ).first()
        if target is None:
            messages.error(request, _("No contact of this hotline has that code."))
            return redirect("takedown:contact", code=contact.code)
        try:
            do_merge_contacts(contact, target, actor=user)
        except ContactError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("takedown:contact", code=target.resolved().code)
    return redirect("takedown:contact", code=contact.code)


@staff_required
def templates(request: HttpRequest, slug: str) -> HttpResponse:
    hotline = get_hotline_for_user(request_user(request), slug, roles=ADMIN_ROLES)
    own = {(t.kind, t.language) for t in NoticeTemplate.objects.filter(hotline=hotline)}
    rows = [
        (kind, label, language, (kind, language) in own)
        for kind, label in TemplateKind.choices
        for language in LANGUAGES
    ]
    return render(request, "takedown/templates.html", {"hotline": hotline, "rows": rows})


@staff_required
def template_edit(request: HttpRequest, slug: str, kind: str, language: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    if kind not in TemplateKind.values or language not in LANGUAGES:
        raise Http404("No such template")
    instance = NoticeTemplate.objects.filter(hotline=hotline, kind=kind, language=language).first()
    if instance is None:
        default = default_wording(kind, language)
        instance = NoticeTemplate(
            hotline=hotline,
            kind=kind,
            language=language,
            subject=default.subject,
            text=default.text,
            html=default.html,
        )
    form = TemplateForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        do_save_template(form.save(commit=False), actor=user)
        messages.success(request, _("Saved."))
        return redirect("takedown:templates", slug=hotline.slug)
    return render(
        request,
        "takedown/template_edit.html",
        {"hotline": hotline, "form": form, "kind": kind, "language": language},
    )


@require_POST
@staff_required
def template_reset(request: HttpRequest, slug: str, kind: str, language: str) -> HttpResponse:
    user = request_user(request)
    hotline = get_hotline_for_user(user, slug, roles=ADMIN_ROLES)
    do_reset_template(hotline, kind, language, actor=user)
    return redirect("takedown:templates", slug=hotline.slug)
