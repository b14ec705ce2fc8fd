from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django_countries import countries

from openhotline.accounts.models import Organisation, OrgKind, User
from openhotline.audit.log import record
from openhotline.network.actions.police_feedback import do_remind_unacknowledged
from openhotline.network.actions.police_settings import do_set_agency_admin
from openhotline.network.actions.routing import route_quietly
from openhotline.network.lea_access import seat_for_user
from openhotline.network.models import MemberHotline
from openhotline.reports.models import ReportedUrl, UrlState


class Command(BaseCommand):
    help = (
        "The network of member hotlines: `member list`, `member set COUNTRY (--hotline SLUG | "
        "--name NAME --email ADDRESS) [--police-hours N] [--inactive]`, `member remove "
        "COUNTRY`, `route` (route illegal URLs that have no route yet), `agency-admin USERNAME "
        "[--off]` (give a police or INTERPOL officer the agency_admin role: edits the agency's "
        "referral priority and manages its people) and "
        "`remind` (remind referrals the police have not acknowledged)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        member = sub.add_parser("member", help="the directory of member hotlines")
        actions = member.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="list the members, one country a line")
        put = actions.add_parser("set", help="add or change a country's member")
        put.add_argument("country", help="ISO 3166-1 alpha-2 code, e.g. NL")
        put.add_argument("--hotline", help="slug of a hotline on this installation")
        put.add_argument("--name", help="name of an external hotline")
        put.add_argument("--email", help="where an external hotline receives forwards")
        put.add_argument("--police-hours", type=int, help="hold notices N hours after referral")
        put.add_argument("--inactive", action="store_true", help="keep listed, but do not route")
        remove = actions.add_parser("remove", help="remove a country's member")
        remove.add_argument("country")
        sub.add_parser("route", help="route URLs assessed illegal that have no route")
        admin = sub.add_parser("agency-admin", help="give an officer the agency_admin role")
        admin.add_argument("username")
        admin.add_argument("--off", action="store_true", help="take the right away")
        sub.add_parser("remind", help="remind referrals not acknowledged in time (once each)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "route":
            self._route()
            return
        if options["subcommand"] == "agency-admin":
            self._agency_admin(options["username"], admin=not options["off"])
            return
        if options["subcommand"] == "remind":
            self.stdout.write(f"{do_remind_unacknowledged()} reminded")
            return
        action = options["action"]
        if action == "list":
            for m in MemberHotline.objects.select_related("organisation"):
                where = "here" if m.organisation_id else (m.contact_email or "-")
                state = "" if m.active else " (inactive)"
                self.stdout.write(
                    f"{m.country}  {m.name}  {where}  police-first {m.police_first_hours}h{state}"
                )
            return
        country = options["country"].upper()
        if country not in dict(countries):
            raise CommandError(f"unknown country code {country!r}")
        if action == "remove":
            deleted = MemberHotline.objects.filter(country=country, routes__isnull=True).delete()
            if not deleted[0]:
                raise CommandError(f"no member for {country}, or it has routes (use --inactive)")
            record("network.member_removed", object_type="network.memberhotline", object_id=country)
            return
        self._set(country, options)

    def _set(self, country: str, options: dict[str, Any]) -> None:
        values: dict[str, Any] = {"active": not options["inactive"]}
        if options["hotline"]:
            org = Organisation.objects.filter(slug=options["hotline"], kind=OrgKind.HOTLINE).first()
            if org is None:
                raise CommandError(f"no hotline with the slug {options['hotline']!r}")
            values.update(organisation=org, name=options["name"] or org.name)
            values["contact_email"] = options["email"] or org.contact_email
        elif options["name"] and options["email"]:
            values.update(organisation=None, name=options["name"], contact_email=options["email"])
        elif not MemberHotline.objects.filter(country=country).exists():
            raise CommandError("give --hotline SLUG, or --name and --email for an external one")
        if options["police_hours"] is not None:
            values["police_first_hours"] = max(0, options["police_hours"])
        member, created = MemberHotline.objects.update_or_create(country=country, defaults=values)
        record(
            "network.member_set",
            object_type="network.memberhotline",
            object_id=country,
            detail={k: str(v) for k, v in values.items()},
        )
        self.stdout.write(f"{'added' if created else 'changed'}: {member}")

    def _route(self) -> None:
        waiting = ReportedUrl.objects.filter(
            state=UrlState.ILLEGAL, assessment__in_force_at__isnull=False, route__isnull=True
        )
        routed = 0
        for url in waiting.iterator():
            route = route_quietly(url)
            if route is not None:
                routed += 1
                self.stdout.write(f"{url.code}  {route.kind}  {route.country}")
        self.stdout.write(f"{routed} routed")

    def _agency_admin(self, username: str, *, admin: bool) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        try:
            seat = seat_for_user(user)
        except Http404:
            raise CommandError(f"{username} is no police or INTERPOL officer") from None
        do_set_agency_admin(user, admin, organisation=seat.organisation)
        state = "may" if admin else "may no longer"
        self.stdout.write(f"{username} {state} edit the priority of {seat.organisation.name}")
