from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.ops.actions import do_queue_selfcheck
from openhotline.ops.models import SelfCheck


class Command(BaseCommand):
    help = "Queue a task and wait until a worker completes it (end-to-end worker check)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hold", type=float, default=0.0, help="seconds the task takes")
        parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait")
        parser.add_argument("--no-wait", action="store_true", help="queue and print the code")

    def handle(self, *args: Any, **options: Any) -> None:
        check = do_queue_selfcheck(options["hold"])
        if options["no_wait"]:
            self.stdout.write(check.code)
            return
        deadline = time.monotonic() + options["wait"]
        while time.monotonic() < deadline:
            check = SelfCheck.objects.get(pk=check.pk)
            if check.is_done():
                self.stdout.write(
                    f"self-check {check.code} completed by {check.completed_by} "
                    f"after {check.attempts} delivery(ies)"
                )
                return
            time.sleep(0.2)
        raise CommandError(
            f"self-check {check.code}: no worker completed it in {options['wait']} s"
        )
