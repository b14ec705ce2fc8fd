"""What ``openhotline demo`` puts in the database: organisations, users, hosting, reports.

Each step is safe to run again on the same data directory: what exists is
kept (users get new passwords), and the reports are filed once.
"""

from __future__ import annotations

import secrets

from django.db import transaction

from openhotline.accounts.actions import (
    do_add_membership,
    do_create_api_key,
    do_create_organisation,
)
from openhotline.accounts.models import ApiKeyScope, Organisation, OrgKind, Role, User
from openhotline.crawler.actions import do_save_domain_rule
from openhotline.crawler.hosting import registered_domain
from openhotline.crawler.models import DomainRule
from openhotline.demo.hosts import DANISH, FOREIGN, HOSTS
from openhotline.demo.site import gallery_urls
from openhotline.reports.actions import do_file_report
from openhotline.reports.models import Report, ReportSource
from openhotline.takedown.actions.cases import do_add_contact
from openhotline.takedown.actions.contacts import do_approve_contact, find_contact
from openhotline.takedown.models import AbuseContact, ContactKind

DANISH_HOTLINE = "Demo Hotline Denmark"
DUTCH_HOTLINE = "Demo Hotline Netherlands"
ISP = "Demo ISP"

ORGANISATIONS = [
    (DANISH_HOTLINE, OrgKind.HOTLINE, "DK"),
    (DUTCH_HOTLINE, OrgKind.HOTLINE, "NL"),
    ("Demo Police Denmark", OrgKind.LEA, "DK"),
    ("INTERPOL", OrgKind.INTERPOL, "FR"),
    (ISP, OrgKind.ISP, "DK"),
    ("Demo Partner", OrgKind.PARTNER, "US"),
]

USERS = [
    ("analyst", DANISH_HOTLINE, Role.ANALYST),
    ("senior", DANISH_HOTLINE, Role.SENIOR_ANALYST),
    ("admin", DANISH_HOTLINE, Role.ADMIN),
    ("nl-analyst", DUTCH_HOTLINE, Role.ANALYST),
    ("police", "Demo Police Denmark", Role.POLICE_OFFICER),
    ("interpol", "INTERPOL", Role.INTERPOL_OFFICER),
    ("isp", ISP, Role.ISP_OPERATOR),
    ("partner", "Demo Partner", Role.PARTNER),
    ("auditor", DANISH_HOTLINE, Role.AUDITOR),
]

DEMO_REF = "demo"
FEED_KEY_NAME = "demo feed"


def create_organisations() -> dict[str, Organisation]:
    orgs = {}
    for name, kind, country in ORGANISATIONS:
        org = Organisation.objects.filter(name=name).first()
        orgs[name] = org or do_create_organisation(name, kind, country)
    return orgs


def create_users(orgs: dict[str, Organisation]) -> list[tuple[str, str, str, str]]:
    """One user per role, each with a new password: (username, org, role, password)."""
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


def prepare_hosting(orgs: dict[str, Organisation]) -> None:
    """Tell the Danish hotline who hosts the demo sites, as its admin would.

    There is no RDAP on loopback, so a domain rule names each hoster's abuse
    address (the way a hotline pins a hoster it knows), and that contact is
    entered and approved by the admin: notices can go out without a wait.
    """
    admin = User.objects.get(username="admin")
    hotline = orgs[DANISH_HOTLINE]
    for host in HOSTS:
        domain = registered_domain(host.name)
        rule = DomainRule.objects.filter(hotline=hotline, domain=domain).first()
        if rule is None:
            do_save_domain_rule(
                admin,
                hotline,
                {"domain": domain, "force_hoster": host.abuse, "note": f"{host.hoster} (demo)"},
            )
        contact = find_contact(hotline, email=host.abuse)
        if contact is None:
            contact = do_add_contact(
                AbuseContact(
                    hotline=hotline,
                    name=host.hoster,
                    email=host.abuse,
                    kind=ContactKind.HOSTER,
                    country=host.country,
                ),
                actor=admin,
            )
        if contact.approved_at is None:
            do_approve_contact(contact, actor=admin)


def feed_key(orgs: dict[str, Organisation]) -> str:
    """A new API key for the ISP's blocklist feed (the old demo keys stay valid)."""
    _, key = do_create_api_key(orgs[ISP], FEED_KEY_NAME, ApiKeyScope.READ)
    return key


def file_reports(orgs: dict[str, Organisation], port: int) -> int:
    """The demo's reports, filed once: Danish-hosted pages, and one hosted abroad."""
    hotline = orgs[DANISH_HOTLINE]
    if Report.objects.filter(hotline=hotline, external_ref=DEMO_REF).exists():
        return 0
    danish = gallery_urls(DANISH.name, port)
    foreign = gallery_urls(FOREIGN.name, port)
    do_file_report(
        hotline,
        source=ReportSource.PUBLIC,
        urls=danish[:2],
        external_ref=DEMO_REF,
        where_found="A link in a forum post",
        comment="Demo report",
    )
    do_file_report(
        hotline,
        source=ReportSource.PUBLIC,
        urls=[danish[1]],
        external_ref=DEMO_REF,
        comment="The same gallery, reported again",
    )
    do_file_report(
        orgs[DUTCH_HOTLINE],
        source=ReportSource.PUBLIC,
        urls=[danish[2]],
        external_ref=DEMO_REF,
    )
    do_file_report(
        hotline,
        source=ReportSource.PARTNER,
        urls=[danish[3], foreign[0]],
        submitted_by_org=orgs["Demo Partner"],
        escalated=True,
        external_ref=DEMO_REF,
    )
    return 4
