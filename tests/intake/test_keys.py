from __future__ import annotations

from typing import Any

import pytest

from openhotline.intake.keys import DecryptionError, decrypt_email, encrypt_email


def test_an_address_decrypts_only_for_its_own_report(settings: Any) -> None:
    sealed = encrypt_email("reporter@mail.test", context="AAAAA-BBBBB")
    assert b"reporter" not in sealed
    assert encrypt_email("reporter@mail.test", context="AAAAA-BBBBB") != sealed  # fresh nonce
    assert decrypt_email(sealed, context="AAAAA-BBBBB") == "reporter@mail.test"
    with pytest.raises(DecryptionError):
        decrypt_email(sealed, context="CCCCC-DDDDD")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionError):
        decrypt_email(tampered, context="AAAAA-BBBBB")
    settings.OPENHOTLINE_INTAKE_KEY = "a different secret"
    with pytest.raises(DecryptionError):
        decrypt_email(sealed, context="AAAAA-BBBBB")
