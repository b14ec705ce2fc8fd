"""The public report form and the receipt-code lookup, with messages in the reporter's language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from openhotline.lib.codes import ALPHABET
from openhotline.lib.urlnorm import UrlError, normalize_url

# Stored in English (analysts share one vocabulary), shown translated.
WHERE_FOUND = [
    ("website", "A website", _("A website")),
    ("social", "A social network", _("A social network")),
    ("chat", "A chat or messaging app", _("A chat or messaging app")),
    ("email", "An e-mail", _("An e-mail")),
    ("filesharing", "File sharing or peer-to-peer", _("File sharing or peer-to-peer")),
    ("search", "Search results", _("Search results")),
    ("game", "An online game", _("An online game")),
    ("other", "Somewhere else", _("Somewhere else")),
]
WHERE_FOUND_STORED = {code: stored for code, stored, _label in WHERE_FOUND}

# Most URL reasons are kept short: the reporter needs to know which line and what to fix.
_URL_MESSAGES = {
    "too_long": _("Line %(line)s: the address is longer than %(max)s characters."),
    "scheme": _("Line %(line)s: only addresses starting with http:// or https:// can be reported."),
    "host": _("Line %(line)s: the site name in this address is not valid."),
    "port": _("Line %(line)s: the port number in this address is not valid."),
    "invalid": _("Line %(line)s: this is not a valid web address."),
}
MAX_TEXT = 5000
# Report codes are random_code(10) in two groups of five: "K7QXM-2HD9P".
CODE_LENGTH = 10


class AccessibleForm(forms.Form):
    """Fields that tell assistive technology about their help text and errors."""

    def describe_for_assistive_technology(self) -> None:
        """Tie each field to its help and error texts (aria-describedby, aria-invalid)."""
        for name, field in self.fields.items():
            bound = self[name]
            ids = []
            if field.help_text:
                ids.append(f"{bound.auto_id}_help")
            if bound.errors:
                ids.append(f"{bound.auto_id}_errors")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)


def url_error_message(error: UrlError, *, line: int) -> str:
    template = _URL_MESSAGES.get(error.code, _URL_MESSAGES["invalid"])
    return str(template) % {"line": line, "max": settings.OPENHOTLINE_INTAKE_MAX_URL_LENGTH}


class ReportForm(AccessibleForm):
    urls = forms.CharField(
        label=_("Web addresses"),
        help_text=_(
            "One address per line, for example https://example.com/page (at most %(max)s)."
        ),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Description"),
        help_text=_(
            "If there is no web address, tell us where you saw it: an app, a chat, a game."
        ),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    where_found = forms.ChoiceField(
        label=_("Where did you find it?"),
        required=False,
        choices=[("", pgettext_lazy("where found", "(not given)"))]
        + [(code, label) for code, _stored, label in WHERE_FOUND],
    )
    comment = forms.CharField(
        label=_("Comment"),
        help_text=_("Anything else that helps us find the material. Optional."),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        help_text=_(
            "Optional. Leave it empty to stay anonymous. We keep it encrypted and erase it "
            "after %(days)s days."
        ),
        required=False,
        max_length=254,
    )
    contact_consent = forms.BooleanField(
        label=_("You may contact me about this report at this address."), required=False
    )
    # The honeypot: hidden from people (and from screen readers), filled in by bots.
    homepage = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        days = settings.OPENHOTLINE_REPORTER_EMAIL_RETENTION_DAYS
        self.fields["email"].help_text = str(self.fields["email"].help_text) % {"days": days}
        maximum = settings.OPENHOTLINE_INTAKE_MAX_URLS
        self.fields["urls"].help_text = str(self.fields["urls"].help_text) % {"max": maximum}

    def clean_urls(self) -> list[str]:
        """Every non-empty line must be a URL the hotline accepts; say which line is wrong."""
        lines = [line.strip() for line in self.cleaned_data["urls"].splitlines()]
        numbered = [(number, line) for number, line in enumerate(lines, start=1) if line]
        maximum = settings.OPENHOTLINE_INTAKE_MAX_URLS
        if len(numbered) > maximum:
            raise forms.ValidationError(
                _("You can report at most %(max)s addresses at once; you entered %(count)s."),
                code="too_many",
                params={"max": maximum, "count": len(numbered)},
            )
        errors = []
        max_length = settings.OPENHOTLINE_INTAKE_MAX_URL_LENGTH
        for number, line in numbered:
            try:
                normalize_url(line, max_length=max_length)
            except UrlError as exc:
                errors.append(forms.ValidationError(url_error_message(exc, line=number)))
        if errors:
            raise forms.ValidationError(errors)
        return [line for _number, line in numbered]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "urls" in data and not data["urls"] and not data.get("description", "").strip():
            self.add_error(
                "urls",
                forms.ValidationError(
                    _("Enter at least one web address, or describe where you saw it."),
                    code="empty",
                ),
            )
        if data.get("email") and not data.get("contact_consent"):
            self.add_error(
                "contact_consent",
                forms.ValidationError(
                    _("Tick this box if we may contact you, or leave the e-mail address empty."),
                    code="consent",
                ),
            )
        return data

    def where_found_stored(self) -> str:
        return WHERE_FOUND_STORED.get(self.cleaned_data.get("where_found", ""), "")


class StatusForm(AccessibleForm):
    code = forms.CharField(
        label=_("Receipt code"),
        help_text=_("The code you were given after sending your report, e.g. K7QXM-2HD9P."),
        max_length=30,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    def clean_code(self) -> str:
        """Accept the code as people type it: any case, with or without the dash or spaces."""
        raw = "".join(ch for ch in self.cleaned_data["code"].upper() if ch.isalnum())
        if len(raw) != CODE_LENGTH or any(ch not in ALPHABET for ch in raw):
            raise forms.ValidationError(
                _("A receipt code has ten letters and digits, like K7QXM-2HD9P."), code="format"
            )
        return f"{raw[:5]}-{raw[5:]}"
