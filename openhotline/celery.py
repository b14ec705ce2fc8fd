"""The Celery application.

Tasks take ids, reload their rows and are safe to run twice: with
``acks_late`` a task whose worker dies is delivered again.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")

app = Celery("openhotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


class HeartbeatStep(bootsteps.StartStopStep):
    """Write a heartbeat row every few seconds, so `/readyz` knows a worker is alive.

    Broadcast pings do not work on every transport (the embedded SQLite
    broker has no fanout), so the worker reports itself in the database.
    """

    requires = ("celery.worker.components:Timer",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def start(self, parent: Any) -> None:
        from django.conf import settings

        self.beat(parent)
        interval = float(settings.CELERY_WORKER_HEARTBEAT_SECONDS)
        self.tref = parent.timer.call_repeatedly(interval, self.beat, (parent,), priority=10)

    def stop(self, parent: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def beat(self, parent: Any) -> None:
        from openhotline.ops.models import WorkerHeartbeat

        hostname = getattr(parent, "hostname", None) or socket.gethostname()
        try:
            WorkerHeartbeat.beat(hostname, queues=_queue_names(parent))
        except Exception:  # a heartbeat must never take the worker down
            logger.exception("worker heartbeat failed")


def _queue_names(parent: Any) -> str:
    try:
        return ",".join(sorted(q.name for q in parent.app.amqp.queues.consume_from.values()))
    except Exception:
        return ""


class IndexFollowerStep(bootsteps.StartStopStep):
    """Keep this machine's PDQ index current with the change log (``matching.replica``)."""

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.follower: Any = None

    def start(self, parent: Any) -> None:
        from django.conf import settings

        from openhotline.matching.replica import Follower

        self.follower = Follower(float(settings.OPENHOTLINE_INDEX_POLL_SECONDS))
        self.follower.start()

    def stop(self, parent: Any) -> None:
        if self.follower is not None:
            self.follower.stop()
            self.follower = None


app.steps["worker"].add(HeartbeatStep)
app.steps["worker"].add(IndexFollowerStep)
