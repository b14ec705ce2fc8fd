"""The providers' feed: ``/feed/v1/blocklist.{rpz,hosts,unbound,dnsmasq,csv,json,squid}``.

A provider authenticates with its organisation's API key (``Authorization:
Bearer oh_…`` or ``X-API-Key``), revalidates with ``If-None-Match`` (the ETag
names the hotline, version, format and action), and may ask for the changes
since a version with ``?since=SERIAL`` (CSV and JSON). Every fetch is logged
for the hotline, with the version served, so it knows who is up to date.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_safe

from openhotline.accounts.access import get_api_key
from openhotline.accounts.models import ApiKey
from openhotline.blocking.access import AmbiguousHotline, hotline_for_provider
from openhotline.blocking.exportfiles import diff_document, ensure_export
from openhotline.blocking.exports import (
    ACTIONS,
    CONTENT_TYPES,
    FORMAT_REVISION,
    FORMATS,
    ExportError,
    ExportOptions,
)
from openhotline.blocking.models import FeedFetch
from openhotline.blocking.versions import current_publication, diff

DIFF_FORMATS = ("csv", "json")


def _presented_key(request: HttpRequest) -> ApiKey | None:
    header = request.headers.get("Authorization", "")
    raw = header[7:] if header[:7].lower() == "bearer " else request.headers.get("X-API-Key", "")
    return get_api_key(raw) if raw else None


def _plain(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="openhotline feed"'
    return response


def _etag_matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    presented = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in presented or "*" in presented


@require_safe
def blocklist(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """Serve the live version (or a diff) of the list the provider's key may read.

    1. Authenticate the key; a missing, wrong or revoked key gets 401.
    2. Find the list: the hotline of the provider's country (404 otherwise).
    3. Answer 304 when the provider already has this version.
    4. Serve the cached export file, or the diff since ``?since=``.
    5. Log the fetch.
    """
    if fmt not in FORMATS:
        raise Http404("No such format")
    key = _presented_key(request)
    if key is None:
        return _plain(401, "an active API key of an internet provider is required")
    try:
        hotline = hotline_for_provider(key, request.GET.get("hotline"))
    except AmbiguousHotline as exc:
        return _plain(400, str(exc))
    publication = current_publication(hotline)
    if publication is None:
        return _plain(404, "no version of this list has been published yet")
    action = request.GET.get("action", "")
    if action and action not in ACTIONS:
        return _plain(400, f"action must be one of {', '.join(ACTIONS)}")
    options = ExportOptions.from_settings(action or None)
    since: int | None = None
    if "since" in request.GET:
        if fmt not in DIFF_FORMATS:
            return _plain(400, "?since= is offered for csv and json; DNS formats are fetched whole")
        try:
            since = int(request.GET["since"])
        except ValueError:
            return _plain(400, "since must be a version number")
        if not 0 <= since <= publication.serial:
            return _plain(400, f"since must be between 0 and {publication.serial}")
    etag = f'"{hotline.slug}-{publication.serial}-{fmt}-{options.action}-r{FORMAT_REVISION}'
    etag += f'-since{since}"' if since is not None else '"'

    def log(status: int) -> None:
        FeedFetch.objects.create(
            isp=key.organisation,
            hotline=hotline,
            api_key=key,
            format=fmt,
            serial=publication.serial,
            since=since,
            status=status,
        )

    response: HttpResponseBase
    if _etag_matches(request, etag):
        log(304)
        response = HttpResponse(status=304)
    elif since is not None:
        log(200)
        body = diff_document(fmt, diff(hotline, since, publication.serial), hotline)
        response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    else:
        try:
            path = ensure_export(hotline, publication, fmt, options)
        except ExportError as exc:
            # Logged too: the hotline sees the failed fetch beside its providers.
            log(503)
            return _plain(503, f"the hotline's export is not configured: {exc}")
        log(200)
        response = FileResponse(path.open("rb"), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'inline; filename="blocklist.{fmt}"'
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["X-Blocklist-Version"] = str(publication.serial)
    return response
