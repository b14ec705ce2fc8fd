"""Each worker machine follows the change log in the background, and says how far it is.

A thread in every worker process (started by ``openhotline.celery``) runs
``catch_up`` every ``OPENHOTLINE_INDEX_POLL_SECONDS`` and records the serial
of this machine's index in ``IndexReplica`` under ``OPENHOTLINE_NODE_NAME``;
``/readyz`` compares it with the log (``ops.health.check_index``).
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from openhotline.matching.indexing import catch_up, local_serial
from openhotline.matching.models import IndexReplica

logger = logging.getLogger(__name__)


def report_serial(serial: int) -> None:
    """Record this machine's index serial (one row per node)."""
    node = settings.OPENHOTLINE_NODE_NAME
    now = timezone.now()
    if not IndexReplica.objects.filter(node=node).update(serial=serial, updated_at=now):
        IndexReplica.objects.update_or_create(
            node=node, defaults={"serial": serial, "updated_at": now}
        )


# Unchanged serials are reported this often (seconds): enough for /readyz, which
# counts a machine silent for OPENHOTLINE_WORKER_STALE_SECONDS as gone.
REPORT_EVERY = 10.0


class Follower(threading.Thread):
    """The background catch-up of one worker process."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="pdq-index-follower", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        reported: tuple[int, float] | None = None
        try:
            while not self.stopped.is_set():
                close_old_connections()
                try:
                    catch_up()
                    serial = local_serial()
                    now = time.monotonic()
                    # A write only when the serial moved, or now and then.
                    if (
                        reported is None
                        or reported[0] != serial
                        or now - reported[1] > REPORT_EVERY
                    ):
                        report_serial(serial)
                        reported = (serial, now)
                except Exception:  # the next round tries again; /readyz shows the lag
                    logger.exception("PDQ index: following the change log failed")
                self.stopped.wait(self.interval)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
