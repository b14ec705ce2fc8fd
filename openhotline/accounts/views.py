from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib.auth import login, logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.actions import (
    AccountError,
    do_enrol_with_link,
    do_record_login,
    do_set_initial_password,
)
from openhotline.accounts.forms import (
    ChoosePasswordForm,
    EnrolPasswordForm,
    LoginForm,
    TotpConfirmForm,
)
from openhotline.accounts.home import home_url
from openhotline.accounts.models import EnrolmentLink, User, hash_enrolment_token


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.user is None:  # is_valid() sets it
            raise PermissionDenied("Sign in first")
        login(request, form.user)
        if form.device is not None:
            otp_login(request, form.device)
        do_record_login(form.user, second_factor=form.device is not None)
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        return redirect(next_url or home_url(form.user))
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next")})


def home(request: HttpRequest) -> HttpResponse:
    """``/``: the signed-in user's own home page (``accounts.home``), or the login."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return redirect("accounts:login")
    return redirect(home_url(user))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


ENROL_SESSION_KEY = "accounts_enrol_link"


def _start_enrolment(request: HttpRequest, link: EnrolmentLink) -> HttpResponse:
    """The person is proven: a fresh, unconfirmed device, shown on the next page."""
    request.session[ENROL_SESSION_KEY] = link.pk
    TOTPDevice.objects.filter(user=link.user, confirmed=False).delete()
    TOTPDevice.objects.create(user=link.user, name="authenticator", confirmed=False)
    return redirect(request.path)


def _choose_password(request: HttpRequest, link: EnrolmentLink) -> HttpResponse:
    """An invitation (an account with no password yet): choose one, then enrol."""
    form = ChoosePasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            do_set_initial_password(link, form.cleaned_data["new_password1"])
        except AccountError:
            return render(request, "accounts/enrol_invalid.html", status=404)
        return _start_enrolment(request, link)
    return render(
        request, "accounts/enrol_choose_password.html", {"form": form, "username": link.user}
    )


def enrol(request: HttpRequest, token: str) -> HttpResponse:
    """Enrol an authenticator through a one-time link from an admin.

    1. The link names the account; its password proves the person (a leaked
       link alone enrols nothing). Wrong passwords count towards the lock.
    2. A QR code of a fresh, unconfirmed device; one code from it confirms the
       device, uses up the link and logs the person in.
    """
    link = (
        EnrolmentLink.objects.filter(token_hash=hash_enrolment_token(token))
        .select_related("user")
        .first()
    )
    if link is None or not link.is_usable() or not link.user.is_active:
        return render(request, "accounts/enrol_invalid.html", status=404)
    user = link.user
    if request.session.get(ENROL_SESSION_KEY) != link.pk:
        if not user.has_usable_password():
            return _choose_password(request, link)
        password_form = EnrolPasswordForm(request, user, request.POST or None)
        if request.method == "POST" and password_form.is_valid():
            return _start_enrolment(request, link)
        return render(
            request, "accounts/enrol_password.html", {"form": password_form, "username": user}
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        del request.session[ENROL_SESSION_KEY]
        return redirect(request.path)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            try:
                do_enrol_with_link(link, device)
            except AccountError:
                return render(request, "accounts/enrol_invalid.html", status=404)
            del request.session[ENROL_SESSION_KEY]
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            do_record_login(user, second_factor=True, enrolment=True)
            return redirect(home_url(user))
        form.add_error("code", _("That code does not match. Check the time on your phone."))
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    svg = io.BytesIO()
    image.save(svg)
    return render(
        request,
        "accounts/totp_setup.html",
        {
            "form": form,
            "qr_svg": svg.getvalue().decode(),
            "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
        },
    )
