"""View guards for staff pages: a login, and a second factor unless turned off."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from openhotline.accounts.models import User

# Any view: a page, a redirect, a streamed download.
V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def staff_required(view: V) -> V:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not isinstance(user, User):
            raise TypeError(f"AUTH_USER_MODEL is not accounts.User: {type(user).__name__}")
        if settings.OPENHOTLINE_REQUIRE_2FA and not user.is_second_factor_verified():
            # A session from before 2FA was required: log in again, with a code.
            logout(request)
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return cast(V, wrapper)
