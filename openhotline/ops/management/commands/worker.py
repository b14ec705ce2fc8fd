from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openhotline.ops.runtime import broker_description, require_services

QUEUES = "crawl,media,default"


class Command(BaseCommand):
    help = "Start a Celery worker for openhotline's background jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queues", default=QUEUES, help=f"queues to consume ({QUEUES})")
        parser.add_argument("--concurrency", type=int, default=0, help="processes (0: cores)")
        parser.add_argument("--hostname", default="", help="worker name (default: unique)")
        parser.add_argument("--beat", action="store_true", help="also run the beat schedule")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args: Any, **options: Any) -> None:
        from openhotline.celery import app

        require_services()
        hostname = options["hostname"] or f"openhotline-{os.getpid()}@%h"
        argv = [
            "worker",
            "--queues",
            options["queues"],
            "--hostname",
            hostname,
            "--loglevel",
            options["loglevel"],
            "--without-mingle",
            "--without-gossip",
        ]
        if options["concurrency"]:
            argv += ["--concurrency", str(options["concurrency"])]
        if options["beat"]:
            argv.append("--beat")
        self.stdout.write(
            f"worker {hostname} on {broker_description()}, queues {options['queues']}"
        )
        app.worker_main(argv=argv)
