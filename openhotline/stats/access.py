"""Whose figures a user may see, and the dashboard filters turned into a ``Scope``.

Members of a hotline (analyst, senior analyst, admin) see their own
hotlines' figures; auditors see the whole network. Anyone else, and a
hotline that is not the user's, gets 404: not found and not yours look the
same.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from openhotline.accounts.access import hotlines_for_user
from openhotline.accounts.models import AUDITOR_ROLES, Organisation, OrgKind, User
from openhotline.stats.scope import Scope


def is_auditor(user: User) -> bool:
    return user.is_authenticated and user.memberships.filter(role__in=AUDITOR_ROLES).exists()


def visible_hotlines(user: User) -> tuple[list[Organisation], bool]:
    """The hotlines whose figures ``user`` may see, and whether that is the whole network."""
    if is_auditor(user):
        return list(Organisation.objects.filter(kind=OrgKind.HOTLINE).order_by("name")), True
    return list(hotlines_for_user(user).order_by("name")), False


class FilterForm(forms.Form):
    start = forms.DateField(
        required=False, label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False,
        label=gettext_lazy("To (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    hotline = forms.ChoiceField(required=False, label=gettext_lazy("Hotline"))
    country = forms.ChoiceField(required=False, label=gettext_lazy("Hosting country"))

    def __init__(self, *args: Any, hotlines: list[Organisation], network: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        everyone = _("All hotlines (network)") if network else _("All my hotlines")
        hotline, country = self.fields["hotline"], self.fields["country"]
        if not isinstance(hotline, forms.ChoiceField) or not isinstance(country, forms.ChoiceField):
            raise TypeError("the hotline and country filters must be ChoiceFields")
        hotline.choices = [("", everyone)] + [(h.slug, h.name) for h in hotlines]
        country.choices = [("", _("All countries")), *((c, str(n)) for c, n in countries)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def scope_for(user: User, params: QueryDict) -> tuple[Scope | None, FilterForm]:
    """The scope the filters ask for; ``None`` with the form's errors when they are invalid.

    Raises ``Http404`` for a user with no hotline to see and for a hotline
    that is not the user's.
    """
    hotlines, network = visible_hotlines(user)
    if not hotlines and not network:
        raise Http404("No statistics for you")
    slug = params.get("hotline", "")
    if slug and slug not in {h.slug for h in hotlines}:
        raise Http404("No such hotline")
    form = FilterForm(params, hotlines=hotlines, network=network)
    if not form.is_valid():
        return None, form
    data = form.cleaned_data
    if data["hotline"]:
        ids: tuple[int, ...] | None = tuple(h.pk for h in hotlines if h.slug == data["hotline"])
    elif network:
        ids = None
    else:
        ids = tuple(h.pk for h in hotlines)
    start = _midnight(data["start"]) if data["start"] else None
    end = _midnight(data["end"] + timedelta(days=1)) if data["end"] else None
    return Scope(ids, start, end, data["country"] or ""), form
