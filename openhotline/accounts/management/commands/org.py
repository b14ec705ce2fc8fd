from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.accounts.actions import AccountError, do_create_organisation
from openhotline.accounts.models import Organisation, OrgKind


class Command(BaseCommand):
    help = "Provision organisations: `org add NAME --kind hotline --country DK`, `org list`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        add = sub.add_parser("add", help="create an organisation")
        add.add_argument("name")
        add.add_argument("--kind", required=True, choices=[k.value for k in OrgKind])
        add.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. DK")
        add.add_argument("--email", default="", help="contact e-mail address")
        sub.add_parser("list", help="list organisations")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "list":
            for org in Organisation.objects.all():
                self.stdout.write(f"{org.slug}\t{org.kind}\t{org.country}\t{org.name}")
            return
        try:
            org = do_create_organisation(
                options["name"],
                options["kind"],
                options["country"],
                contact_email=options["email"],
            )
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created {org.kind} {org.name!r} ({org.country}), slug {org.slug}")
