from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
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
    complaint_contact = forms.CharField(
        label=_("Where to complain about a wrong block"),
        required=False,
        max_length=200,
        help_text=_(
            "An e-mail address, a link to a form (https://…) or a path on the public site "
            "(/complaints/). Empty: the hotline's contact address."
        ),
    )

    class Meta:
        model = StopPageSettings
        fields = ("blocked_by_url", "complaint_contact", "help_name", "help_url")
        labels = {
            "blocked_by_url": _("Who implements the block (Link rel=blocked-by)"),
            "help_name": _("Help service"),
            "help_url": _("Help service link"),
        }

    def clean_complaint_contact(self) -> str:
        """An address or a form the stop page can link to, never free text.

        A path is made absolute on ``OPENHOTLINE_PUBLIC_BASE_URL`` by the stop page.
        """
        value = str(self.cleaned_data["complaint_contact"]).strip()
        if not value:
            return ""
        if (
            value.startswith("/")
            and not value.startswith("//")
            and not any(c.isspace() for c in value)
        ):
            return value
        check = (
            validate_email
            if "@" in value and "://" not in value
            else URLValidator(schemes=["http", "https"])
        )
        try:
            check(value)
        except ValidationError:
            raise ValidationError(
                _(
                    "Give an e-mail address, a link to a form (https://…) or a path on the "
                    "public site (/complaints/)."
                )
            ) from None
        return value


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
