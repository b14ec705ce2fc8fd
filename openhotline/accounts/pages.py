"""The scaffolding staff pages share, written once.

- ``hotline_index``: the entry page of a per-hotline section (blocklist,
  takedown): straight to the user's only hotline, or a choice of them.
- ``act``: run a ``do_*`` action for a POST, show its refusal as an error
  message (the action's own words) or a success message, and hand back
  its result for the redirect.
- ``act_on_each``: the bulk form of ``act``: the same per-row action, with its
  own guards and transaction, for every selected row; one message says how
  many were done and which rows were refused, and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from openhotline.accounts.access import hotlines_for_user, request_user

T = TypeVar("T")
R = TypeVar("R")


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


def act_on_each(
    request: HttpRequest,
    rows: Iterable[R],
    action: Callable[[R], object],
    *,
    label: Callable[[R], str],
    refused: type[Exception] | tuple[type[Exception], ...],
) -> tuple[int, list[tuple[str, str]]]:
    """Run ``action`` on each row on its own; report what was done and what was refused.

    Each row goes through the same ``do_*`` action as its one-row button, so
    the same guards apply; a refusal stops nothing but that row. Returns the
    count done and ``(label, reason)`` for each refused row.
    """
    done = 0
    refusals: list[tuple[str, str]] = []
    for row in rows:
        try:
            action(row)
        except refused as exc:
            refusals.append((label(row), str(exc)))
        else:
            done += 1
    if done:
        messages.success(request, _("Done for %(n)s selected.") % {"n": done})
    if refusals:
        messages.error(
            request,
            _("Refused for %(n)s: %(rows)s")
            % {"n": len(refusals), "rows": "; ".join(f"{name}: {why}" for name, why in refusals)},
        )
    if not done and not refusals:
        messages.warning(request, _("Nothing was selected."))
    return done, refusals
