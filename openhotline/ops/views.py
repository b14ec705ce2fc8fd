from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from openhotline.ops.health import hosting_data, index_replicas, readiness


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    ready = all(check.ok for check in checks)
    body = {
        "ready": ready,
        "checks": {c.name: {"ok": c.ok, "reason": c.reason} for c in checks},
    }
    try:
        # Each worker machine's PDQ index serial and lag (docs/operations.md).
        body["index_replicas"] = index_replicas()
    except Exception as exc:
        body["index_replicas"] = {"error": str(exc)}
    # Dated data sets: a warning when old, never a reason to be unready.
    body["hosting_data"], body["warnings"] = hosting_data()
    if not ready:
        body["reason"] = "; ".join(c.reason for c in checks if not c.ok)
    return JsonResponse(body, status=200 if ready else 503)
