"""State changes of the statistics: only the rebuild of the facts, which is audited."""

from __future__ import annotations

import time

from openhotline.accounts.models import User
from openhotline.audit.log import record
from openhotline.stats.rebuild import CHUNK, rebuild_all


def do_rebuild_facts(*, actor: User | None = None, chunk: int = CHUNK) -> dict[str, int]:
    """Recompute every fact from the working tables and record that it was done.

    Not one transaction: each range of rows is its own (see ``rebuild.rebuild``),
    so a rebuild of millions never holds SQLite's write lock for long. The
    audit event follows the last range.
    """
    began = time.monotonic()
    written = rebuild_all(chunk=chunk)
    record(
        "stats.facts_rebuilt",
        actor=actor,
        object_type="stats",
        detail={**written, "seconds": round(time.monotonic() - began, 1)},
    )
    return written
