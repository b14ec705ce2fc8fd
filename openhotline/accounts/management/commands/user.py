from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.urls import reverse

from openhotline.accounts.actions import (
    AccountError,
    do_add_membership,
    do_create_user,
    do_issue_enrolment_link,
)
from openhotline.accounts.models import Organisation, Role, User


def find_organisation(name: str) -> Organisation:
    org = Organisation.objects.filter(Q(name=name) | Q(slug=name)).first()
    if org is None:
        raise CommandError(f"no organisation named {name!r} (see `openhotline org list`)")
    return org


class Command(BaseCommand):
    help = (
        "Provision users: `user add USERNAME --org NAME --role ROLE [--password-file F]`, "
        "`user grant USERNAME --org NAME --role ROLE`, `user enrol-link USERNAME [--hours N]`, "
        "`user list`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        add = sub.add_parser("add", help="create a user with one role in one organisation")
        add.add_argument("username")
        add.add_argument("--org", required=True, help="organisation name or slug")
        add.add_argument("--role", required=True, choices=[r.value for r in Role])
        add.add_argument("--email", default="")
        add.add_argument(
            "--password-file", help="read the password from this file (else one is generated)"
        )
        grant = sub.add_parser("grant", help="give an existing user another role")
        grant.add_argument("username")
        grant.add_argument("--org", required=True)
        grant.add_argument("--role", required=True, choices=[r.value for r in Role])
        link = sub.add_parser(
            "enrol-link",
            help="issue a one-time link that sets up (or replaces) the user's authenticator app",
        )
        link.add_argument("username")
        link.add_argument("--hours", type=int, default=72, help="how long the link works")
        sub.add_parser("list", help="list users and their roles")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['subcommand'].replace('-', '_')}")(options)

    def handle_list(self, options: dict[str, Any]) -> None:
        for user in User.objects.prefetch_related("memberships__organisation").order_by("username"):
            roles = ", ".join(f"{m.role}@{m.organisation.slug}" for m in user.memberships.all())
            self.stdout.write(f"{user.username}\t{roles}")

    def handle_add(self, options: dict[str, Any]) -> None:
        org = find_organisation(options["org"])
        generated = not options["password_file"]
        if generated:
            password = secrets.token_urlsafe(12)
        else:
            try:
                password = Path(options["password_file"]).read_text().strip()
            except OSError as exc:
                raise CommandError(f"--password-file: {exc.strerror}") from None
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError("password refused: " + " ".join(exc.messages)) from None
        try:
            user = do_create_user(
                options["username"], org, options["role"], password=password, email=options["email"]
            )
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created {user.username} as {options['role']} of {org.name}")
        self.stdout.write(
            f"authenticator app: issue a link with `openhotline user enrol-link {user.username}`"
        )
        if generated:
            self.stdout.write(f"password (shown once): {password}")

    def handle_grant(self, options: dict[str, Any]) -> None:
        org = find_organisation(options["org"])
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        try:
            do_add_membership(user, org, options["role"])
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{user.username} is now {options['role']} of {org.name}")

    def handle_enrol_link(self, options: dict[str, Any]) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        try:
            link, token = do_issue_enrolment_link(user, hours=options["hours"])
        except AccountError as exc:
            raise CommandError(str(exc)) from None
        url = settings.OPENHOTLINE_BASE_URL.rstrip("/") + reverse("accounts:enrol", args=[token])
        self.stdout.write(
            f"enrolment link for {user.username}, valid until "
            f"{link.expires_at:%Y-%m-%d %H:%M} UTC, once (shown once): {url}"
        )
