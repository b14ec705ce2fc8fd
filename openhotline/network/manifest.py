"""The VICS 2.0 manifest and CSV of police packages and of forwards to other hotlines.

Per media item: the VICS category from our verdict (shared/FORMATS.md: baseline
and real nationally illegal 1, virtual 3), MD5 and SHA1, PDQ and SHA256 in
``AlternativeHashes``, every URL it was found at in ``MediaFiles[].FilePath``,
and the date of the classification in ``DateUpdated``. Police packages add
what ICSE ingestion uses besides: the case's contact address, ``Series``
from matched hash sets and ``VictimIdentified`` from the police's feedback.
"""

from __future__ import annotations

import csv
import io
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from openhotline.assessment.models import ItemStatus
from openhotline.assessment.vocabulary import most_severe, vics_category
from openhotline.evidence.models import MediaItem, UrlMedia
from openhotline.lib.vics import VicsCase, VicsMedia
from openhotline.lib.vics_writer import VicsWriter

CSV_FIELDS = (
    "media_code",
    "file",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "vics_category",
    "verdict",
    "virtual",
    "hotlines",
    "classified_at",
    "hosting_countries",
    "source_urls",
    "mime",
    "size",
)


@dataclass
class ManifestItem:
    media: MediaItem
    verdict: str
    is_virtual: bool
    classified_at: datetime
    hotlines: list[str] = field(default_factory=list)
    hosting_countries: list[str] = field(default_factory=list)
    source_urls: list[str] = field(default_factory=list)
    # Police packages: the VICS Series of the hash-set entries it matched, and
    # whether a police organisation reported a victim identified on a referral of it.
    series: list[str] = field(default_factory=list)
    victim_identified: bool | None = None

    @property
    def category(self) -> int | None:
        return vics_category(self.verdict, virtual=self.is_virtual)

    @property
    def file_name(self) -> str:
        extension = mimetypes.guess_extension(self.media.mime or "") or ".bin"
        return f"media/{self.media.sha1.upper()}{extension}"


def merge_item(
    items: dict[int, ManifestItem],
    media: MediaItem,
    *,
    verdict: str,
    is_virtual: bool,
    classified_at: datetime,
    hotline: str,
    country: str = "",
) -> None:
    """Add one hotline's classification; an item classified twice keeps the most severe."""
    found = items.get(media.pk)
    if found is None:
        items[media.pk] = ManifestItem(media, verdict, is_virtual, classified_at, [hotline])
        found = items[media.pk]
    else:
        if verdict == found.verdict:
            found.is_virtual = found.is_virtual and is_virtual  # a real child wins
        elif most_severe([found.verdict, verdict]) == verdict:
            found.verdict, found.is_virtual = verdict, is_virtual
        found.classified_at = max(found.classified_at, classified_at)
        if hotline not in found.hotlines:
            found.hotlines.append(hotline)
    if country and country not in found.hosting_countries:
        found.hosting_countries.append(country)


def attach_sources(items: dict[int, ManifestItem]) -> list[ManifestItem]:
    """Fill in every URL each item was found at (one query), oldest item first."""
    links = UrlMedia.objects.filter(media_item_id__in=list(items)).values_list(
        "media_item_id", "source_url"
    )
    for media_id, source_url in links.order_by("pk"):
        urls = items[media_id].source_urls
        if source_url and source_url not in urls:
            urls.append(source_url)
    return sorted(items.values(), key=lambda item: (item.classified_at, item.media.pk))


def items_from_statuses(statuses: Iterable[ItemStatus]) -> list[ManifestItem]:
    items: dict[int, ManifestItem] = {}
    for status in statuses:
        merge_item(
            items,
            status.media_item,
            verdict=status.current.verdict,
            is_virtual=status.current.is_virtual,
            classified_at=status.current.created_at,
            hotline=status.hotline.name,
        )
    return attach_sources(items)


def vics_manifest(
    items: list[ManifestItem],
    *,
    case_number: str,
    contact_email: str = "",
    with_files: bool = True,
) -> bytes:
    """A VICS 2.0 ``#Cases`` file (US profile categories) of ``items``."""
    out = io.StringIO()
    case = VicsCase(case_number=case_number, contact_email=contact_email or None)
    with VicsWriter(out, shape="Cases", profile="US", case=case) as writer:
        for number, item in enumerate(items, start=1):
            media = item.media
            writer.write(
                VicsMedia(
                    media_id=number,
                    category=item.category,
                    md5=media.md5,
                    sha1=media.sha1,
                    sha256=media.sha256,
                    pdq=media.pdq or None,
                    media_size=media.size,
                    mime_type=media.mime or None,
                    relative_file_path=item.file_name if with_files else None,
                    file_paths=tuple(item.source_urls),
                    date_updated=item.classified_at,
                    is_precategorized=True,
                    is_distributed=True,
                    series="; ".join(item.series) or None,
                    victim_identified=item.victim_identified,
                    comments=f"verdict: {item.verdict}; hotlines: {', '.join(item.hotlines)}",
                )
            )
    return out.getvalue().encode()


def items_csv(items: list[ManifestItem]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for item in items:
        media = item.media
        writer.writerow(
            [
                media.code,
                item.file_name,
                media.md5.upper(),
                media.sha1.upper(),
                media.sha256,
                media.pdq,
                item.category,
                item.verdict,
                "yes" if item.is_virtual else "no",
                "; ".join(item.hotlines),
                item.classified_at.isoformat(),
                "; ".join(item.hosting_countries),
                " ".join(item.source_urls),
                media.mime,
                media.size,
            ]
        )
    return out.getvalue().encode()
