from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.actions import do_confirm_totp_device
from openhotline.accounts.forms import LoginForm, TotpConfirmForm
from openhotline.accounts.models import User
from openhotline.audit.log import record


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert form.user is not None
        login(request, form.user)
        if form.device is not None:
            otp_login(request, form.device)
        record("user.login", actor=form.user, detail={"second_factor": form.device is not None})
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next")})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


def totp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show a QR code, confirm with one code.

    Only a user who is logged in but not yet verified gets here; the device
    becomes usable once a code from it has been checked.
    """
    user = request.user
    if not isinstance(user, User):
        return redirect("accounts:login")
    if user.is_second_factor_verified():
        return redirect(settings.LOGIN_REDIRECT_URL)
    if user.has_confirmed_totp():
        # Already enrolled: the code belongs on the login form.
        logout(request)
        return redirect("accounts:login")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            do_confirm_totp_device(user, device)
            otp_login(request, device)
            return redirect(settings.LOGIN_REDIRECT_URL)
        form.add_error("code", "That code does not match. Check the time on your phone.")
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
