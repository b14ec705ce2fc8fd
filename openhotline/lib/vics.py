"""Reading Project VIC "VICS" JSON hash sets (1.x and 2.0, `#Media` and `#Cases`).

National hash sets hold hundreds of thousands of records and come from many tools,
each with its quirks (see shared/FORMATS.md). The reader therefore streams with
ijson, takes strings for booleans and numbers, and judges each record on its own:
it yields a `VicsMedia` or a `VicsRejection` per record and goes on. Only a file
that cannot be parsed any further (truncated, not JSON, absurdly large tokens or
nesting) stops it, with a `VicsError` saying where.

Memory stays bounded: records are built one at a time from parser events, fields
we do not use are skipped without being built, and a guard in front of the parser
refuses any single string or number much longer than `max_string` (six times, the
most JSON escapes can take) before the parser has to hold it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import ijson

from openhotline.lib.hashlist import normalize_hash
from openhotline.lib.vics_fields import (
    CASE_FIELDS,
    MEDIA_FIELDS,
    RecordProblem,
    VicsError,
    as_bool,
    as_int,
    as_str,
)
from openhotline.lib.vics_stream import READ_SIZE, Builder, Limits, TokenGuard, map_keys, skip

_CONTEXT_1X_RE = re.compile(r"/DataModels/(1\.\d+)\.xml#(\w+)\s*$", re.IGNORECASE)
_CONTEXT_20_RE = re.compile(r"/DataModels/(2\.\d+)\.xml/([^/]+)/\$metadata#(\w+)\s*$", re.I)
_ALT_HASH_NAMES = {
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha256": "sha256",
    "sha-256": "sha256",
    "pdq": "pdq",
    "photodna": "photodna",
}


@dataclass(frozen=True, kw_only=True)
class VicsMedia:
    """One media record, normalised: hashes lower-case hex, flags and numbers typed."""

    number: int = 0  # 1-based position among the file's media records
    media_id: int | None = None
    category: int | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    photodna: str | None = None
    media_size: int | None = None
    mime_type: str | None = None
    relative_file_path: str | None = None
    file_paths: tuple[str, ...] = ()
    date_updated: datetime | None = None
    is_precategorized: bool | None = None
    is_distributed: bool | None = None
    is_suspected: bool | None = None
    victim_identified: bool | None = None
    offender_identified: bool | None = None
    series: str | None = None
    tags: str | None = None
    comments: str | None = None
    case_id: str | None = None


@dataclass(frozen=True)
class VicsRejection:
    number: int  # 1-based position among the file's media records
    reason: str


@dataclass
class VicsCase:
    case_id: str | None = None
    case_number: str | None = None
    contact_email: str | None = None
    source_application_name: str | None = None
    source_application_version: str | None = None
    total_media_files: int | None = None


@dataclass
class VicsHeader:
    """What the file says about itself; filled in as the reader meets it."""

    context: str | None = None
    version: str | None = None  # "1.3", "2.0", ...
    profile: str | None = None  # 2.0 only: "Default", "US", "UK", "CUSTOM"
    shape: str | None = None  # "Media" or "Cases"
    cases: list[VicsCase] = field(default_factory=list)


class VicsReader:
    """Iterate over a VICS file opened in binary mode: `for item in VicsReader(f): ...`."""

    def __init__(
        self,
        file: IO[bytes],
        *,
        max_string: int = 65536,
        max_values: int = 10000,
        max_depth: int = 16,
    ) -> None:
        self.header = VicsHeader()
        self.limits = Limits(max_string=max_string, max_values=max_values, max_depth=max_depth)
        self._guard = TokenGuard(file, max(6 * max_string + 64, 2 * READ_SIZE))
        self._count = 0

    def __iter__(self) -> Iterator[VicsMedia | VicsRejection]:
        events = ijson.basic_parse(self._guard, use_float=True, buf_size=READ_SIZE)
        try:
            yield from self._document(events)
        except ijson.JSONError as exc:
            if self._guard.empty:
                raise VicsError("The file is empty") from None
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise VicsError(f"{self._where()}: the file is not valid JSON ({reason})") from None
        except (ValueError, OverflowError) as exc:
            if isinstance(exc, VicsError):
                raise
            raise VicsError(f"{self._where()}: {exc}") from None

    def _where(self) -> str:
        return f"Near byte {self._guard.offset}, after record {self._count}"

    def _document(self, events: Iterator[tuple[str, Any]]) -> Iterator[VicsMedia | VicsRejection]:
        event, _ = next(events, ("eof", None))
        if event != "start_map":
            raise VicsError("The file does not hold a JSON object (a VICS file starts with {)")
        seen_value = False
        for key in map_keys(events):
            if key in ("odata.metadata", "@odata.context"):
                event, value = next(events)
                if event != "string":
                    raise VicsError(f"{key} must be a string")
                self._read_context(key, value)
            elif key == "value":
                seen_value = True
                event, _ = next(events)
                if event != "start_array":
                    raise VicsError('"value" must be a list of records')
                yield from self._items(events)
            else:
                skip(events, next(events)[0])
        if next(events, None) is not None:
            raise VicsError("Unexpected content after the end of the VICS object")
        if not seen_value:
            raise VicsError('The file has no "value" list of records')

    def _read_context(self, key: str, context: str) -> None:
        self.header.context = context
        if match := _CONTEXT_20_RE.search(context):
            self.header.version, self.header.profile, shape = match.groups()
        elif match := _CONTEXT_1X_RE.search(context):
            self.header.version, shape = match.groups()
        else:
            self.header.version = "2.0" if key.startswith("@") else "1.x"
            shape = context.rpartition("#")[2]
        self.header.shape = {"media": "Media", "cases": "Cases"}.get(shape.lower())

    def _items(self, events: Iterator[tuple[str, Any]]) -> Iterator[VicsMedia | VicsRejection]:
        for event, _value in events:
            if event == "end_array":
                return
            if event != "start_map":
                skip(events, event)
                self._count += 1
                yield VicsRejection(self._count, f"a record must be an object, not {event}")
                continue
            yield from self._item(events)

    def _item(self, events: Iterator[tuple[str, Any]]) -> Iterator[VicsMedia | VicsRejection]:
        """One element of "value": a case holding a Media list, or a media record."""
        fields: dict[str, Any] = {}
        problems: list[str] = []
        case: VicsCase | None = None
        builder = Builder(self.limits, problems)
        for key in map_keys(events):
            name = key.lower()
            event, value = next(events)
            if name == "media" and event == "start_array" and self.header.shape != "Media":
                case = _case(fields)
                self.header.cases.append(case)
                yield from self._case_media(events, case)
            elif name in MEDIA_FIELDS or name in CASE_FIELDS:
                fields[name] = builder.build(events, event, value)
            else:
                skip(events, event)
        if case is not None:
            # Fields after the Media list (TotalMediaFiles often is) complete the case.
            later = _case(fields)
            for attribute, value in vars(later).items():
                if getattr(case, attribute) is None:
                    setattr(case, attribute, value)
        elif self.header.shape == "Cases":
            self.header.cases.append(_case(fields))
        else:
            yield self._media(fields, problems, None)

    def _case_media(
        self, events: Iterator[tuple[str, Any]], case: VicsCase
    ) -> Iterator[VicsMedia | VicsRejection]:
        for event, _ in events:
            if event == "end_array":
                return
            problems: list[str] = []
            fields: dict[str, Any] = {}
            builder = Builder(self.limits, problems)
            if event == "start_map":
                for key in map_keys(events):
                    name = key.lower()
                    inner, value = next(events)
                    if name in MEDIA_FIELDS:
                        fields[name] = builder.build(events, inner, value)
                    else:
                        skip(events, inner)
            else:
                skip(events, event)
                problems.append(f"a record must be an object, not {event}")
            yield self._media(fields, problems, case.case_id)

    def _media(
        self, fields: dict[str, Any], problems: list[str], case_id: str | None
    ) -> VicsMedia | VicsRejection:
        self._count += 1
        if problems:
            return VicsRejection(self._count, "; ".join(problems))
        try:
            return _parse_media(self._count, fields, case_id)
        except RecordProblem as exc:
            return VicsRejection(self._count, str(exc))


def read_vics(file: IO[bytes], **limits: int) -> Iterator[VicsMedia | VicsRejection]:
    """Shorthand for `iter(VicsReader(file, ...))` when the header is not needed."""
    return iter(VicsReader(file, **limits))


def _parse_media(number: int, fields: dict[str, Any], case_id: str | None) -> VicsMedia:
    hashes: dict[str, str] = {}
    for name in ("md5", "sha1", "sha256"):
        text = as_str(fields.get(name), name.upper())
        if text:
            hashes[name] = _hash(name, text)
    photodna = as_str(fields.get("photodna"), "PhotoDNA") or None
    for entry in _list_of_objects(fields.get("alternativehashes"), "AlternativeHashes"):
        kind = _ALT_HASH_NAMES.get((as_str(entry.get("hashname"), "HashName") or "").lower())
        value = as_str(entry.get("hashvalue"), "HashValue")
        if kind is None or not value:
            continue
        if kind == "photodna":
            photodna = photodna or value
        elif kind not in hashes:
            hashes[kind] = _hash(kind, value)
    if not hashes and photodna is None:
        raise RecordProblem("the record has no MD5, SHA1, SHA256, PDQ or PhotoDNA hash")
    paths = []
    for entry in _list_of_objects(fields.get("mediafiles"), "MediaFiles"):
        path = as_str(entry.get("filepath"), "MediaFiles.FilePath")
        if path:
            paths.append(path)
    return VicsMedia(
        number=number,
        media_id=as_int(fields.get("mediaid"), "MediaID"),
        category=as_int(fields.get("category"), "Category", minimum=0),
        photodna=photodna,
        media_size=as_int(fields.get("mediasize"), "MediaSize", minimum=0),
        mime_type=as_str(fields.get("mimetype"), "MimeType") or None,
        relative_file_path=as_str(fields.get("relativefilepath"), "RelativeFilePath") or None,
        file_paths=tuple(paths),
        date_updated=_date(fields.get("dateupdated")),
        is_precategorized=as_bool(fields.get("isprecategorized"), "IsPrecategorized"),
        is_distributed=as_bool(fields.get("isdistributed"), "IsDistributed"),
        is_suspected=as_bool(fields.get("issuspected"), "IsSuspected"),
        victim_identified=as_bool(fields.get("victimidentified"), "VictimIdentified"),
        offender_identified=as_bool(fields.get("offenderidentified"), "OffenderIdentified"),
        series=as_str(fields.get("series"), "Series") or None,
        tags=as_str(fields.get("tags"), "Tags") or None,
        comments=as_str(fields.get("comments"), "Comments") or None,
        case_id=case_id,
        **hashes,
    )


def _case(fields: dict[str, Any]) -> VicsCase:
    def text(name: str) -> str | None:
        value = fields.get(name)
        return str(value) if isinstance(value, str | int) and value != "" else None

    total = fields.get("totalmediafiles")
    try:
        total_files = as_int(total, "TotalMediaFiles", minimum=0)
    except RecordProblem:
        total_files = None
    return VicsCase(
        case_id=text("caseid"),
        case_number=text("casenumber"),
        contact_email=text("contactemail"),
        source_application_name=text("sourceapplicationname"),
        source_application_version=text("sourceapplicationversion"),
        total_media_files=total_files,
    )


def _hash(kind: str, value: str) -> str:
    try:
        return normalize_hash(kind, value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise RecordProblem(str(exc)) from None


def _list_of_objects(value: Any, name: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RecordProblem(f"{name} must be a list of objects")
    return value


def _date(value: Any) -> datetime | None:
    """DateUpdated as an aware datetime; a date we cannot read is dropped, not fatal."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
