"""Download packages: encrypted ZIPs with a VICS manifest and a CSV, each item once."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from typing import Any

import pytest
import pyzipper
from django.utils import timezone

from openhotline.accounts.models import Organisation, User
from openhotline.audit.models import AuditEvent
from openhotline.lib.vics import VicsMedia, read_vics
from openhotline.network.actions.packages import do_purge_expired_packages
from openhotline.network.models import Delivery, Package
from tests.network.conftest import AssessFn, media_of, page_with_media, record_hosting

PASSWORD = re.compile(r'id="package-password">([a-z0-9-]+)<')


def make_package(client: Any) -> tuple[Any, str | None]:
    response = client.post("/lea/packages/new/")
    match = PASSWORD.search(response.content.decode())
    return response, match.group(1) if match else None


def download(client: Any, code: str) -> bytes:
    response = client.get(f"/lea/packages/{code}/package.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return b"".join(response.streaming_content)


@pytest.fixture
def illegal_pages(hotline_a: Organisation, analyst: User, assess: AssessFn) -> list[Any]:
    pages = []
    for n, (country, verdict, virtual) in enumerate(
        [("DK", "baseline", False), ("BR", "national", True)]
    ):
        page = page_with_media(hotline_a, f"http://gallery.test/p{n}", images=2, first_seed=10 * n)
        record_hosting(page, country=country)
        assess(page, analyst, verdict=verdict, is_virtual=virtual)
        pages.append(page)
    return pages


def test_interpols_package_opens_with_its_password_and_the_next_is_empty(
    illegal_pages: list[Any],
    interpol: User,
    hotline_a: Organisation,
    analyst: User,
    assess: AssessFn,
    as_user: Any,
) -> None:
    client = as_user(interpol)
    response, password = make_package(client)
    assert response.status_code == 200 and password
    assert response["Cache-Control"] == "no-store, private"
    package = Package.objects.get()
    assert package.item_count == 4
    assert password not in str(Package.objects.values_list().get())  # not kept
    data = download(client, package.code)

    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        with pytest.raises(RuntimeError):
            archive.read("items.csv")  # no password, no content
        archive.setpassword(password.encode())
        names = set(archive.namelist())
        manifest = archive.read("manifest.vics.json")
        rows = list(csv.DictReader(io.StringIO(archive.read("items.csv").decode())))
        media = {name: archive.read(name) for name in names if name.startswith("media/")}
    # Every member is encrypted with AES-256 (method 99, WinZip AE, strength 3).
    with zipfile.ZipFile(io.BytesIO(data)) as plain:
        assert {(i.compress_type, i.flag_bits & 1) for i in plain.infolist()} == {(99, 1)}
    every = [item for page in illegal_pages for item in media_of(page)]
    assert len(media) == 4
    stored = {item.sha1.upper(): item for item in every}
    for name, content in media.items():
        sha1 = name.split("/")[1].split(".")[0]
        assert stored[sha1].size == len(content)
    records = [r for r in read_vics(io.BytesIO(manifest)) if isinstance(r, VicsMedia)]
    assert {r.sha1 for r in records} == {item.sha1 for item in every}
    by_sha1 = {r.sha1: r for r in records}
    baseline, virtual = media_of(illegal_pages[0])[0], media_of(illegal_pages[1])[0]
    assert by_sha1[baseline.sha1].category == 1
    assert by_sha1[virtual.sha1].category == 3
    assert by_sha1[baseline.sha1].md5 == baseline.md5
    assert by_sha1[baseline.sha1].file_paths == ("http://gallery.test/p0/img0.png",)
    assert by_sha1[baseline.sha1].date_updated is not None
    assert {r["sha256"] for r in rows} == {item.sha256 for item in every}
    assert {r["hosting_countries"] for r in rows} == {"DK", "BR"}

    again, second_password = make_package(client)
    assert again.status_code == 302 and second_password is None  # nothing new
    assert Package.objects.count() == 1

    later = page_with_media(hotline_a, "http://gallery.test/later", images=1, first_seed=90)
    record_hosting(later, country="DK")
    assess(later, analyst)
    _, third_password = make_package(client)
    assert third_password and third_password != password
    newest = Package.objects.order_by("-created_at", "-pk").first()
    assert newest is not None and newest.item_count == 1
    with pyzipper.AESZipFile(io.BytesIO(download(client, newest.code))) as archive:
        archive.setpassword(third_password.encode())
        assert [n for n in archive.namelist() if n.startswith("media/")] == [
            f"media/{media_of(later)[0].sha1.upper()}.png"
        ]


def test_every_package_and_download_is_audited(
    illegal_pages: list[Any], interpol: User, as_user: Any
) -> None:
    client = as_user(interpol)
    make_package(client)
    package = Package.objects.get()
    download(client, package.code)
    download(client, package.code)
    assert (
        AuditEvent.objects.filter(action="lea.package_created", object_id=package.code).count() == 1
    )
    downloads = AuditEvent.objects.filter(action="lea.package_downloaded", object_id=package.code)
    assert downloads.count() == 2 and {e.actor_label for e in downloads} == {"ines"}
    package.refresh_from_db()
    assert package.downloads == 2


def test_a_police_package_holds_only_their_referrals_items(
    illegal_pages: list[Any], police: User, as_user: Any
) -> None:
    client = as_user(police)
    _, password = make_package(client)
    package = Package.objects.get()
    assert package.item_count == 2
    delivered = set(Delivery.objects.filter(package=package).values_list("media_item", flat=True))
    assert delivered == {item.pk for item in media_of(illegal_pages[0])}


def test_a_package_is_for_its_organisation_only(
    illegal_pages: list[Any],
    interpol: User,
    police: User,
    analyst: User,
    outsider: User,
    as_user: Any,
) -> None:
    make_package(as_user(interpol))
    package = Package.objects.get()
    for stranger in (police, analyst, outsider):
        response = as_user(stranger).get(f"/lea/packages/{package.code}/package.zip")
        assert response.status_code == 404
    listing = as_user(police).get("/lea/packages/").content.decode()
    assert package.code not in listing


def test_expired_packages_are_purged_from_the_store(
    illegal_pages: list[Any], interpol: User, as_user: Any
) -> None:
    client = as_user(interpol)
    make_package(client)
    package = Package.objects.get()
    Package.objects.filter(pk=package.pk).update(expires_at=timezone.now())
    assert do_purge_expired_packages() == 1
    assert client.get(f"/lea/packages/{package.code}/package.zip").status_code == 404
    from openhotline.evidence.store import get_store

    assert not get_store().exists(package.blob_name)
