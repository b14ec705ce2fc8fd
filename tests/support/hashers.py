"""A quick password hasher for the tests' own users.

Django's PBKDF2 default runs a million rounds, about half a second a user on a
shared machine, paid for every persona of every test. This one writes the same
``pbkdf2_sha256`` format with fewer rounds; the rounds are part of the stored
hash, so openhotline processes a test starts (with the production hashers)
still check these passwords.
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000
