"""The JSON API at ``/api/v1/``, with its OpenAPI schema at ``/api/v1/openapi.json``.

Each app contributes a router (``<app>/api.py``) added below. Clients
authenticate with an organisation's API key, sent as ``Authorization:
Bearer oh_…`` or ``X-API-Key: oh_…``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import APIKeyHeader, HttpBearer

from openhotline.accounts.access import get_api_key
from openhotline.accounts.models import ApiKey


class BearerKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return get_api_key(token)


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return get_api_key(key) if key else None


api_key_auth: list[Any] = [BearerKey(), HeaderKey()]

api = NinjaAPI(
    title="openhotline API",
    version="1",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=api_key_auth,
)

# Routers of the apps (each app adds one line here).
api.add_router("/", "openhotline.intake.api.router")
api.add_router("/", "openhotline.matching.api.router")
api.add_router("/lea/", "openhotline.network.api.router")
