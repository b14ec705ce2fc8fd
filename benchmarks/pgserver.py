"""A throw-away PostgreSQL server on loopback, for benchmarks run without ``DATABASE_URL``.

It uses the server binaries of Debian's ``postgresql`` package
(``/usr/lib/postgresql/<version>/bin``), as CI installs them: ``initdb`` a
cluster in a temporary directory, start it on a free 127.0.0.1 port with
trust authentication for local connections only, and remove it all on exit.
PostgreSQL refuses to run as root, so as root the cluster belongs to the
``postgres`` system user the package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, or None."""
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    versions = sorted(
        (p for p in root.iterdir() if (p / "bin" / "initdb").exists()),
        key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()],
    )
    return versions[-1] / "bin" if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Yield the URL of a new database on a new local server; stop and delete it after."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("no PostgreSQL server binaries (Debian package postgresql)")
    as_root = os.geteuid() == 0
    owner = pwd.getpwnam("postgres") if as_root else None
    home = Path(tempfile.mkdtemp(prefix="oh-bench-pg-"))
    if owner is not None:
        os.chown(home, owner.pw_uid, owner.pw_gid)
    data, port = home / "data", _free_port()

    def run(*args: str) -> None:
        command = list(args)
        if owner is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    run(str(binaries / "initdb"), "-D", str(data), "-U", "bench", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {home}"
    run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"), "-w",
        "start")  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "bench", "bench")
        yield f"postgresql://bench@127.0.0.1:{port}/bench"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)
