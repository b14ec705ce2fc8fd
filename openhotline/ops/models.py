"""Operational state: worker heartbeats and end-to-end worker checks."""

from __future__ import annotations

import os
from datetime import timedelta

from django.db import models
from django.utils import timezone

from openhotline.lib.codes import random_code


class WorkerHeartbeat(models.Model):
    hostname = models.CharField(max_length=255, unique=True)
    pid = models.IntegerField(default=0)
    queues = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.hostname

    @classmethod
    def beat(cls, hostname: str, *, queues: str = "") -> None:
        now = timezone.now()
        updated = cls.objects.filter(hostname=hostname).update(
            last_seen=now, pid=os.getpid(), queues=queues
        )
        if not updated:
            cls.objects.update_or_create(
                hostname=hostname,
                defaults={"last_seen": now, "pid": os.getpid(), "queues": queues},
                create_defaults={"started_at": now, "last_seen": now, "queues": queues},
            )

    @classmethod
    def live(cls, stale_seconds: int) -> models.QuerySet[WorkerHeartbeat]:
        return cls.objects.filter(last_seen__gte=timezone.now() - timedelta(seconds=stale_seconds))


def new_check_code() -> str:
    return random_code(10)


class SelfCheck(models.Model):
    """One end-to-end check that a worker picks up and completes a task.

    ``attempts`` counts deliveries: more than one means the task was
    redelivered (for example after a worker died), and ``completed_at`` is
    still set once only.
    """

    code = models.CharField(max_length=20, unique=True, default=new_check_code)
    hold_seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.IntegerField(default=0)
    started_by = models.CharField(max_length=255, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return self.code

    def is_done(self) -> bool:
        return self.completed_at is not None
