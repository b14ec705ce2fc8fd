from __future__ import annotations

from typing import Any, ClassVar

from django import forms

from openhotline.takedown.models import AbuseContact, NoticeTemplate
from openhotline.takedown.wording import LANGUAGES, check_template


class ContactForm(forms.ModelForm):
    language = forms.ChoiceField(
        required=False, choices=[("", "by country")] + [(code, code) for code in LANGUAGES]
    )

    class Meta:
        model = AbuseContact
        fields: ClassVar = ["name", "email", "kind", "language", "country", "escalate_to", "note"]

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


class MergeForm(forms.Form):
    into = forms.CharField(max_length=20, help_text="code of the contact to keep")


class CloseForm(forms.Form):
    reason = forms.CharField(max_length=500)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = NoticeTemplate
        fields: ClassVar = ["subject", "text", "html"]
        widgets: ClassVar = {
            "text": forms.Textarea(attrs={"rows": 24, "cols": 100}),
            "html": forms.Textarea(attrs={"rows": 16, "cols": 100}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("subject", "text", "html"):
            problem = check_template(str(data.get(name) or ""))
            if problem:
                self.add_error(name, f"template error: {problem}")
        return data
