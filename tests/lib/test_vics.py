from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from openhotline.lib.vics import VicsCase, VicsError, VicsMedia, VicsReader, VicsRejection
from openhotline.lib.vics_writer import Verdict, VicsWriter, category_for

MD5 = "D41D8CD98F00B204E9800998ECF8427E"
SHA1 = "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"
PDQ = "F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22"
SHA256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"

V1_MEDIA = f"""{{
  "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.2.xml#Media",
  "value": [
    {{
      "MediaID": "17", "Category": "2", "MD5": "{MD5}", "SHA1": "{SHA1}",
      "MediaSize": "2835", "IsPrecategorized": "true", "IsDistributed": "False",
      "VictimIdentified": "0", "OffenderIdentified": 1, "MimeType": "image/jpeg",
      "DateUpdated": "2021-03-04T05:06:07Z", "Series": "", "Comments": "say \\"hi\\"",
      "AlternativeHashes": [
        {{"MD5": "{MD5}", "HashName": "PhotoDNA", "HashValue": "AAECAwQFBgc="}},
        {{"MD5": "{MD5}", "HashName": "pdq", "HashValue": "{PDQ}"}}
      ],
      "MediaFiles": [{{"MD5": "{MD5}", "FileName": "a.jpg", "FilePath": "C:\\\\case\\\\a.jpg"}}],
      "Exifs": [{{"MD5": "{MD5}", "PropertyName": "Make", "PropertyValue": "Camera"}}]
    }},
    {{"MediaID": 18, "Category": null, "SHA1": "{SHA1.lower()}"}}
  ]
}}"""

V1_CASES = f"""{{
  "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases",
  "value": [{{
    "CaseID": "5c7b2a3e-9a0b-4a7e-8d3c-111111111111", "CaseNumber": "2024-17",
    "SourceApplicationName": "Griffeye Analyze", "TotalMediaFiles": "2",
    "Media": [
      {{"MediaID": 1, "Category": 1, "MD5": "{MD5}"}},
      {{"MediaID": 2, "Category": "0", "MD5": "{MD5[:-1]}F", "IsDistributed": "true"}}
    ]
  }}]
}}"""

V2_MEDIA = f"""{{
  "@odata.context":
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media",
  "value": [
    {{"MediaID": 1, "Category": 3, "MD5": "{MD5}", "PhotoDNA": "AAECAwQFBgc=",
      "AlternativeHashes": [{{"HashName": "PDQ", "HashValue": "{PDQ}"}},
                            {{"HashName": "SHA256", "HashValue": "{SHA256}"}}],
      "MediaFiles": [{{"FilePath": "http://bad.test/a.jpg"}},
                     {{"FilePath": "http://bad.test/b.jpg"}}]}}
  ]
}}"""

V2_CASES = f"""{{
  "@odata.context":
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Cases",
  "value": [
    {{"CaseID": "case-a", "Media": [{{"MD5": "{MD5}", "Category": 1}}]}},
    {{"CaseID": "case-b", "ContactEmail": "police@example.test",
      "Media": [{{"SHA1": "{SHA1}"}}, {{"SHA1": "{SHA1}", "Category": 4}}],
      "TotalMediaFiles": 2}}
  ]
}}"""


def read(text: str | bytes, **limits: int) -> tuple[VicsReader, list[VicsMedia | VicsRejection]]:
    data = text.encode() if isinstance(text, str) else text
    reader = VicsReader(io.BytesIO(data), **limits)
    return reader, list(reader)


def media_only(items: list[VicsMedia | VicsRejection]) -> list[VicsMedia]:
    assert all(isinstance(item, VicsMedia) for item in items), items
    return [item for item in items if isinstance(item, VicsMedia)]


def test_it_reads_a_1x_media_set_with_strings_for_numbers_and_booleans() -> None:
    reader, items = read(V1_MEDIA)
    first, second = media_only(items)
    assert (reader.header.version, reader.header.shape, reader.header.profile) == (
        "1.2",
        "Media",
        None,
    )
    assert first.number == 1 and first.media_id == 17
    assert first.category == 2
    assert first.md5 == MD5.lower()
    assert first.sha1 == SHA1.lower()
    assert first.pdq == PDQ.lower()
    assert first.photodna == "AAECAwQFBgc="  # kept as given, from AlternativeHashes in 1.x
    assert first.media_size == 2835
    assert first.is_precategorized is True
    assert first.is_distributed is False
    assert first.victim_identified is False
    assert first.offender_identified is True
    assert first.is_suspected is None
    assert first.file_paths == ("C:\\case\\a.jpg",)
    assert first.date_updated == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert first.series is None
    assert first.comments == 'say "hi"'
    assert second.number == 2 and second.category is None and second.md5 is None
    assert second.sha1 == SHA1.lower()


def test_it_reads_a_1x_cases_file_with_the_case_id_on_each_record() -> None:
    reader, items = read(V1_CASES)
    records = media_only(items)
    assert [r.category for r in records] == [1, 0]
    assert records[1].md5 == MD5[:-1].lower() + "f"
    assert records[1].is_distributed is True
    assert {r.case_id for r in records} == {"5c7b2a3e-9a0b-4a7e-8d3c-111111111111"}
    assert reader.header.shape == "Cases" and reader.header.version == "1.3"
    (case,) = reader.header.cases
    assert case.case_number == "2024-17"
    assert case.source_application_name == "Griffeye Analyze"
    assert case.total_media_files == 2


def test_it_reads_a_2_0_media_set_and_its_profile() -> None:
    reader, items = read(V2_MEDIA)
    (record,) = media_only(items)
    assert (reader.header.version, reader.header.profile, reader.header.shape) == (
        "2.0",
        "US",
        "Media",
    )
    assert record.category == 3
    assert record.pdq == PDQ.lower()
    assert record.sha256 == SHA256.lower()
    assert record.photodna == "AAECAwQFBgc="
    assert record.file_paths == ("http://bad.test/a.jpg", "http://bad.test/b.jpg")


def test_it_reads_2_0_cases_including_fields_after_the_media_list() -> None:
    reader, items = read(V2_CASES)
    records = media_only(items)
    assert [(r.number, r.case_id) for r in records] == [
        (1, "case-a"),
        (2, "case-b"),
        (3, "case-b"),
    ]
    assert reader.header.profile == "UK"
    assert [c.case_id for c in reader.header.cases] == ["case-a", "case-b"]
    assert reader.header.cases[1].contact_email == "police@example.test"
    assert reader.header.cases[1].total_media_files == 2


def test_it_tolerates_a_utf8_bom() -> None:
    _, items = read(b"\xef\xbb\xbf" + V2_MEDIA.encode())
    assert media_only(items)[0].md5 == MD5.lower()


def test_it_refuses_utf16_clearly() -> None:
    with pytest.raises(VicsError, match="UTF-16"):
        read(V2_MEDIA.encode("utf-16"))


def test_a_context_after_the_records_still_reads() -> None:
    text = (
        '{"value": [{"MD5": "' + MD5 + '"}], "@odata.context": '
        '"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"}'
    )
    reader, items = read(text)
    assert media_only(items)[0].md5 == MD5.lower()
    assert reader.header.profile == "Default"


WRONG_TYPES = [
    ('{"MD5": 12345}', "md5 must be 32 hex digits"),
    ('{"MD5": {"x": 1}}', "MD5 must be text"),
    ('{"MD5": "zz' + "0" * 30 + '"}', "hex digits only"),
    ('{"MD5": "' + MD5 + '", "Category": "abc"}', "Category must be a whole number"),
    ('{"MD5": "' + MD5 + '", "Category": true}', "Category must be a whole number"),
    ('{"MD5": "' + MD5 + '", "Category": -1}', "Category must be at least 0"),
    ('{"MD5": "' + MD5 + '", "Category": 1.5}', "Category must be a whole number"),
    ('{"MD5": "' + MD5 + '", "IsDistributed": "maybe"}', "IsDistributed must be true or false"),
    ('{"MD5": "' + MD5 + '", "MediaFiles": "C:/a.jpg"}', "MediaFiles must be a list"),
    ('{"MD5": "' + MD5 + '", "MediaFiles": [{"FilePath": []}]}', "FilePath must be text"),
    (
        '{"MD5": "' + MD5 + '", "AlternativeHashes": [{"HashName": "PDQ", "HashValue": "ab"}]}',
        "pdq",
    ),
    ('{"Category": 1, "MimeType": "image/png"}', "no MD5, SHA1, SHA256, PDQ or PhotoDNA"),
    ('"not a record"', "must be an object"),
    ("[1, 2, 3]", "must be an object"),
]


@pytest.mark.parametrize(("record", "reason"), WRONG_TYPES)
def test_a_record_with_wrong_types_is_rejected_and_reading_goes_on(
    record: str, reason: str
) -> None:
    good = '{"MD5": "' + MD5 + '", "Category": "1"}'
    _, items = read('{"odata.metadata": "x#Media", "value": [' + f"{good}, {record}, {good}]}}")
    assert [type(item) for item in items] == [VicsMedia, VicsRejection, VicsMedia]
    rejection = items[1]
    assert isinstance(rejection, VicsRejection)
    assert rejection.number == 2
    assert reason in rejection.reason
    assert isinstance(items[2], VicsMedia) and items[2].number == 3


def test_wrong_types_in_a_case_media_list_reject_only_that_record() -> None:
    text = V1_CASES.replace('"Category": "0"', '"Category": "zero"')
    _, items = read(text)
    assert isinstance(items[0], VicsMedia)
    assert isinstance(items[1], VicsRejection) and "Category" in items[1].reason


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_truncated_file_gives_a_clear_error_after_the_good_records(cut: float) -> None:
    body = ",".join(f'{{"MediaID": {i}, "MD5": "{MD5}"}}' for i in range(200))
    text = '{"odata.metadata": "x#Media", "value": [' + body + "]}"
    data = text.encode()[: int(len(text) * cut)]
    reader = VicsReader(io.BytesIO(data))
    seen = []
    with pytest.raises(VicsError, match="not valid JSON") as error:
        for item in reader:
            seen.append(item)
    assert 0 < len(seen) < 200
    assert all(isinstance(item, VicsMedia) for item in seen)
    assert f"after record {len(seen)}" in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        (" \n", "empty"),
        ("[]", "does not hold a JSON object"),
        ('{"odata.metadata": "x#Media"}', 'no "value"'),
        ('{"value": {"MD5": "x"}}', "must be a list"),
        ('{"@odata.context": 7, "value": []}', "must be a string"),
        ('{"value": []} trailing', "not valid JSON"),
        ('{"value": [{"MD5": tru}]}', "not valid JSON"),
    ],
)
def test_a_file_that_is_not_vics_gives_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(VicsError, match=message):
        read(text)


class EndlessString(io.RawIOBase):
    """A file whose one string never ends; reading it all would never finish."""

    def __init__(self) -> None:
        self.served = 0
        self.opening = b'{"value": [{"MD5": "' + MD5.encode() + b'", "Comments": "'

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        assert self.served < 50 * 1024 * 1024, "the reader kept reading a hostile string"
        data = self.opening if self.served == 0 else b"A" * len(buffer)
        data = data[: len(buffer)]
        buffer[: len(data)] = data
        self.served += len(data)
        return len(data)


def test_an_endless_string_is_refused_without_reading_it_all() -> None:
    source = EndlessString()
    with pytest.raises(VicsError, match="longer than"):
        list(VicsReader(source))  # type: ignore[arg-type]
    assert source.served < 2 * 1024 * 1024


def test_many_escaped_quotes_count_as_one_long_string() -> None:
    text = '{"value": [{"MD5": "' + MD5 + '", "Comments": "' + '\\"' * 400_000 + '"}]}'
    with pytest.raises(VicsError, match="longer than"):
        read(text)


def test_a_long_text_under_the_guard_rejects_only_its_record() -> None:
    long_record = '{"MD5": "' + MD5 + '", "Comments": "' + "x" * 5000 + '"}'
    good = '{"MD5": "' + MD5 + '"}'
    _, items = read(f'{{"value": [{long_record}, {good}]}}', max_string=1000)
    assert isinstance(items[0], VicsRejection)
    assert "5000 characters long" in items[0].reason
    assert isinstance(items[1], VicsMedia)


def test_deep_nesting_inside_a_record_rejects_it_and_reading_goes_on() -> None:
    deep = "[" * 5000 + "]" * 5000
    record = '{"MD5": "' + MD5 + '", "MediaFiles": ' + deep + ', "Category": 1}'
    good = '{"MD5": "' + MD5 + '", "Category": 2}'
    _, items = read(f'{{"value": [{record}, {good}]}}')
    assert isinstance(items[0], VicsRejection) and "nested too deeply" in items[0].reason
    assert isinstance(items[1], VicsMedia) and items[1].category == 2


def test_deep_nesting_outside_the_records_is_skipped() -> None:
    deep = "[" * 20_000 + "]" * 20_000
    _, items = read('{"Extra": ' + deep + ', "value": [{"MD5": "' + MD5 + '"}]}')
    assert media_only(items)[0].md5 == MD5.lower()


def test_absurdly_deep_nesting_is_refused_clearly() -> None:
    deep = "[" * 1_000_000 + "]" * 1_000_000
    with pytest.raises(VicsError, match="nesting is longer than"):
        read('{"Extra": ' + deep + ', "value": [{"MD5": "' + MD5 + '"}]}')


def test_a_record_with_too_many_values_is_rejected() -> None:
    files = ",".join('{"FilePath": "p"}' for _ in range(600))
    record = '{"MD5": "' + MD5 + '", "MediaFiles": [' + files + "]}"
    _, items = read(f'{{"value": [{record}]}}', max_values=1000)
    assert isinstance(items[0], VicsRejection) and "too large" in items[0].reason


def test_unused_fields_are_not_built_so_they_cost_no_limit() -> None:
    exifs = ",".join('{"PropertyName": "p", "PropertyValue": "v"}' for _ in range(2000))
    record = '{"MD5": "' + MD5 + '", "Exifs": [' + exifs + "]}"
    _, items = read(f'{{"value": [{record}]}}', max_values=100)
    assert isinstance(items[0], VicsMedia)


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_so_far = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.read_so_far += len(chunk)
        return chunk


def test_it_streams_rather_than_loading_the_whole_file() -> None:
    out = io.StringIO()
    with VicsWriter(out) as writer:
        for i in range(20_000):
            writer.write(VicsMedia(md5=f"{i:032x}", category=1))
    source = CountingReader(out.getvalue().encode())
    items = iter(VicsReader(source))
    first = next(items)
    assert isinstance(first, VicsMedia) and first.md5 == f"{0:032x}"
    assert source.read_so_far < len(source.getvalue()) / 5
    assert sum(1 for _ in items) == 19_999


FULL_RECORD = VicsMedia(
    media_id=7,
    category=category_for(Verdict.NATIONAL_VIRTUAL),
    md5=MD5.lower(),
    sha1=SHA1.lower(),
    sha256=SHA256.lower(),
    pdq=PDQ.lower(),
    photodna="AAECAwQFBgc=",
    media_size=12345,
    mime_type="image/png",
    relative_file_path="set/a.png",
    file_paths=("http://bad.test/gallery/a.png?x=1", "https://other.test/ü"),
    date_updated=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    is_precategorized=True,
    is_distributed=False,
    is_suspected=True,
    victim_identified=False,
    offender_identified=False,
    series="Série",
    tags="tag1;tag2",
    comments='quote " and backslash \\',
)


@pytest.mark.parametrize("shape", ["Media", "Cases"])
def test_write_then_read_round_trips(shape: str) -> None:
    out = io.StringIO()
    case = VicsCase(case_id="case-7", case_number="H-2026-7", contact_email="a@example.test")
    records = [FULL_RECORD, VicsMedia(pdq=PDQ.lower(), category=None)]
    with VicsWriter(out, shape=shape, profile="US", case=case) as writer:  # type: ignore[arg-type]
        for record in records:
            writer.write(record)
    text = out.getvalue()
    assert text.isascii()
    document = json.loads(text)
    assert document["@odata.context"].endswith(f"/2.0.xml/US/$metadata#{shape}")
    reader, items = read(text)
    back = media_only(items)
    expected_case = "case-7" if shape == "Cases" else None
    assert back[0] == FULL_RECORD.__class__(
        **{**vars(FULL_RECORD), "number": 1, "case_id": expected_case}
    )
    assert back[1].pdq == PDQ.lower() and back[1].media_id == 2 and back[1].md5 is None
    assert reader.header.shape == shape
    if shape == "Cases":
        (read_case,) = reader.header.cases
        assert read_case.case_number == "H-2026-7"
        assert read_case.source_application_name == "openhotline"
        assert read_case.total_media_files == 2


def test_the_writer_is_strict_on_output() -> None:
    out = io.StringIO()
    with VicsWriter(out) as writer:
        writer.write(FULL_RECORD)
    (media,) = json.loads(out.getvalue())["value"]
    assert media["MD5"] == MD5 and media["SHA1"] == SHA1  # upper case, as distributed
    assert media["Category"] == 3
    assert media["IsPrecategorized"] is True and media["MediaSize"] == 12345
    assert {"MD5": MD5, "HashName": "PDQ", "HashValue": PDQ.lower()} in media["AlternativeHashes"]
    assert media["MediaFiles"][0] == {
        "MD5": MD5,
        "FileName": "a.png",
        "FilePath": "http://bad.test/gallery/a.png?x=1",
    }
    assert media["DateUpdated"] == "2026-01-02T03:04:05Z"


def test_the_category_mapping_follows_the_formats_table() -> None:
    assert category_for(Verdict.BASELINE) == 1
    assert category_for("national_real") == 1
    assert category_for(Verdict.NATIONAL_VIRTUAL) == 3
    assert category_for(Verdict.NOT_ILLEGAL) == 0
    with pytest.raises(ValueError):
        category_for("probably fine")


def test_an_export_that_fails_is_left_visibly_incomplete() -> None:
    out = io.StringIO()
    with pytest.raises(RuntimeError), VicsWriter(out) as writer:
        writer.write(FULL_RECORD)
        raise RuntimeError("database went away")
    with pytest.raises(json.JSONDecodeError):
        json.loads(out.getvalue())


def test_the_writer_refuses_bad_hashes_naive_dates_and_unknown_profiles() -> None:
    with pytest.raises(ValueError, match="md5"):
        with VicsWriter(io.StringIO()) as writer:
            writer.write(VicsMedia(md5="abc"))
    with pytest.raises(ValueError, match="timezone"):
        with VicsWriter(io.StringIO()) as writer:
            writer.write(VicsMedia(md5=MD5, date_updated=datetime(2026, 1, 1)))  # noqa: DTZ001
    with pytest.raises(ValueError, match="profile"):
        VicsWriter(io.StringIO(), profile="Mars")
