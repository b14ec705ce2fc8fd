"""The scaffolding staff pages share, written once.

- ``hotline_index``: the entry page of a per-hotline section (blocklist,
  takedown): straight to the user's only hotline, or a choice of them.
- ``act``: run a ``do_*`` action for a POST, show its refusal as an error
  message (the action's own words) or a success message, and hand back
  its result for the redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openhotline.accounts.access import hotlines_for_user, request_user

T = TypeVar("T")


def hotline_index(request: HttpRequest, *, url_name: str, template: str) -> HttpResponse:
    """Redirect to ``url_name`` of the user's only hotline, or list their hotlines."""
    hotlines = list(hotlines_for_user(request_user(request)))
    if len(hotlines) == 1:
        return redirect(url_name, slug=hotlines[0].slug)
    return render(request, template, {"hotlines": hotlines})


def act(
    request: HttpRequest,
    action: Callable[[], T],
    *,
    refused: type[Exception] | tuple[type[Exception], ...],
    done: str | Callable[[T], str] | None = None,
) -> T | None:
    """Run ``action``; on ``refused`` show its message and return None, else show ``done``.

    ``done`` may be a function of the result, for a message that names
    what the action made or changed.
    """
    try:
        result = action()
    except refused as exc:
        messages.error(request, str(exc))
        return None
    if done is not None:
        messages.success(request, done if isinstance(done, str) else done(result))
    return result
