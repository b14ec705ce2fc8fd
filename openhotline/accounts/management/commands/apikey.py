from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openhotline.accounts.actions import do_create_api_key
from openhotline.accounts.management.commands.user import find_organisation
from openhotline.accounts.models import ApiKeyScope


class Command(BaseCommand):
    help = "Create an API key for an organisation: `apikey add --org NAME --name N`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        add = sub.add_parser("add")
        add.add_argument("--org", required=True)
        add.add_argument("--name", required=True)
        add.add_argument(
            "--scope", default=ApiKeyScope.READ_WRITE, choices=[s.value for s in ApiKeyScope]
        )

    def handle(self, *args: Any, **options: Any) -> None:
        org = find_organisation(options["org"])
        key, full_key = do_create_api_key(org, options["name"], options["scope"])
        self.stdout.write(f"created key {key.prefix} ({key.scope}) for {org.name}")
        self.stdout.write(f"key (shown once): {full_key}")
