"""NUL characters (U+0000) are refused in every request and every imported field.

PostgreSQL cannot store a NUL in a text or JSON column: one that reaches a
query raises a ``ValueError`` or ``DataError`` (a 500, or an import that dies
half-way). SQLite stores it silently, so the same input behaves differently on
the two databases. Nothing a person types contains one, so it is refused at
the door: ``RefuseNulMiddleware`` checks the path, the query string, form
fields and JSON bodies of every request, and the importers call
``nul_path`` on each record they read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

NUL = "\x00"
MESSAGE = "NUL characters (U+0000) are not accepted"
# Bodies the middleware parses; any other body (a file, XML) is its reader's to check.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

Path = list[str | int]


def nul_path(value: Any, path: Path | None = None) -> Path | None:
    """The path (keys and indexes) to the first string holding a NUL, or None."""
    path = path or []
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                return [*path, key]
            found = nul_path(item, [*path, key])
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = nul_path(item, [*path, index])
            if found is not None:
                return found
    return None


class RefuseNulMiddleware:
    """Answer 400 (422 with the field's ``loc`` in the JSON API) to a request carrying a NUL.

    Runs as ``process_view`` so that it knows the view: the multipart body of a
    CSRF-exempt view (the API's uploads) is left unread, because such a view
    may install its own upload handlers before the body is parsed. A body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is left to the view's own size refusal.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponse],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        loc = _find_nul(request, csrf_exempt=getattr(view, "csrf_exempt", False))
        if loc is None:
            return None
        if request.path_info.startswith("/api/"):
            error = {"loc": loc, "msg": MESSAGE, "type": "value_error"}
            return JsonResponse({"detail": [error]}, status=422)
        where = " ".join(str(part) for part in loc)
        return HttpResponse(
            f"Bad request: {MESSAGE} (in {where}).\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )


def _find_nul(request: HttpRequest, *, csrf_exempt: bool) -> Path | None:
    if NUL in request.path_info:
        return ["path"]
    for key, values in request.GET.lists():
        found = nul_path({key: values})
        if found is not None:
            return ["query", *found[:1]]
    if request.method not in {"POST", "PUT", "PATCH"}:
        return None
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length > limit:
        return None
    content_type = request.content_type or ""
    try:
        if content_type in FORM_TYPES:
            if content_type == "multipart/form-data" and csrf_exempt:
                return None
            return _form_nul(request)
        if content_type == "application/json" or content_type.endswith("+json"):
            return _json_nul(request.body)
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, MultiPartParserError):
        return None  # the view refuses these with its own answer
    return None


def _form_nul(request: HttpRequest) -> Path | None:
    for key, values in request.POST.lists():
        found = nul_path({key: values})
        if found is not None:
            return ["form", *found[:1]]
    for key, files in request.FILES.lists():
        if any(NUL in (upload.name or "") for upload in files):
            return ["form", key]
    return None


def _json_nul(body: bytes) -> Path | None:
    # A NUL in JSON is the escape \u0000 (a raw one is malformed JSON, which the
    # view refuses). Parsing only when the escape appears keeps this cheap.
    if b"\\u0000" not in body and b"\x00" not in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return ["body"] if b"\x00" in body else None
    found = nul_path(data)
    return None if found is None else ["body", *found]
