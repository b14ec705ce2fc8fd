from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from openhotline.reports.models import UrlState
from openhotline.takedown.actions.notices import send_due_notices
from openhotline.takedown.actions.removal import do_record_check, observe
from openhotline.takedown.models import CHECKED_STATES, TakedownCase


class Command(BaseCommand):
    help = (
        "Notice and takedown by hand: `send` sends the notices due now (as the beat task "
        "does); `recheck [--all]` re-checks the URLs due (or every open one) and prints what "
        "each showed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("send", help="send the notices and escalations that are due")
        recheck = sub.add_parser("recheck", help="re-check open illegal URLs now")
        recheck.add_argument("--all", action="store_true", help="not only those due")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "send":
            run = send_due_notices()
            if run.busy:
                self.stdout.write("another notice run is sending now; it sends what is due")
                return
            self.stdout.write(
                f"sent {len(run.sent)}, failed {len(run.failed)}, back to an analyst "
                f"{len(run.attention)}, waiting for contact approval {run.waiting_for_approval}"
            )
            return
        cases = TakedownCase.objects.filter(
            state__in=CHECKED_STATES,
            reported_url__state__in=[UrlState.ILLEGAL, UrlState.NOTICE_SENT],
        ).select_related("reported_url__hotline")
        if not options["all"]:
            cases = cases.filter(next_check_at__lte=timezone.now())
        for case in cases:
            seen = observe(case.reported_url)
            case = do_record_check(case, seen)
            self.stdout.write(f"{case.code}  {seen.outcome}  {case.state}  {case.reported_url.url}")
