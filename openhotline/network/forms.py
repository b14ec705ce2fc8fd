from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from openhotline.assessment.vocabulary import Verdict
from openhotline.network.models import MemberHotline


class MemberForm(forms.ModelForm):
    """What a hotline's admin may change about its own directory entry."""

    class Meta:
        model = MemberHotline
        fields: ClassVar = ["contact_email", "police_first_hours", "note"]
        labels: ClassVar = {
            "contact_email": _("Contact email"),
            "police_first_hours": _("Police first hours"),
            "note": _("Note"),
        }


class ItemFilterForm(forms.Form):
    verdict = forms.ChoiceField(
        required=False,
        label=_("Verdict"),
        choices=[
            ("", _("any")),
            (Verdict.BASELINE, _("baseline")),
            (Verdict.NATIONAL, _("national")),
        ],
    )
    hotline = forms.CharField(label=_("Hotline"), required=False, max_length=60)
    country = forms.CharField(label=_("Country"), required=False, max_length=2)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("any")), ("image", _("image")), ("video", _("video"))],
    )
    delivered = forms.ChoiceField(
        label=_("Delivered"),
        required=False,
        choices=[("", _("any")), ("no", _("not yet delivered")), ("yes", _("delivered"))],
    )
    since = forms.DateField(label=_("Since"), required=False)


class PoliceRuleForm(forms.Form):
    """One row of an agency's priority rules; the prefix is the rule kind."""

    enabled = forms.BooleanField(required=False)
    weight = forms.IntegerField(min_value=-1000, max_value=1000)
    cap = forms.IntegerField(min_value=1, max_value=100000, required=False)


class FlaggedSeriesForm(forms.Form):
    series = forms.CharField(
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One series name a line, as in the VICS Series field of hash sets."),
    )

    def names(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["series"].splitlines() if line.strip()]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AgeKeyForm(forms.Form):
    recipient = forms.CharField(
        required=False,
        max_length=100,
        label=_("age public key"),
        help_text=_("age1…: from age-keygen or rage-keygen. Empty to remove it."),
    )
