"""``Cache-Control: no-store`` on every page with a staff, police or partner's data.

Staff pages (``/app/``), the police portal (``/lea/``), the login and enrolment
pages and the API must never sit in a browser's or proxy's cache: a shared
computer or a caching proxy would keep what only the logged-in person may see.
A view that already chose ``no-store`` or ``no-cache`` (the ISP feed, which
revalidates with an ETag) keeps its own header.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

PRIVATE_PREFIXES = ("/app/", "/lea/", "/accounts/", "/api/", "/admin/")


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        private = request.path.startswith(PRIVATE_PREFIXES) or bool(
            user is not None and user.is_authenticated
        )
        current = response.get("Cache-Control", "")
        if private and "no-store" not in current and "no-cache" not in current:
            response["Cache-Control"] = "no-store, private"
        return response
