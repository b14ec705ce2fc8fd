"""The shapes of the partner report API, as documented in the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class FileHashIn(Schema):
    algorithm: str = Field(
        ..., max_length=50, description="md5, sha1, sha256, pdq, or another name (kept as given)"
    )
    value: str = Field(..., max_length=512, description="hexadecimal for the known algorithms")
    file_name: str = Field("", max_length=255)
    url: str = Field("", max_length=4096, description="where the file was found; also reported")


class ReportIn(Schema):
    urls: list[str] = Field(
        default_factory=list, description="URLs to report (at most 50 by default)"
    )
    description: str = Field("", max_length=5000, description="needed when there is no URL")
    where_found: str = Field("", max_length=200)
    comment: str = Field("", max_length=5000)
    external_ref: str = Field("", max_length=200, description="the partner's own reference")
    escalate: bool = Field(False, description="raises the priority of the URLs")
    incident_at: datetime | None = Field(None, description="ISO 8601 with a time zone")
    hotline: str = Field(
        "",
        max_length=60,
        description="slug of the receiving hotline; default: the key's own hotline, or the "
        "installation's public hotline",
    )
    file_hashes: list[FileHashIn] = Field(default_factory=list, max_length=1000)


class UrlOut(Schema):
    normalized_url: str
    new: bool = Field(
        ...,
        description="true when the receiving hotline did not know the URL before this report "
        "(its assessment is never shown)",
    )


class ReportOut(Schema):
    code: str = Field(..., description="the report's code, for GET /reports/{code}")
    hotline: str = Field(..., description="name of the hotline that received it")
    state: str = Field(..., description="received, assessing or closed")
    received_at: datetime
    urls: list[UrlOut]


class ErrorItem(Schema):
    loc: list[str | int] = Field(..., description="path of the field or XML element")
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[ErrorItem]


class MessageOut(Schema):
    detail: str
