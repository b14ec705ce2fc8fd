from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from openhotline.blocking.models import EntryKind, StopPageSettings, StopPageText


class ProposeForm(forms.Form):
    value = forms.CharField(label=_("URL, host or domain"), max_length=2048)
    kind = forms.ChoiceField(label=_("Kind"), choices=EntryKind.choices)
    dedicated = forms.BooleanField(
        label=_("The whole host or domain is dedicated to abuse material"), required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
    evidence = forms.CharField(
        label=_("Evidence: code of the reported URL"), max_length=20, required=False
    )


class PublishForm(forms.Form):
    override = forms.BooleanField(
        label=_("I accept a change over the share limit (senior analyst)"), required=False
    )


class ProtectedDomainForm(forms.Form):
    name = forms.CharField(label=_("Domain"), max_length=255)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class StopPageSettingsForm(forms.ModelForm):
    blocked_by_url = forms.URLField(
        label=_("Who implements the block (Link rel=blocked-by)"),
        required=False,
        assume_scheme="https",
    )
    help_url = forms.URLField(label=_("Help service link"), required=False, assume_scheme="https")

    class Meta:
        model = StopPageSettings
        fields = ("blocked_by_url", "complaint_contact", "help_name", "help_url")
        labels = {
            "blocked_by_url": _("Who implements the block (Link rel=blocked-by)"),
            "complaint_contact": _("Where to complain about a wrong block"),
            "help_name": _("Help service"),
            "help_url": _("Help service link"),
        }


class StopPageTextForm(forms.ModelForm):
    class Meta:
        model = StopPageText
        fields = ("title", "explanation", "complaint", "help")
        labels = {
            "title": _("Title"),
            "explanation": _("Explanation"),
            "complaint": _("Complaint"),
            "help": _("Help"),
        }
        widgets = {
            "explanation": forms.Textarea(attrs={"rows": 3}),
            "complaint": forms.Textarea(attrs={"rows": 3}),
            "help": forms.Textarea(attrs={"rows": 3}),
        }
