from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openhotline.takedown.models import AbuseContact, NoticeTemplate
from openhotline.takedown.wording import LANGUAGES, check_template


class ContactForm(forms.ModelForm):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        choices=[("", gettext_lazy("by country"))] + [(code, code) for code in LANGUAGES],
    )

    class Meta:
        model = AbuseContact
        fields: ClassVar = ["name", "email", "kind", "language", "country", "escalate_to", "note"]
        labels: ClassVar = {
            "name": gettext_lazy("Name"),
            "email": gettext_lazy("Email"),
            "kind": gettext_lazy("Kind"),
            "country": gettext_lazy("Country"),
            "escalate_to": gettext_lazy("Escalate to"),
            "note": gettext_lazy("Note"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["escalate_to"]
        if not isinstance(field, forms.ModelChoiceField):
            raise TypeError("escalate_to must be a ModelChoiceField")
        field.queryset = AbuseContact.objects.filter(
            hotline=self.instance.hotline, merged_into__isnull=True
        ).exclude(pk=self.instance.pk)

    def clean_country(self) -> str:
        return str(self.cleaned_data.get("country") or "").upper()


class NewContactForm(forms.ModelForm):
    class Meta:
        model = AbuseContact
        fields: ClassVar = ["name", "email", "kind", "country", "note"]
        labels: ClassVar = {
            "name": gettext_lazy("Name"),
            "email": gettext_lazy("Email"),
            "kind": gettext_lazy("Kind"),
            "country": gettext_lazy("Country"),
            "note": gettext_lazy("Note"),
        }


class MergeForm(forms.Form):
    into = forms.CharField(
        label=gettext_lazy("Into"),
        max_length=20,
        help_text=gettext_lazy("code of the contact to keep"),
    )


class CloseForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = NoticeTemplate
        fields: ClassVar = ["subject", "text", "html"]
        labels: ClassVar = {
            "subject": gettext_lazy("Subject"),
            "text": gettext_lazy("Text"),
            "html": gettext_lazy("HTML"),
        }
        widgets: ClassVar = {
            "text": forms.Textarea(attrs={"rows": 24, "cols": 100}),
            "html": forms.Textarea(attrs={"rows": 16, "cols": 100}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("subject", "text", "html"):
            problem = check_template(str(data.get(name) or ""))
            if problem:
                self.add_error(name, _("template error: %(problem)s") % {"problem": problem})
        return data
