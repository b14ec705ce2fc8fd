"""Where the evidence key ring comes from.

The key ring (the AES keys and the key that names blobs) is read from
``OPENHOTLINE_EVIDENCE_KEYRING`` (its JSON), or from the file named by
``OPENHOTLINE_EVIDENCE_KEYRING_FILE`` (default ``<data>/secrets/evidence-keyring.json``).
Outside production a missing file is generated once; in production it stops
start-up, like every other secret.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from openhotline.lib.blobcrypto import KeyRing

ENV_JSON = "OPENHOTLINE_EVIDENCE_KEYRING"


def keyring_path() -> Path:
    return Path(settings.OPENHOTLINE_EVIDENCE_KEYRING_FILE)


def load_keyring() -> KeyRing:
    raw = os.environ.get(ENV_JSON)
    source = ENV_JSON
    if not raw:
        path = keyring_path()
        source = f"{ENV_JSON}_FILE ({path})"
        if not path.exists():
            if settings.PRODUCTION:
                raise ImproperlyConfigured(f"{ENV_JSON}_FILE: no key ring at {path}")
            write_keyring(KeyRing.generate("k1"), path, exclusive=True)
        raw = path.read_text()
    try:
        return KeyRing.from_json(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{source}: {exc}") from None


def write_keyring(ring: KeyRing, path: Path, *, exclusive: bool = False) -> None:
    """Write the key ring atomically (temp file + rename), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if exclusive and path.exists():
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(ring.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    if exclusive:
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return
    os.replace(tmp, path)
