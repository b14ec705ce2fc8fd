"""Benchmark: a blocklist of a million entries, exported as RPZ and loaded by Unbound.

Builds a fresh database (SQLite in a temporary directory, or DATABASE_URL), fills
one hotline's list with generated entries (a share of them whole domains),
publishes it through the guards, then times:

1. our RPZ export (``exportfiles.write_version``), goal <= 10 s;
2. a naive export over the same version: one ORM object per row and a string
   built per record, as a first attempt would write it; the ratio is printed;
3. Unbound loading the zone (from process start to the first correct answer),
   and a sample of blocked and unblocked names answered correctly.

Unbound runs on 127.0.0.1 with a local stub as its only upstream; nothing leaves
the machine. Example: ``python benchmarks/blocklist.py --entries 1000000``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openhotline.accounts.models import Organisation, User

DOMAIN_SHARE = 0.2
ZONE = "rpz.bench.test"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries on the list")
    parser.add_argument(
        "--naive-entries",
        type=int,
        default=0,
        help="time the naive export on the first N entries only (default: all)",
    )
    parser.add_argument("--sample", type=int, default=2000, help="names checked through Unbound")
    parser.add_argument("--no-unbound", action="store_true", help="skip the Unbound part")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args()


def setup_django(data_dir: Path) -> None:
    os.environ["OPENHOTLINE_DATA"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")
    os.environ["OPENHOTLINE_STOPPAGE_ADDRESSES"] = "127.0.0.1"
    os.environ["OPENHOTLINE_RPZ_ZONE"] = ZONE
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def entry_values(count: int) -> list[tuple[str, str, str]]:
    """(kind, value, host): whole domains, whole hosts, and URLs on shared hosts.

    URL entries do not reach the DNS exports; they are a tenth of the list here,
    so the RPZ still carries about 900,000 names of a million entries.
    """
    rows = []
    for i in range(count):
        if i % int(1 / DOMAIN_SHARE) == 0:
            host = f"d{i}.example{i % 997}.test"
            rows.append(("domain", host, host))
        elif i % 10 == 1:
            host = f"www.s{i - i % 4}.example{i % 991}.test"
            rows.append(("url", f"http://{host}/gallery/{i}", host))
        else:
            host = f"www.s{i}.example{i % 991}.test"
            rows.append(("host", host, host))
    return rows


def fill(count: int) -> tuple[Organisation, User, list[tuple[str, str, str]]]:
    from django.utils import timezone

    from openhotline.accounts.actions import do_create_organisation, do_create_user
    from openhotline.blocking.actions.entries import get_source
    from openhotline.blocking.models import BlocklistEntry, EntryState, new_entry_code

    hotline = do_create_organisation("Bench Hotline", "hotline", "DK")
    senior = do_create_user("bench-senior", hotline, "senior_analyst", password=None)
    source = get_source(hotline, "Generated list")
    rows = entry_values(count)
    now = timezone.now()
    batch = []
    for kind, value, host in rows:
        batch.append(
            BlocklistEntry(
                code=new_entry_code(),
                hotline=hotline,
                kind=kind,
                value=value,
                host=host,
                dedicated=kind != "url",
                source=source,
                state=EntryState.APPROVED,
                proposed_at=now,
                approved_by=senior,
                approved_at=now,
                first_verified_at=now,
                last_verified_at=now,
            )
        )
        if len(batch) == 5000:
            BlocklistEntry.objects.bulk_create(batch)
            batch = []
    BlocklistEntry.objects.bulk_create(batch)
    return hotline, senior, rows


def naive_rpz(path: Path, hotline: Organisation, serial: int, limit: int) -> None:
    """What a first attempt looks like: model objects per row, one record string each."""
    from django.conf import settings
    from django.db.models import Q

    from openhotline.blocking.models import PublishedSpan

    spans = (
        PublishedSpan.objects.filter(hotline=hotline, start_serial__lte=serial)
        .filter(Q(end_serial__isnull=True) | Q(end_serial__gt=serial))
        .select_related("entry")
        .order_by("entry__host")
    )
    if limit:
        spans = spans[:limit]
    with path.open("w") as out:
        out.write(f"$ORIGIN {ZONE}.\n$TTL 300\n@ SOA localhost. h.{ZONE}. ({serial} 1 1 1 1)\n")
        out.write("  NS localhost.\n")
        written: set[str] = set()
        for span in spans.iterator(chunk_size=2000):
            entry = span.entry
            if entry.kind == "url" or entry.host in written:
                continue
            written.add(entry.host)
            for address in settings.OPENHOTLINE_STOPPAGE_ADDRESSES:
                out.write(entry.host + " A " + address + "\n")
                if entry.kind == "domain":
                    out.write("*." + entry.host + " A " + address + "\n")


def stub_server(stop: threading.Event) -> int:
    """An authoritative stub on loopback: "ok<N>.allowed.test" -> 192.0.2.1, else NXDOMAIN."""
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.rrset

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            name = query.question[0].name.to_text()
            if name.endswith(".allowed.test.") and query.question[0].rdtype == 1:
                response.answer.append(dns.rrset.from_text(name, 60, "IN", "A", "192.0.2.1"))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(response.to_wire(), peer)
        sock.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(sock.getsockname()[1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_unbound(
    workdir: Path, zone_file: Path, rows: list[tuple[str, str, str]], sample: int
) -> None:
    import dns.exception
    import dns.message
    import dns.query

    binary = shutil.which("unbound") or "/usr/sbin/unbound"
    if not Path(binary).exists():
        print("unbound: not installed (apt-get install unbound); skipped")
        return
    stop = threading.Event()
    stub_port = stub_server(stop)
    port = free_port()
    config = workdir / "unbound.conf"
    config.write_text(
        f"""server:
    interface: 127.0.0.1
    port: {port}
    outgoing-interface: 127.0.0.1
    do-ip6: no
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "{workdir}"
    pidfile: ""
    logfile: ""
    use-syslog: no
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "respip iterator"
    local-zone: "test." nodefault
remote-control:
    control-enable: no
rpz:
    name: "{ZONE}."
    zonefile: "{zone_file}"
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{stub_port}
"""
    )

    def ask(name: str) -> tuple[int, list[str]]:
        answer = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", 2, port)
        return answer.rcode(), [r.to_text() for s in answer.answer for r in s if s.rdtype == 1]

    last_host = rows[-1][2] + "."
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "-d", "-c", str(config)], stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if ask(last_host) == (0, ["127.0.0.1"]):
                    break
            except (dns.exception.Timeout, ConnectionRefusedError):
                pass
            if proc.poll() is not None:
                print("unbound: stopped while loading")
                return
            if time.perf_counter() - started > 600:
                print("unbound: no correct answer within 600 s")
                return
            time.sleep(0.05)
        loaded = time.perf_counter() - started
        print(f"unbound: loaded and answered in {loaded:.1f} s")
        rng = random.Random(7)
        whole_names = [row for row in rows if row[0] != "url"]
        picks = rng.sample(whole_names, min(sample, len(whole_names)))
        blocked_ok = sum(
            ask(("sub." if kind == "domain" else "") + host + ".") == (0, ["127.0.0.1"])
            for kind, _value, host in picks
        )
        allowed_ok = sum(
            ask(f"ok{i}.allowed.test.") == (0, ["192.0.2.1"]) for i in range(sample // 10)
        )
        print(
            f"unbound: {blocked_ok}/{len(picks)} blocked names answered with the stop page, "
            f"{allowed_ok}/{sample // 10} unblocked names resolved normally"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        stop.set()


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="blocklist-bench-"))
    try:
        setup_django(workdir / "data")
        from openhotline.blocking.actions.publishing import do_publish
        from openhotline.blocking.exportfiles import write_version
        from openhotline.blocking.exports import ExportOptions

        started = time.perf_counter()
        hotline, senior, rows = fill(args.entries)
        elapsed = time.perf_counter() - started
        print(f"setup: {args.entries} approved entries stored in {elapsed:.1f} s")

        started = time.perf_counter()
        outcome = do_publish(hotline, actor=senior, override=True)
        print(f"publish (guards + version): {time.perf_counter() - started:.1f} s")
        publication = outcome.publication
        if publication is None:
            raise SystemExit("publish made no version: nothing was approved")

        zone_file = workdir / "blocklist.rpz"
        started = time.perf_counter()
        with zone_file.open("w") as out:
            write_version("rpz", out, hotline, publication, ExportOptions.from_settings())
        ours = time.perf_counter() - started
        size = zone_file.stat().st_size / 1e6
        print(
            f"rpz export (ours): {ours:.2f} s, {size:.0f} MB, goal <= 10 s: "
            f"{'met' if ours <= 10 else 'MISSED'}"
        )

        limit = args.naive_entries
        started = time.perf_counter()
        naive_rpz(workdir / "naive.rpz", hotline, publication.serial, limit)
        naive = time.perf_counter() - started
        if limit and limit < args.entries:
            naive = naive * args.entries / limit
            print(f"rpz export (naive, per-row ORM): {naive:.2f} s (extrapolated from {limit})")
        else:
            print(f"rpz export (naive, per-row ORM): {naive:.2f} s")
        print(f"ratio naive / ours: {naive / ours:.1f}x")

        if not args.no_unbound:
            run_unbound(workdir, zone_file, rows, args.sample)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
