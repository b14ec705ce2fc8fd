from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from openhotline.intake.cybertip import CyberTip, CyberTipError, parse_cybertip

SAMPLE = Path(__file__).parent / "samples" / "cybertipline-report.xml"
SUMMARY = """<incidentSummary>
  <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
  <incidentDateTime>2024-05-01T13:45:00+02:00</incidentDateTime>
</incidentSummary>"""
REPORTER = "<reporter><reportingPerson><email>a@partner.test</email></reportingPerson></reporter>"


def parse(xml: str | bytes, max_urls: int = 50) -> CyberTip:
    data = xml.encode() if isinstance(xml, str) else xml
    return parse_cybertip(data, max_urls=max_urls, max_url_length=2048)


def report(*children: str) -> str:
    return "<report>" + "".join(children) + "</report>"


def web(*urls: str) -> str:
    inner = "".join(f"<url>{u}</url>" for u in urls)
    return f"<internetDetails><webPageIncident>{inner}</webPageIncident></internetDetails>"


def problems(xml: str | bytes) -> list[tuple[str, str]]:
    with pytest.raises(CyberTipError) as caught:
        parse(xml)
    return [(p.path, p.message) for p in caught.value.problems]


def test_it_keeps_urls_time_hashes_and_escalation_of_a_full_report() -> None:
    tip = parse(SAMPLE.read_bytes())
    assert tip.urls == [
        "http://images.example.test/gallery/42",
        "https://images.example.test/gallery/43",
        "https://cdn.example.test/u/IMG_0001.JPG",
    ]
    assert tip.incident_at == datetime(2024, 5, 1, 13, 45, tzinfo=UTC)
    assert tip.escalated and "immediate risk" in tip.escalation
    hashes = {(h.algorithm, h.algorithm_label, h.value) for h in tip.file_hashes}
    assert hashes == {
        ("md5", "", "0cc175b9c0f1b6a831c399e269772661"),
        ("sha1", "", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"),
        ("pdq", "", "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"),
        ("other", "PhotoDNA", "opaque-vendor-hash-value"),
    }
    first = tip.file_hashes[0]
    assert first.file_name == "IMG_0001.JPG" and first.industry_classification == "A1"
    assert first.location_url == "https://cdn.example.test/u/IMG_0001.JPG"
    description = tip.description()
    assert "Platform: Example Image Host" in description
    assert "screen name uploader_123" in description and "chat/IM" in description
    assert "Annotations: sextortion" in description
    assert tip.additional_info == "Account suspended by the platform."


def test_a_report_without_escalation_is_not_escalated() -> None:
    tip = parse(report(SUMMARY, web("http://a.test/"), REPORTER))
    assert not tip.escalated and tip.urls == ["http://a.test/"]


def test_the_schemas_namespace_is_accepted() -> None:
    xml = report(SUMMARY, web("http://a.test/"), REPORTER).replace(
        "<report>", '<report xmlns="https://report.cybertip.org/ispws/xsd">'
    )
    assert parse(xml).urls == ["http://a.test/"]


@pytest.mark.parametrize(
    ("xml", "path", "message"),
    [
        (
            report(
                "<incidentSummary><incidentType>Child Sex Tourism</incidentType></incidentSummary>",
                REPORTER,
            ),
            "/report/incidentSummary/incidentDateTime",
            "is required",
        ),
        (
            report(SUMMARY.replace("+02:00", ""), REPORTER),
            "/report/incidentSummary/incidentDateTime",
            "needs a time zone",
        ),
        (
            report(SUMMARY.replace("2024-05-01T13:45:00", "yesterday"), REPORTER),
            "/report/incidentSummary/incidentDateTime",
            "not an ISO 8601",
        ),
        (
            report(SUMMARY.replace("Child Pornography", "Something"), REPORTER),
            "/report/incidentSummary/incidentType",
            "not one of",
        ),
        (
            report(
                SUMMARY, web("http://a.test/"), web("http://b.test/", "ftp://c.test/"), REPORTER
            ),
            "/report/internetDetails[2]/webPageIncident/url[2]",
            "Only http and https",
        ),
        (
            report(SUMMARY, REPORTER, web("http://a.test/")),
            "/report/internetDetails",
            "must come before <reporter>",
        ),
        (report(SUMMARY), "/report/reporter", "<reporter> is required"),
        (report(SUMMARY, REPORTER, "<suspect/>"), "/report/suspect", "unexpected element"),
        (report(SUMMARY, SUMMARY, REPORTER), "/report/incidentSummary", "only once"),
        (
            report(
                SUMMARY,
                REPORTER,
                "<fileDetails><originalFileHash hashType='MD5'>zz</originalFileHash></fileDetails>",
            ),
            "/report/fileDetails/originalFileHash",
            "32 hexadecimal digits",
        ),
        (
            report(
                SUMMARY,
                REPORTER,
                "<fileDetails><industryClassification>C9</industryClassification></fileDetails>",
            ),
            "/report/fileDetails/industryClassification",
            "A1, A2, B1 or B2",
        ),
        ("<notreport/>", "/notreport", "root element must be <report>"),
    ],
    ids=[
        "missing-time",
        "naive-time",
        "bad-time",
        "incident-type",
        "bad-url",
        "order",
        "no-reporter",
        "unknown-element",
        "twice",
        "bad-md5",
        "classification",
        "root",
    ],
)
def test_a_wrong_report_is_refused_with_the_elements_path(
    xml: str, path: str, message: str
) -> None:
    found = problems(xml)
    assert any(p == path and message in m for p, m in found), found


def test_malformed_xml_names_the_element_it_broke_in() -> None:
    xml = "<report>\n<incidentSummary>\n<incidentType>x</incidentSummary>\n</report>"
    [(path, message)] = problems(xml)
    assert path == "/report/incidentSummary/incidentType"
    assert "mismatched tag" in message and "line 3" in message


def test_more_urls_than_allowed_are_refused_at_the_first_too_many() -> None:
    xml = report(SUMMARY, web(*[f"http://a.test/{i}" for i in range(3)]), REPORTER)
    with pytest.raises(CyberTipError) as caught:
        parse(xml, max_urls=2)
    assert caught.value.problems[0].path == "/report/internetDetails/webPageIncident/url[3]"


@pytest.mark.parametrize(
    "hostile",
    [
        # XXE: an external entity reading a local file.
        '<?xml version="1.0"?><!DOCTYPE report [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<report><additionalInfo>&xxe;</additionalInfo></report>",
        # Billion laughs: nested entity expansion.
        '<?xml version="1.0"?><!DOCTYPE report [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;">]><report>&d;</report>',
        # An external DTD that a naive parser would fetch.
        '<?xml version="1.0"?><!DOCTYPE report SYSTEM "http://attacker.invalid/x.dtd"><report/>',
        # A parameter entity.
        '<?xml version="1.0"?><!DOCTYPE report [<!ENTITY % p SYSTEM "http://attacker.invalid/p">'
        "%p;]><report/>",
    ],
    ids=["xxe", "billion-laughs", "external-dtd", "parameter-entity"],
)
def test_hostile_xml_is_refused_before_any_entity_is_expanded(hostile: str) -> None:
    [(path, message)] = problems(hostile)
    assert message == "DTDs and entity declarations are not accepted"
    assert path == "/"


def encoded(encoding: str, info: str, *, declared: str | None = None, bom: bool = False) -> bytes:
    """The sample report with ``info`` as its additional information, in ``encoding``."""
    text = SAMPLE.read_text("utf-8").replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="{declared or encoding}"?>',
    )
    text = text.replace("Account suspended by the platform.", info)
    data = text.encode(encoding)
    return ("\ufeff".encode(encoding) if bom else b"") + data


@pytest.mark.parametrize(
    ("encoding", "info", "bom"),
    [
        ("Shift_JIS", "アカウント停止", False),
        ("GBK", "账户已被暂停", False),
        ("Big5", "帳戶已被停用", False),
        ("UTF-32", "Kontoen er lukket ø", False),  # Python's UTF-32 writes its own BOM
        ("UTF-32-BE", "Kontoen er lukket ø", False),
        ("UTF-16-LE", "Kontoen er lukket ø", True),
        ("windows-1252", "Kontoen er lukket ø €", False),
        ("ISO-8859-15", "Kontoen er lukket € Š", False),
        ("KOI8-R", "Аккаунт заблокирован", False),
    ],
)
def test_any_encoding_python_knows_is_decoded(encoding: str, info: str, bom: bool) -> None:
    tip = parse(encoded(encoding, info, bom=bom))
    assert tip.additional_info == info
    assert tip.urls[0] == "http://images.example.test/gallery/42"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (encoded("utf-8", "x", declared="UTF-7"), "UTF-7 is not accepted"),
        (encoded("utf-8", "x", declared="utf7"), "UTF-7 is not accepted"),
        (encoded("utf-8", "x", declared="x-nonsense"), "unknown encoding 'x-nonsense'"),
        # A name Python knows that is no text encoding (a decompressor).
        (encoded("utf-8", "x", declared="zlib"), "unknown encoding 'zlib'"),
        (encoded("utf-8", "x", declared="unicode_escape"), "unknown encoding 'unicode_escape'"),
        # Declared UTF-32 but sent as UTF-8.
        (encoded("utf-8", "x", declared="UTF-32"), "not valid UTF-32"),
        # Shift_JIS declared, bytes that are not Shift_JIS.
        (
            encoded("utf-8", "BAD", declared="Shift_JIS").replace(b"BAD", b"\x81\x7f\xa0"),
            "not valid Shift_JIS",
        ),
    ],
    ids=["utf-7", "utf7-alias", "unknown", "zlib", "unicode-escape", "utf-32-lie", "sjis-bad"],
)
def test_an_encoding_that_cannot_be_decoded_is_refused_by_name(data: bytes, message: str) -> None:
    [(path, found)] = problems(data)
    assert path == "/" and message in found, found


def test_a_nul_character_in_xml_is_refused() -> None:
    for nul in ("&#0;", "&#x0;", "\x00"):
        [(_path, message)] = problems(
            report(SUMMARY, REPORTER, f"<additionalInfo>a{nul}b</additionalInfo>")
        )
        assert "malformed XML" in message
