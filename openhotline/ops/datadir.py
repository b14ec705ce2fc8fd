"""The data directory, prepared at start-up rather than when settings.py is read.

``prepare_data_dir`` runs once per process from ``OpsConfig.ready``, that is
in ``django.setup()``, before any request, task or command touches the
database. It makes the data directory (0700; settings.py has already refused,
in production, one that others can read), makes the SQLite database and the
embedded broker's queue private (0600, tightening files left readable by an
older version), and makes the static root so that WhiteNoise finds it.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from openhotline.lib.privatefiles import make_private_dir, make_sqlite_private


def prepare_data_dir() -> None:
    data_dir = Path(settings.DATA_DIR)
    make_private_dir(data_dir)
    for database in _sqlite_files():
        make_sqlite_private(database)
    Path(settings.STATIC_ROOT).mkdir(exist_ok=True)


def _sqlite_files() -> list[Path]:
    files = []
    default = settings.DATABASES["default"]
    name = str(default["NAME"])
    if default["ENGINE"].endswith("sqlite3") and name not in {"", ":memory:"}:
        files.append(Path(name))
    broker = settings.CELERY_BROKER_URL
    if broker.split(":", 1)[0].lower() == "sqla+sqlite":
        files.append(Path(broker.split(":///", 1)[1]))
    return files
