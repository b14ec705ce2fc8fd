from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from openhotline.accounts.access import request_user
from openhotline.accounts.decorators import staff_required
from openhotline.demo.mailbox import caught_notices


@staff_required
def mailbox(request: HttpRequest) -> HttpResponse:
    """What the demo's mail catcher received: the notices of the user's hotlines."""
    if not settings.OPENHOTLINE_DEMO:
        raise Http404("Not a demo")
    return render(
        request, "demo/mailbox.html", {"messages_caught": caught_notices(request_user(request))}
    )
