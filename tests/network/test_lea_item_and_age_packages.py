"""An item for the police (codes, hashes, sightings, counted reveals); age-encrypted packages."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pyrage
import pytest

from openhotline.accounts.models import Organisation, User
from openhotline.assessment.models import RevealDay
from openhotline.audit.models import AuditEvent
from openhotline.network.actions.police_feedback import do_decide_referral, do_record_outcome
from openhotline.network.lea_access import seat_for_user
from openhotline.network.models import Package, PoliceReferral
from tests.network.conftest import AssessFn, media_of, page_with_media, record_hosting
from tests.network.test_police_priority import matched


@pytest.fixture
def page(hotline_a: Organisation, analyst: User, assess: AssessFn) -> Any:
    page = page_with_media(hotline_a, "http://gallery.test/item", images=1, first_seed=3)
    record_hosting(page, country="DK", address="192.0.2.44", hoster="Hoster A/S")
    assess(page, analyst, age_group="infant", gender="female", is_self_generated=True)
    return page


def test_the_item_page_shows_codes_hashes_sightings_and_hosting(
    page: Any, police: User, as_user: Any
) -> None:
    item = media_of(page)[0]
    # As hashing records them (the tests do not run the hashing task).
    item.pdq, item.pdq_quality = "ef" * 32, 87
    item.vpdq = [["ab" * 32, 100], ["cd" * 32, 90]]
    item.save(update_fields=["pdq", "pdq_quality", "vpdq"])
    body = as_user(police).get(f"/lea/items/{item.code}/").content.decode()
    # ICCAM: baseline 1, infant 2, female 2; VICS category 1.
    assert "classification 1 · age 2 · gender 2" in body
    assert '<td class="vics">1</td>' in body
    assert "Infant / toddler" in body and "self-generated" in body
    for value in (item.md5.upper(), item.sha1.upper(), item.sha256, "ef" * 32, "ab" * 32):
        assert value in body
    assert "(quality 87)" in body
    assert "2 frames" in body
    assert "http://gallery.test/item/img0.png" in body
    assert "192.0.2.44" in body and "Hoster A/S" in body
    assert 'id="first-seen"' in body and 'id="last-seen"' in body
    # The referral's page links to it.
    referral = PoliceReferral.objects.get(reported_url=page)
    assert (
        f"/lea/items/{item.code}/"
        in as_user(police).get(f"/lea/referrals/{referral.code}/").content.decode()
    )


def test_reveals_go_grey_then_colour_and_are_audited_and_counted(
    page: Any, police: User, as_user: Any
) -> None:
    item = media_of(page)[0]
    client = as_user(police)
    reveal = f"/lea/media/{item.code}/reveal"
    assert client.post(reveal, {"step": "colour"}).status_code == 400  # grey first
    grey = client.post(reveal, {"step": "grey"}).json()
    assert grey["revealed_today"] == 1
    colour = client.post(reveal, {"step": "colour"}).json()
    assert colour["revealed_today"] == 1  # one item, counted once
    assert client.get(colour["url"])["Content-Type"] == "image/jpeg"
    assert RevealDay.objects.get(user=police).revealed == 1
    steps = AuditEvent.objects.filter(action="media.revealed", object_id=item.code)
    assert sorted(e.detail["step"] for e in steps) == ["colour", "grey"]


def test_a_package_encrypted_to_the_officers_age_key_opens_with_the_identity(
    page: Any, police: User, as_user: Any
) -> None:
    item = media_of(page)[0]
    matched(item, "Lighthouse")
    referral = PoliceReferral.objects.get(reported_url=page)
    seat = seat_for_user(police)
    do_decide_referral(referral, seat, decision="accepted", reason="ours", actor=police)
    do_record_outcome(referral, seat, outcome="victim", actor=police)

    client = as_user(police)
    refused = client.post("/lea/packages/new/", {"to_age_key": "1"}, follow=True)
    assert "Register your age public key first." in refused.content.decode()
    assert not Package.objects.exists()

    assert client.post("/lea/profile/age-key/", {"recipient": "age1notakey"}).status_code == 302
    assert "Not an age public key" in client.get("/lea/profile/").content.decode()
    identity = pyrage.x25519.Identity.generate()
    client.post("/lea/profile/age-key/", {"recipient": str(identity.to_public())})
    assert AuditEvent.objects.filter(action="lea.age_key_set").exists()

    ready = client.post("/lea/packages/new/", {"to_age_key": "1"}).content.decode()
    assert "package-password" not in ready  # no password to show
    package = Package.objects.get()
    assert package.encryption == "age" and package.age_recipient == str(identity.to_public())
    response = client.get(f"/lea/packages/{package.code}/package.zip")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Disposition"].endswith(f'openhotline-{package.code}.zip.age"')
    ciphertext = b"".join(response.streaming_content)
    assert ciphertext.startswith(b"age-encryption.org/v1")
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(ciphertext, [pyrage.x25519.Identity.generate()])
    archive = zipfile.ZipFile(io.BytesIO(pyrage.decrypt(ciphertext, [identity])))
    assert sorted(archive.namelist()) == sorted(
        ["items.csv", "manifest.vics.json", f"media/{item.sha1.upper()}.png"]
    )
    manifest = json.loads(archive.read("manifest.vics.json"))
    [case] = manifest["value"]
    assert case["CaseNumber"] == package.code and case["TotalMediaFiles"] == 1
    assert case["SourceApplicationName"] and case["CaseID"]
    [media] = case["Media"]
    assert media["Series"] == "Lighthouse" and media["VictimIdentified"] is True
    assert media["SHA1"] == item.sha1.upper()


def test_outsiders_get_not_found(page: Any, police_nl: User, analyst: User, as_user: Any) -> None:
    item = media_of(page)[0]
    for client in (as_user(police_nl), as_user(analyst)):
        assert client.get(f"/lea/items/{item.code}/").status_code == 404
        assert client.post(f"/lea/media/{item.code}/reveal", {"step": "grey"}).status_code == 404
    assert as_user(analyst).post("/lea/profile/age-key/", {"recipient": ""}).status_code == 404
