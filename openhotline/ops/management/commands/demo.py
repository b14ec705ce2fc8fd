from __future__ import annotations

import secrets
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from openhotline.accounts.actions import do_add_membership, do_create_organisation
from openhotline.accounts.models import Organisation, OrgKind, Role, User
from openhotline.ops.demo_site import gallery_urls, start_demo_site
from openhotline.ops.runtime import migrate_if_needed
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import Report, ReportSource

ORGANISATIONS = [
    ("Demo Hotline Denmark", OrgKind.HOTLINE, "DK"),
    ("Demo Hotline Netherlands", OrgKind.HOTLINE, "NL"),
    ("Demo Police Denmark", OrgKind.LEA, "DK"),
    ("INTERPOL", OrgKind.INTERPOL, "FR"),
    ("Demo ISP", OrgKind.ISP, "DK"),
    ("Demo Partner", OrgKind.PARTNER, "US"),
]

USERS = [
    ("analyst", "Demo Hotline Denmark", Role.ANALYST),
    ("senior", "Demo Hotline Denmark", Role.SENIOR_ANALYST),
    ("admin", "Demo Hotline Denmark", Role.ADMIN),
    ("nl-analyst", "Demo Hotline Netherlands", Role.ANALYST),
    ("police", "Demo Police Denmark", Role.POLICE_OFFICER),
    ("interpol", "INTERPOL", Role.INTERPOL_OFFICER),
    ("isp", "Demo ISP", Role.ISP_OPERATOR),
    ("partner", "Demo Partner", Role.PARTNER),
    ("auditor", "Demo Hotline Denmark", Role.AUDITOR),
]

DEMO_REF = "demo"


class Command(BaseCommand):
    help = "Set up a demo hotline with users, a demo website and reports, then serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--site-port", type=int, default=8765, help="demo website port")
        parser.add_argument("--no-serve", action="store_true", help="set up, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        migrate_if_needed()
        orgs = self.create_organisations()
        logins = self.create_users(orgs)
        site = start_demo_site(port=options["site_port"])
        urls = gallery_urls(site)
        filed = self.file_reports(orgs, urls)

        self.stdout.write("\nDemo logins (passwords are new on every run):")
        for username, org_name, role, password in logins:
            self.stdout.write(f"  {username:<11} {password}   {role} of {org_name}")
        self.stdout.write(
            f"\nDemo website: {urls[0].rsplit('/', 2)[0]}/gallery/0 … /{len(urls) - 1}"
        )
        self.stdout.write(f"Reports filed now: {filed}")
        if options["no_serve"]:
            return
        self.stdout.write(f"Log in at http://{options['addr']}/accounts/login/\n")
        call_command("serve", addr=options["addr"])

    def create_organisations(self) -> dict[str, Organisation]:
        orgs = {}
        for name, kind, country in ORGANISATIONS:
            org = Organisation.objects.filter(name=name).first()
            orgs[name] = org or do_create_organisation(name, kind, country)
        return orgs

    def create_users(self, orgs: dict[str, Organisation]) -> list[tuple[str, str, str, str]]:
        logins: list[tuple[str, str, str, str]] = []
        for username, org_name, role in USERS:
            password = secrets.token_urlsafe(9)
            with transaction.atomic():
                user, _ = User.objects.get_or_create(username=username)
                user.set_password(password)
                user.save(update_fields=["password"])
                do_add_membership(user, orgs[org_name], role)
            logins.append((username, org_name, role, password))
        return logins

    def file_reports(self, orgs: dict[str, Organisation], urls: list[str]) -> int:
        hotline = orgs["Demo Hotline Denmark"]
        if Report.objects.filter(hotline=hotline, external_ref=DEMO_REF).exists():
            return 0
        do_file_report(
            hotline,
            source=ReportSource.PUBLIC,
            urls=urls[:2],
            external_ref=DEMO_REF,
            where_found="A link in a forum post",
            comment="Demo report",
        )
        do_file_report(
            hotline,
            source=ReportSource.PUBLIC,
            urls=[urls[1]],
            external_ref=DEMO_REF,
            comment="The same gallery, reported again",
        )
        do_file_report(
            orgs["Demo Hotline Netherlands"],
            source=ReportSource.PUBLIC,
            urls=[urls[2]],
            external_ref=DEMO_REF,
        )
        do_file_report(
            hotline,
            source=ReportSource.PARTNER,
            urls=urls[3:],
            submitted_by_org=orgs["Demo Partner"],
            escalated=True,
            external_ref=DEMO_REF,
        )
        return 4
