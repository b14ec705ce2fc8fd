"""The hashing and matching API: ``POST /api/v1/hash``, ``POST /api/v1/match``,
``GET /api/v1/hashsets``.

Any active key of a hotline, police force, INTERPOL or partner may use them
(read scope is enough: nothing is stored). Uploads stay in memory and are
limited by ``OPENHOTLINE_MATCHING_MAX_UPLOAD``. Matches come only from the sets
the key's organisation may see (``matching.access``); a lookup is audited.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import Field
from pydantic import ValidationError as PydanticError

from openhotline.accounts.access import request_api_key
from openhotline.accounts.models import ApiKey, OrgKind
from openhotline.lib.hashlist import normalize_hash
from openhotline.matching.access import sets_visible_to, shows_metadata
from openhotline.matching.actions.hash_sets import do_record_lookup
from openhotline.matching.filehashes import hash_file
from openhotline.matching.lookup import Query, find_matches, found_json
from openhotline.matching.uploads import UploadMissing, UploadTooLarge, read_upload

router = Router(tags=["matching"])

ALLOWED_KINDS = frozenset({OrgKind.HOTLINE, OrgKind.LEA, OrgKind.INTERPOL, OrgKind.PARTNER})
MAX_FRAMES = 4 * 3600


class MessageOut(Schema):
    detail: Any


class FrameIn(Schema):
    pdq: str = Field(..., description="64 hex characters")
    quality: int = Field(100, ge=0, le=100)


class HashesIn(Schema):
    md5: str = ""
    sha1: str = ""
    sha256: str = ""
    pdq: str = Field("", description="64 hex characters")
    pdq_quality: int | None = Field(None, ge=0, le=100, description="below 50 is not matched")
    vpdq: list[FrameIn] = Field(default_factory=list, max_length=MAX_FRAMES)


class FrameOut(Schema):
    frame: int
    timestamp: float
    pdq: str
    quality: int


class HashesOut(Schema):
    md5: str
    sha1: str
    sha256: str
    size: int
    kind: str = Field(..., description="image, video or other")
    pdq: str | None
    pdq_quality: int | None
    vpdq: list[FrameOut] | None = Field(None, description="videos: one hash per sampled frame")
    error: str | None = None


class SetOut(Schema):
    code: str
    name: str
    source: str
    trust: str
    shared: bool


class MatchItemOut(Schema):
    set: SetOut
    kind: str = Field(..., description="md5, sha1, sha256, pdq or vpdq")
    distance: int = Field(..., description="Hamming distance (0 for exact hashes)")
    verdict: str
    entry: dict[str, Any]
    detail: dict[str, Any] | None = None


class MatchOut(Schema):
    hashes: dict[str, Any] | None = Field(None, description="the uploaded file's hashes")
    matches: list[MatchItemOut]


class HashSetOut(SetOut):
    entries: int
    pdq_threshold: int


_ERRORS: dict[int | tuple[int, ...], Any] = {(400, 401, 403, 413, 422): MessageOut}
_FILE_CONTENT: dict[str, Any] = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary", "minLength": 1}},
            "required": ["file"],
        }
    },
    "application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}},
}


def _inline_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its ``$defs`` written in place: the OpenAPI document
    has no ``$defs`` section, so ``#/$defs/FrameIn`` would not resolve there."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return dict(resolve(schema))


_UPLOAD = {"requestBody": {"required": True, "content": _FILE_CONTENT}}
_MATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            **_FILE_CONTENT,
            "application/json": {"schema": _inline_defs(HashesIn.model_json_schema())},
        },
    }
}


def _key(request: HttpRequest) -> ApiKey:
    key = request_api_key(request)
    if key.organisation.kind not in ALLOWED_KINDS:
        raise HttpError(403, "this key's organisation may not use the matching API")
    return key


def _upload(request: HttpRequest) -> bytes:
    try:
        return read_upload(request, settings.OPENHOTLINE_MATCHING_MAX_UPLOAD)
    except UploadTooLarge as exc:
        raise HttpError(413, str(exc)) from None
    except UploadMissing as exc:
        raise HttpError(400, str(exc)) from None


@router.post(
    "/hash",
    response={200: HashesOut, **_ERRORS},
    summary="Hash a file",
    openapi_extra=_UPLOAD,
)
def hash_upload(request: HttpRequest) -> JsonResponse:
    """MD5, SHA-1, SHA-256 and, for an image, PDQ with its quality; for a video, the
    vPDQ frame hashes. The file is read in memory and not kept."""
    _key(request)
    return JsonResponse(hash_file(_upload(request)).to_json())


class BadHashes(Exception):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(problems)
        self.problems = problems


def _query_from_json(body: bytes) -> Query:
    try:
        data = HashesIn.model_validate_json(body or b"{}")
    except PydanticError as exc:
        raise BadHashes(
            [{"loc": ["body", *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        ) from None
    values: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    for kind in ("md5", "sha1", "sha256", "pdq"):
        if getattr(data, kind):
            try:
                values[kind] = normalize_hash(kind, getattr(data, kind))
            except ValueError as exc:
                problems.append({"loc": ["body", kind], "msg": str(exc)})
    frames = []
    for number, frame in enumerate(data.vpdq):
        try:
            frames.append((normalize_hash("pdq", frame.pdq), frame.quality))
        except ValueError as exc:
            problems.append({"loc": ["body", "vpdq", number, "pdq"], "msg": str(exc)})
    if not values and not frames and not problems:
        problems.append({"loc": ["body"], "msg": "give md5, sha1, sha256, pdq or vpdq"})
    if problems:
        raise BadHashes(problems)
    pdq = values.pop("pdq", "")
    return Query(
        **values, pdq=(pdq,) if pdq else (), pdq_quality=data.pdq_quality, frames=tuple(frames)
    )


@router.post(
    "/match",
    response={200: MatchOut, **_ERRORS},
    summary="Look a file or hashes up in the hash sets",
    openapi_extra=_MATCH_BODY,
)
def match(request: HttpRequest) -> JsonResponse:
    """Send a file (multipart field ``file`` or the raw body) or its hashes (JSON:
    ``md5``, ``sha1``, ``sha256``, ``pdq``, ``vpdq``). Answers every entry matched in
    the sets your organisation may see, with the integer distance, the set, and the
    entry (its metadata for hotlines, police and INTERPOL only)."""
    key = _key(request)
    organisation = key.organisation
    hashes: dict[str, Any] | None = None
    if request.content_type == "application/json":
        try:
            query = _query_from_json(request.body)
        except BadHashes as exc:
            return JsonResponse({"detail": exc.problems}, status=422)
    else:
        file_hashes = hash_file(_upload(request))
        hashes = file_hashes.to_json()
        query = file_hashes.query()
    found = find_matches(query, sets_visible_to(organisation))
    do_record_lookup(key, found)
    metadata = shows_metadata(organisation)
    return JsonResponse(
        {"hashes": hashes, "matches": [found_json(f, metadata=metadata) for f in found]}
    )


@router.get("/hashsets", response={200: list[HashSetOut], **_ERRORS}, summary="Hash sets")
def hash_sets(request: HttpRequest) -> JsonResponse:
    """The active hash sets your organisation's lookups are matched against."""
    key = _key(request)
    sets = (
        sets_visible_to(key.organisation)
        .filter(active=True)
        .annotate(entry_count=Count("entries"))
        .order_by("name")
    )
    return JsonResponse(
        [
            {
                "code": s.code,
                "name": s.name,
                "source": s.source,
                "trust": s.trust,
                "shared": s.is_shared(),
                "entries": s.entry_count,
                "pdq_threshold": s.pdq_threshold,
            }
            for s in sets
        ],
        safe=False,
    )
