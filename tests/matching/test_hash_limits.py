"""The hashing API refuses images too large to decode, with the reason, from their header."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation
from tests.support.imagebombs import png_bomb

pytestmark = pytest.mark.django_db


def test_a_decompression_bomb_is_hashed_exactly_and_refused_for_pdq(
    partner_org: Organisation, key_of: Any
) -> None:
    upload = io.BytesIO(png_bomb(8000, 8000))
    upload.name = "bomb.png"

    response = Client().post(
        "/api/v1/hash", {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {key_of(partner_org)}"
    )

    assert response.status_code == 200
    data = response.json()
    # Known as an image (so never handed to the video decoder), with its exact hashes.
    assert data["kind"] == "image" and data["pdq"] is None and len(data["sha256"]) == 64
    assert "ImageRefused: 8000x8000 PNG would take" in data["error"]
