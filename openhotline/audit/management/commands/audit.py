from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openhotline.audit.log import ChainProblem, verify_chain


class Command(BaseCommand):
    help = "Work with the audit log: `audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="check every link of the hash chain")

    def handle(self, *args: Any, **options: Any) -> None:
        checked = 0
        for step in verify_chain():
            if isinstance(step, ChainProblem):
                self.stderr.write(f"audit log broken at event #{step.seq}: {step.reason}")
                sys.exit(1)
            checked = step
        self.stdout.write(f"audit log intact: {checked} events verified")
