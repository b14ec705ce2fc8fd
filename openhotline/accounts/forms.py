from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.models import ApiKeyScope, User


class CodeInput(forms.TextInput):
    """A code field that starts empty again after a failed login (a used code is stale)."""

    def format_value(self, value: Any) -> str | None:
        return None


class LoginForm(forms.Form):
    """Username, password and code in one step, with one answer for every failure.

    A wrong password, a wrong or missing code and an account that has no
    authenticator yet all get the same page: the answer says nothing about
    whether the password was right or the account has a second factor. Every
    failure counts towards the django-axes lock of the account and address.
    """

    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    code = forms.CharField(
        label=_("Authenticator code"),
        required=False,
        max_length=8,
        widget=CodeInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None
        self.device: Device | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        username, password = data.get("username"), data.get("password")
        if not username or not password:
            raise forms.ValidationError(REFUSED)
        user = authenticate(self.request, username=username, password=password)
        if user is None or not user.is_active:
            raise forms.ValidationError(REFUSED)
        if not isinstance(user, User):
            raise TypeError(f"authenticate() gave a {type(user).__name__}, not an accounts.User")
        if settings.OPENHOTLINE_REQUIRE_2FA:
            code = (data.get("code") or "").strip()
            device = match_login_code(user, code)
            if device is None:
                # authenticate() saw the right password; to django-axes this is a
                # failure like any other, so code guesses are throttled too.
                user_login_failed.send(
                    sender=__name__, credentials={"username": username}, request=self.request
                )
                raise forms.ValidationError(REFUSED)
            self.device = device
        self.user = user
        return data


REFUSED = _("Wrong username, password or code.")


def match_login_code(user: User, code: str) -> Device | None:
    """The user's confirmed authenticator that accepts ``code``, if any.

    An account without a confirmed authenticator gets None: its first one is
    enrolled through a link from an admin, never at the login.
    """
    if not code.isdigit():
        return None
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code):
            return device
    return None


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class EnrolPasswordForm(forms.Form):
    """The password of the account an enrolment link was issued for."""

    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)

    def __init__(self, request: Any, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if (
            not password
            or authenticate(self.request, username=self.user.get_username(), password=password)
            is None
        ):
            raise forms.ValidationError(_("Wrong password."))
        return data


class ChoosePasswordForm(SetPasswordForm):
    """The first password of an invited account, checked by the password validators."""


class InviteForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=())

    def __init__(self, *args: Any, roles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = roles


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=(), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args: Any, roles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["roles"]).choices = roles


class AuditFilterForm(forms.Form):
    """The audit-log viewer's filters; every one optional, all of them combined."""

    actor = forms.CharField(label=_("Actor (username)"), required=False, max_length=150)
    action = forms.CharField(
        label=_("Action (or its start, e.g. blocklist.)"), required=False, max_length=100
    )
    object = forms.CharField(
        label=_("Object (id or code, or type:id)"), required=False, max_length=200
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name (where the key is used)"), max_length=100)
    scope = forms.ChoiceField(label=_("Scope"), choices=ApiKeyScope.choices)
