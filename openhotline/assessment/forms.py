from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from openhotline.assessment.models import WellbeingPrefs, WorkspaceSettings


class WellbeingForm(forms.ModelForm):
    class Meta:
        model = WellbeingPrefs
        fields = ("blur", "greyscale", "hold_to_reveal", "break_minutes", "daily_cap")
        labels = {
            "blur": _("Blur strength of previews"),
            "greyscale": _("Previews in greyscale"),
            "hold_to_reveal": _(
                "Hold to reveal: show an item only while I hold the reveal key (r) down"
            ),
            "break_minutes": _("Remind me to take a break after (minutes)"),
            "daily_cap": _("At most this many reveals a day (empty: no cap)"),
        }

    def clean_break_minutes(self) -> int:
        minutes = int(self.cleaned_data["break_minutes"])
        if not 5 <= minutes <= 480:
            raise forms.ValidationError(_("Between 5 and 480 minutes."))
        return minutes


class WorkspaceSettingsForm(forms.ModelForm):
    class Meta:
        model = WorkspaceSettings
        fields = ("claim_idle_minutes", "blind_confirmation")
        labels = {
            "claim_idle_minutes": _("A claim lapses after this many idle minutes"),
            "blind_confirmation": _(
                "Blind four-eyes: the second person gives a verdict before seeing the first"
            ),
        }

    def clean_claim_idle_minutes(self) -> int:
        minutes = int(self.cleaned_data["claim_idle_minutes"])
        if not 1 <= minutes <= 24 * 60:
            raise forms.ValidationError(_("Between 1 minute and a day."))
        return minutes


class PriorityRuleForm(forms.Form):
    """One row of the rules table; the prefix is the rule kind."""

    enabled = forms.BooleanField(required=False)
    weight = forms.IntegerField(min_value=-1000, max_value=1000)
    cap = forms.IntegerField(min_value=1, max_value=100000, required=False)
    threshold = forms.IntegerField(min_value=1, max_value=100000, required=False)
