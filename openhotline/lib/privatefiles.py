"""Files and directories that only the account running openhotline may read.

The data directory holds the SQLite database (password hashes, TOTP seeds,
session keys), the embedded broker's queue and generated secrets. Whatever the
umask of the shell that started the process, they are created 0700 (folders)
and 0600 (files); files left readable by an older version are tightened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def others_access(path: Path) -> int:
    """The permission bits that let the group or anyone else at ``path`` (0 if none)."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077


def make_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)


def make_private_file(path: Path) -> None:
    """Create ``path`` empty and private, or take group and world access off it.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so
    a database created here 0600 stays private with its companions.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        if others_access(path):
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o077)
    else:
        os.close(fd)


def make_sqlite_private(database: Path) -> None:
    make_private_dir(database.parent)
    make_private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = database.with_name(database.name + suffix)
        if companion.exists():
            make_private_file(companion)
