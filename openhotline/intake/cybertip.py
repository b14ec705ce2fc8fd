"""Reading reports shaped like NCMEC CyberTipline XML (see FORMATS.md).

A hotline keeps from such a report what it acts on: the URLs, the incident
time, the escalation flag, and the file hashes (for matching). The rest is
summarised in the report's description for the analyst. Every problem is
reported with the path of the element it is in, e.g.
``/report/internetDetails[2]/webPageIncident/url[1]``.

The XML is parsed with defusedxml and any DTD is refused: no external
entities (XXE), no entity expansion (billion laughs). Any encoding Python
knows is accepted (the document is transcoded to UTF-8 first, since expat
reads few by itself); UTF-7 is refused, as it can hide markup from filters.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from openhotline.intake.actions.partner import FileHashIn
from openhotline.intake.filehashes import HashValueError, parse_hash
from openhotline.lib.urlnorm import UrlError, normalize_url

INCIDENT_TYPES = frozenset(
    {
        "Child Pornography (possession, manufacture, and distribution)",
        "Child Sex Trafficking",
        "Child Sex Tourism",
        "Child Sexual Molestation",
        "Misleading Domain Name",
        "Misleading Words or Digital Images on the Internet",
        "Online Enticement of Children for Sexual Acts",
        "Online Enticement of Children for Sexual Act",  # as some clients spell it
        "Unsolicited Obscene Material Sent to a Child",
    }
)
# Children of <report>: (name, may repeat, required), in the order real validators demand.
REPORT_CHILDREN = [
    ("incidentSummary", False, True),
    ("internetDetails", True, False),
    ("lawEnforcement", False, False),
    ("reporter", False, True),
    ("personOrUserReported", False, False),
    ("intendedRecipient", True, False),
    ("victim", True, False),
    ("additionalInfo", False, False),
    ("fileDetails", True, False),
]
INCIDENT_VARIANTS = {
    "webPageIncident": "web page",
    "emailIncident": "e-mail",
    "newsgroupIncident": "newsgroup",
    "chatImIncident": "chat/IM",
    "onlineGamingIncident": "online gaming",
    "cellPhoneIncident": "cell phone",
    "nonInternetIncident": "non-internet",
    "peer2peerIncident": "peer-to-peer",
}
INDUSTRY_CLASSIFICATIONS = frozenset({"A1", "A2", "B1", "B2"})
MAX_ERRORS = 20
# Encodings expat reads by itself; any other is transcoded to UTF-8 first.
EXPAT_ENCODINGS = frozenset({"utf-8", "iso8859-1", "ascii"})
# Text codecs Python has that are no character sets: UTF-7 can hide markup from
# filters; the others turn escapes or host names into text.
REFUSED_ENCODINGS = frozenset({"utf-7"})
NOT_CHARSETS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"}
)
# Byte order marks and the first bytes of "<?" in UTF-32/16 without a mark (XML 1.0 appendix F).
_UNICODE_PREFIXES = [
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
]
_DECLARED_ENCODING = re.compile(r"""^<\?xml[^>]*?\sencoding\s*=\s*(["'])([^"'>]*)\1""")


@dataclass(frozen=True)
class XmlProblem:
    path: str
    message: str

    def loc(self) -> list[str]:
        return ["body", *self.path.strip("/").split("/")]


class CyberTipError(ValueError):
    def __init__(self, problems: list[XmlProblem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


@dataclass
class CyberTip:
    incident_type: str
    incident_at: datetime | None
    escalation: str
    urls: list[str] = field(default_factory=list)
    file_hashes: list[FileHashIn] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    additional_info: str = ""

    @property
    def escalated(self) -> bool:
        return self.escalation.strip().lower() not in {"", "false", "0", "no"}

    def description(self) -> str:
        return "\n".join(self.summary)


def parse_cybertip(data: bytes, *, max_urls: int, max_url_length: int) -> CyberTip:
    """Parse and check a CyberTipline-shaped report; raise ``CyberTipError`` with paths."""
    root = _parse_xml(data)
    reader = _Reader(max_urls=max_urls, max_url_length=max_url_length)
    tip = reader.read(root)
    if reader.problems:
        raise CyberTipError(reader.problems[:MAX_ERRORS])
    if tip is None:
        raise CyberTipError([XmlProblem("/", "the report could not be read")])
    return tip


def _as_parseable(data: bytes) -> bytes:
    """The document in an encoding expat reads, or ``CyberTipError`` naming the encoding.

    1. The byte order mark or the shape of ``<?`` gives the family (UTF-32,
       UTF-16 or a byte encoding); the declaration gives the name.
    2. Encodings expat knows pass unchanged. UTF-7 and names that are no
       character set are refused; any other encoding Python knows is decoded
       and the document handed on as UTF-8, its declaration saying so.
    """
    family = next((name for prefix, name in _UNICODE_PREFIXES if data.startswith(prefix)), "")
    if family:
        # The mark decides (XML 1.0 appendix F); the declaration only names it.
        try:
            text = data.decode(family).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            label = family.split("-")[0].upper() + "-" + family.split("-")[1]
            raise _encoding_problem(f"not valid {label} at byte {exc.start}") from None
        return _declared_as_utf8(text).encode("utf-8")
    match = _DECLARED_ENCODING.match(data[:200].decode("latin-1"))
    if match is None:
        return data  # no declaration: UTF-8, which expat reads
    declared = match.group(2).strip()
    try:
        codec = codecs.lookup(declared)
    except LookupError:
        raise _encoding_problem(f"unknown encoding {declared!r}") from None
    name = codec.name.replace("_", "-")
    if name in REFUSED_ENCODINGS:
        raise _encoding_problem("UTF-7 is not accepted; send UTF-8")
    if name in NOT_CHARSETS or not codec._is_text_encoding:
        raise _encoding_problem(f"unknown encoding {declared!r}")
    if name in EXPAT_ENCODINGS:
        return data
    try:
        text = data.decode(codec.name)
    except UnicodeDecodeError as exc:
        raise _encoding_problem(f"not valid {declared} at byte {exc.start}") from None
    return _declared_as_utf8(text.removeprefix("\ufeff")).encode("utf-8")


def _declared_as_utf8(text: str) -> str:
    match = _DECLARED_ENCODING.match(text)
    if match is None:
        return text
    start, end = match.span(2)
    return text[:start] + "UTF-8" + text[end:]


def _encoding_problem(message: str) -> CyberTipError:
    return CyberTipError([XmlProblem("/", message)])


def _parse_xml(data: bytes) -> Element:
    """Parse with defusedxml, tracking the open elements so an error can name its place."""
    data = _as_parseable(data)
    stack: list[str] = []
    root: Element | None = None
    try:
        for event, element in SafeET.iterparse(
            io.BytesIO(data), events=("start", "end"), forbid_dtd=True
        ):
            if event == "start":
                stack.append(_local(element.tag))
                root = element if root is None else root
            else:
                stack.pop()
    except DefusedXmlException:
        raise CyberTipError(
            [XmlProblem(_path(stack), "DTDs and entity declarations are not accepted")]
        ) from None
    except ParseError as exc:
        line, column = exc.position
        message = str(exc).split(":")[0]
        raise CyberTipError(
            [XmlProblem(_path(stack), f"malformed XML ({message}) at line {line}, column {column}")]
        ) from None
    except (ValueError, LookupError) as exc:  # expat's own encoding handler gave up
        raise _encoding_problem(f"cannot read this encoding ({exc})") from None
    if root is None:
        raise CyberTipError([XmlProblem("/", "the document is empty")])
    for element in root.iter():
        element.tag = _local(element.tag)
    return root


def _local(tag: str) -> str:
    """The tag without a namespace: partners send the schema's namespace or none."""
    return tag.rsplit("}", 1)[-1]


def _path(parts: list[str]) -> str:
    return "/" + "/".join(parts)


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


class _Reader:
    def __init__(self, *, max_urls: int, max_url_length: int) -> None:
        self.max_urls = max_urls
        self.max_url_length = max_url_length
        self.problems: list[XmlProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(XmlProblem(path, message))

    def children(self, element: Element, path: str) -> list[tuple[str, str, Element]]:
        """(name, path, child) of each child, repeated names numbered from 1 as in XPath."""
        names = [_local(child.tag) for child in element]
        seen: dict[str, int] = {}
        result = []
        for name, child in zip(names, element, strict=True):
            seen[name] = seen.get(name, 0) + 1
            suffix = f"[{seen[name]}]" if names.count(name) > 1 else ""
            result.append((name, f"{path}/{name}{suffix}", child))
        return result

    def read(self, root: Element) -> CyberTip | None:
        if _local(root.tag) != "report":
            self.problem(_path([_local(root.tag)]), "the root element must be <report>")
            return None
        children = self.children(root, "/report")
        self.check_order(children)
        tip = CyberTip(incident_type="", incident_at=None, escalation="")
        for name, path, child in children:
            if name == "incidentSummary":
                self.read_summary(child, path, tip)
            elif name == "internetDetails":
                self.read_internet_details(child, path, tip)
            elif name == "personOrUserReported":
                self.read_reported_person(child, path, tip)
            elif name == "additionalInfo":
                tip.additional_info = _text(child)
            elif name == "fileDetails":
                self.read_file_details(child, path, tip)
        return tip

    def check_order(self, children: list[tuple[str, str, Element]]) -> None:
        order = {name: index for index, (name, _repeat, _required) in enumerate(REPORT_CHILDREN)}
        counts: dict[str, int] = {}
        last = -1
        for name, path, _child in children:
            if name not in order:
                self.problem(path, f"unexpected element <{name}>")
                continue
            if order[name] < last:
                after = REPORT_CHILDREN[last][0]
                self.problem(path, f"<{name}> must come before <{after}>")
            last = max(last, order[name])
            counts[name] = counts.get(name, 0) + 1
        for name, repeat, required in REPORT_CHILDREN:
            if required and not counts.get(name):
                self.problem(f"/report/{name}", f"<{name}> is required")
            if not repeat and counts.get(name, 0) > 1:
                self.problem(f"/report/{name}", f"<{name}> may appear only once")

    def read_summary(self, element: Element, path: str, tip: CyberTip) -> None:
        tip.incident_type = _text(element.find("incidentType"))
        if not tip.incident_type:
            self.problem(f"{path}/incidentType", "<incidentType> is required")
        elif tip.incident_type not in INCIDENT_TYPES:
            self.problem(f"{path}/incidentType", "not one of the CyberTipline incident types")
        raw_time = _text(element.find("incidentDateTime"))
        if not raw_time:
            self.problem(f"{path}/incidentDateTime", "<incidentDateTime> is required")
        else:
            tip.incident_at = self.parse_time(raw_time, f"{path}/incidentDateTime")
        tip.escalation = _text(element.find("escalateToHighPriority"))
        tip.summary.append(f"CyberTipline report: {tip.incident_type}")
        platform = _text(element.find("platform"))
        if platform:
            tip.summary.append(f"Platform: {platform}")
        when = _text(element.find("incidentDateTimeDescription"))
        if when:
            tip.summary.append(f"Incident time: {raw_time} ({when})")
        if tip.escalated:
            tip.summary.append(f"Escalated: {tip.escalation}")
        annotations = element.find("reportAnnotations")
        if annotations is not None and len(annotations):
            names = ", ".join(_local(child.tag) for child in annotations)
            tip.summary.append(f"Annotations: {names}")

    def parse_time(self, raw: str, path: str) -> datetime | None:
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            self.problem(path, "not an ISO 8601 date and time, e.g. 2024-05-01T13:45:00Z")
            return None
        if value.tzinfo is None:
            self.problem(path, "the date and time needs a time zone, e.g. Z or +02:00")
            return None
        return value

    def read_internet_details(self, element: Element, path: str, tip: CyberTip) -> None:
        for name, child_path, child in self.children(element, path):
            if name == "webPageIncident":
                for url_name, url_path, url in self.children(child, child_path):
                    if url_name == "url":
                        self.add_url(_text(url), url_path, tip)
                info = _text(child.find("additionalInfo"))
                if info:
                    tip.summary.append(f"Web page: {info}")
            elif name in INCIDENT_VARIANTS:
                tip.summary.append(f"Also a {INCIDENT_VARIANTS[name]} incident (see the partner)")
            else:
                self.problem(child_path, f"unexpected element <{name}>")

    def add_url(self, raw: str, path: str, tip: CyberTip) -> str:
        if len(tip.urls) >= self.max_urls:
            self.problem(path, f"a report may name at most {self.max_urls} URLs")
            return ""
        try:
            url = normalize_url(raw, max_length=self.max_url_length)
        except UrlError as exc:
            self.problem(path, str(exc))
            return ""
        if url not in tip.urls:
            tip.urls.append(url)
        return url

    def read_reported_person(self, element: Element, path: str, tip: CyberTip) -> None:
        parts = []
        screen = _text(element.find("screenName"))
        if screen:
            parts.append(f"screen name {screen}")
        parts += [f"display name {_text(e)}" for e in element.findall("displayName") if _text(e)]
        parts += [f"profile {_text(e)}" for e in element.findall("profileUrl") if _text(e)]
        if parts:
            tip.summary.append("Reported user: " + "; ".join(parts))

    def read_file_details(self, element: Element, path: str, tip: CyberTip) -> None:
        file_name = _text(element.find("originalFileName")) or _text(element.find("fileName"))
        location = ""
        if _text(element.find("locationOfFile")):
            location = self.add_url(
                _text(element.find("locationOfFile")), f"{path}/locationOfFile", tip
            )
        classification = _text(element.find("industryClassification")).upper()
        if classification and classification not in INDUSTRY_CLASSIFICATIONS:
            self.problem(f"{path}/industryClassification", "must be A1, A2, B1 or B2")
            classification = ""
        pairs: list[tuple[str, str, str]] = []
        for name, child_path, child in self.children(element, path):
            if name == "originalFileHash":
                pairs.append((child.get("hashType", ""), _text(child), child_path))
            elif name == "details" and child.get("type", "").upper() == "HASH":
                pairs += self.detail_pairs(child, child_path)
        for algorithm, value, child_path in pairs:
            try:
                algorithm, label, value = parse_hash(algorithm, value)
            except HashValueError as exc:
                self.problem(child_path, str(exc))
                continue
            tip.file_hashes.append(
                FileHashIn(
                    algorithm=algorithm,
                    algorithm_label=label,
                    value=value,
                    file_name=file_name[:255],
                    industry_classification=classification,
                    location_url=location,
                )
            )

    def detail_pairs(self, element: Element, path: str) -> list[tuple[str, str, str]]:
        """Name/value pairs of <details>: inside <nameValuePair> elements, or bare."""
        holders = [(p, c) for n, p, c in self.children(element, path) if n == "nameValuePair"]
        holders = holders or [(path, element)]
        return [
            (_text(holder.find("name")), _text(holder.find("value")), holder_path)
            for holder_path, holder in holders
        ]
