"""The JSON API at ``/api/v1/``, with its OpenAPI schema at ``/api/v1/openapi.json``.

Each app contributes a router (``<app>/api.py``) added below. Clients
authenticate with an organisation's API key, sent as ``Authorization:
Bearer oh_…`` or ``X-API-Key: oh_…``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
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

# Answers any operation may give, whatever its own list says: a body or
# parameter that cannot be parsed (400), no valid key (401), a value that breaks
# a rule of the schema or of the API (422, with the path of the field).
_COMMON_ERRORS = {
    "400": "The body or a parameter cannot be parsed (e.g. not JSON).",
    "401": "No API key, or one that is unknown, revoked or expired.",
    "422": "A field breaks a rule: ``detail`` lists each problem with its ``loc``.",
}
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"description": "a message, or a list of problems"}},
    "required": ["detail"],
}


class OpenHotlineAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """The generated schema, with the error answers every operation may give."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for path in schema["paths"].values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                for status, description in _COMMON_ERRORS.items():
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": _ERROR_SCHEMA}},
                        },
                    )
        return schema


api = OpenHotlineAPI(
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
