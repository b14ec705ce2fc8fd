from __future__ import annotations

from typing import ClassVar

from django import forms

from openhotline.assessment.vocabulary import Verdict
from openhotline.network.models import MemberHotline


class MemberForm(forms.ModelForm):
    """What a hotline's admin may change about its own directory entry."""

    class Meta:
        model = MemberHotline
        fields: ClassVar = ["contact_email", "police_first_hours", "note"]


class ItemFilterForm(forms.Form):
    verdict = forms.ChoiceField(
        required=False,
        choices=[("", "any"), (Verdict.BASELINE, "baseline"), (Verdict.NATIONAL, "national")],
    )
    hotline = forms.CharField(required=False, max_length=60)
    country = forms.CharField(required=False, max_length=2)
    kind = forms.ChoiceField(
        required=False, choices=[("", "any"), ("image", "image"), ("video", "video")]
    )
    delivered = forms.ChoiceField(
        required=False, choices=[("", "any"), ("no", "not yet delivered"), ("yes", "delivered")]
    )
    since = forms.DateField(required=False)
