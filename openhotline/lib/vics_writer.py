"""Writing VICS 2.0 JSON (`#Media` or `#Cases`) for police and partner hotlines.

Strict on output (shared/FORMATS.md): the 2.0 context, MD5 and SHA1 in upper case
as distributed sets have them, real JSON booleans and numbers, PDQ in
AlternativeHashes, the source URL in MediaFiles[].FilePath, ASCII-only JSON.
Records are written one by one, so an export of any size needs little memory.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal, TextIO
from urllib.parse import urlsplit

from openhotline.lib.hashlist import normalize_hash
from openhotline.lib.vics import VicsCase, VicsMedia

CONTEXT_TEMPLATE = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{profile}/$metadata#{shape}"
)
PROFILES = ("Default", "US", "UK", "CUSTOM")
APPLICATION_NAME = "openhotline"


class Verdict(StrEnum):
    BASELINE = "baseline"
    NATIONAL_REAL = "national_real"
    NATIONAL_VIRTUAL = "national_virtual"
    NOT_ILLEGAL = "not_illegal"


# Our mapping on export (shared/FORMATS.md), in the US profile's category numbers.
VERDICT_CATEGORY = {
    Verdict.BASELINE: 1,
    Verdict.NATIONAL_REAL: 1,
    Verdict.NATIONAL_VIRTUAL: 3,
    Verdict.NOT_ILLEGAL: 0,
}


def category_for(verdict: Verdict | str) -> int:
    return VERDICT_CATEGORY[Verdict(verdict)]


class VicsWriter:
    """Stream media records into a VICS 2.0 file.

    Use as a context manager; the closing brackets are written only when the block
    ends without an exception, so a failed export is visibly not valid JSON.
    """

    def __init__(
        self,
        file: TextIO,
        *,
        shape: Literal["Media", "Cases"] = "Media",
        profile: str = "US",
        case: VicsCase | None = None,
        application_version: str = "",
    ) -> None:
        if shape not in ("Media", "Cases"):
            raise ValueError(f"shape must be Media or Cases, not {shape!r}")
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, not {profile!r}")
        self._file = file
        self._shape = shape
        self._case = case or VicsCase()
        self._application_version = application_version
        self.count = 0
        context = CONTEXT_TEMPLATE.format(profile=profile, shape=shape)
        file.write("{" + f'"@odata.context": {json.dumps(context)},\n"value": [')
        if shape == "Cases":
            file.write(self._case_json()[:-1] + ',\n"Media": [')

    def write(self, media: VicsMedia) -> None:
        self.count += 1
        self._file.write(("\n" if self.count == 1 else ",\n") + media_json(media, self.count))

    def close(self) -> None:
        if self._shape == "Cases":
            self._file.write(f'\n],\n"TotalMediaFiles": {self.count}' + "}")
        self._file.write("\n]}\n")

    def __enter__(self) -> VicsWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()

    def _case_json(self) -> str:
        case = self._case
        data = {
            "CaseID": case.case_id or str(uuid.uuid4()),
            "CaseNumber": case.case_number,
            "ContactEmail": case.contact_email,
            "SourceApplicationName": case.source_application_name or APPLICATION_NAME,
            "SourceApplicationVersion": (
                case.source_application_version or self._application_version or None
            ),
        }
        return json.dumps({k: v for k, v in data.items() if v is not None})


def media_json(media: VicsMedia, default_id: int) -> str:
    """One media record as compact JSON; fields without a value are left out."""
    md5 = normalize_hash("md5", media.md5).upper() if media.md5 else None
    data: dict[str, Any] = {
        "MediaID": media.media_id if media.media_id is not None else default_id,
        "Category": media.category,
        "MD5": md5,
        "SHA1": normalize_hash("sha1", media.sha1).upper() if media.sha1 else None,
        "PhotoDNA": media.photodna,
        "MediaSize": media.media_size,
        "MimeType": media.mime_type,
        "RelativeFilePath": media.relative_file_path,
        "DateUpdated": _iso(media.date_updated),
        "IsPrecategorized": media.is_precategorized,
        "IsDistributed": media.is_distributed,
        "IsSuspected": media.is_suspected,
        "VictimIdentified": media.victim_identified,
        "OffenderIdentified": media.offender_identified,
        "Series": media.series,
        "Tags": media.tags,
        "Comments": media.comments,
    }
    data = {k: v for k, v in data.items() if v is not None or k == "Category"}
    alternatives = []
    if media.pdq:
        alternatives.append(_alternative(md5, "PDQ", normalize_hash("pdq", media.pdq)))
    if media.sha256:
        alternatives.append(_alternative(md5, "SHA256", normalize_hash("sha256", media.sha256)))
    if alternatives:
        data["AlternativeHashes"] = alternatives
    if media.file_paths:
        data["MediaFiles"] = [_media_file(md5, path) for path in media.file_paths]
    return json.dumps(data, ensure_ascii=True)


def _alternative(md5: str | None, name: str, value: str) -> dict[str, str]:
    entry = {"HashName": name, "HashValue": value}
    return {"MD5": md5, **entry} if md5 else entry


def _media_file(md5: str | None, path: str) -> dict[str, str]:
    name = urlsplit(path).path.rstrip("/").rpartition("/")[2] or path
    entry = {"FileName": name, "FilePath": path}
    return {"MD5": md5, **entry} if md5 else entry


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("DateUpdated must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
