"""File hashes as partners send them, in the form matching compares.

Partners spell algorithms many ways ("SHA1", "sha-1", "Sha1"); matching needs
one name and lower-case hex. Algorithms we do not know (PhotoDNA, vendor
hashes) are kept under "other" with the partner's name for them.
"""

from __future__ import annotations

import re

from openhotline.intake.models import HashAlgorithm

_ALIASES = {
    "md5": HashAlgorithm.MD5,
    "sha1": HashAlgorithm.SHA1,
    "sha256": HashAlgorithm.SHA256,
    "pdq": HashAlgorithm.PDQ,
}
_HEX_DIGITS = {
    HashAlgorithm.MD5: 32,
    HashAlgorithm.SHA1: 40,
    HashAlgorithm.SHA256: 64,
    HashAlgorithm.PDQ: 64,
}
_HEX_RE = re.compile(r"[0-9a-f]+")
MAX_VALUE = 512
MAX_LABEL = 50


class HashValueError(ValueError):
    """A hash whose value cannot be what its algorithm produces."""


def parse_hash(algorithm: str, value: str) -> tuple[str, str, str]:
    """Return (algorithm, label for an unknown algorithm, value) or raise ``HashValueError``."""
    name = re.sub(r"[\s_-]", "", algorithm).lower()
    known = _ALIASES.get(name)
    value = value.strip()
    if known is None:
        label = algorithm.strip()[:MAX_LABEL]
        if not label:
            raise HashValueError("the hash type is missing")
        if not value or len(value) > MAX_VALUE:
            raise HashValueError(f"the hash value must be 1 to {MAX_VALUE} characters")
        return HashAlgorithm.OTHER, label, value
    value = value.lower()
    digits = _HEX_DIGITS[known]
    if len(value) != digits or not _HEX_RE.fullmatch(value):
        raise HashValueError(f"a {known.label} hash is {digits} hexadecimal digits")
    return known, "", value
