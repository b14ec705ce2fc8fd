"""``openhotline demo``: a whole hotline on one machine, with a small internet on loopback.

``openhotline.cli`` sets the demo's settings before Django starts (see
``DEMO_SETTINGS`` there): no second factor, the demo geo file, the demo DNS
server and mail catcher as the crawler's and the notices' servers, the stop
page's address. This command starts those servers on the addresses the
settings name, fills the database (``demo/scenario.py``) and serves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.demo import scenario
from openhotline.demo.dns import start_demo_dns
from openhotline.demo.hosts import ADDRESSES, DANISH, FOREIGN, HOSTS
from openhotline.demo.mailbox import mailbox_dir
from openhotline.demo.mailcatcher import start_mail_catcher
from openhotline.demo.site import start_demo_site
from openhotline.ops.runtime import migrate_if_needed


class Command(BaseCommand):
    help = "Set up a demo hotline with users, demo websites and reports, then serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--site-port", type=int, default=8765, help="demo websites' port")
        parser.add_argument("--no-serve", action="store_true", help="set up, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.OPENHOTLINE_DNS_SERVERS:
            raise CommandError("OPENHOTLINE_DNS_SERVERS: the demo needs its DNS server's address")
        migrate_if_needed()
        site = start_demo_site(ADDRESSES, port=options["site_port"])
        port = int(site.servers[0].server_address[1])
        if not options["no_serve"]:
            dns_host, dns_port = settings.OPENHOTLINE_DNS_SERVERS[0]
            start_demo_dns({h.name: h.address for h in HOSTS}, dns_host, dns_port)
            start_mail_catcher(
                mailbox_dir(),
                settings.OPENHOTLINE_SMTP_HOST,
                settings.OPENHOTLINE_SMTP_PORT,
                on_message=site.take_down,
            )
        orgs = scenario.create_organisations()
        logins = scenario.create_users(orgs)
        scenario.prepare_hosting(orgs)
        key = scenario.feed_key(orgs)
        filed = scenario.file_reports(orgs, port)

        out = self.stdout.write
        out("\nDemo logins (passwords are new on every run):")
        for username, org_name, role, password in logins:
            out(f"  {username:<11} {password}   {role} of {org_name}")
        out("")
        for host in HOSTS:
            out(
                f"Demo website in {host.country} ({host.hoster}): "
                f"http://{host.name}:{port}/gallery/0 … /3"
            )
        out(f"Reports filed now: {filed}")
        base = f"http://{options['addr']}"
        danish = orgs[scenario.DANISH_HOTLINE].slug
        out(f"Report form: {base}/report/{danish}/ (try http://{DANISH.name}:{port}/gallery/2)")
        out(f"Hosted abroad (INTERPOL): http://{FOREIGN.name}:{port}/gallery/0")
        out(f"Notices sent: {base}/app/demo/mailbox/")
        out(f"ISP feed key: {key}")
        out(f"  curl -H 'Authorization: Bearer {key}' {base}/feed/v1/blocklist.rpz")
        if options["no_serve"]:
            return
        out(f"Log in at {base}/accounts/login/\n")
        call_command("serve", addr=options["addr"])
