"""The demo's small internet: two hosting companies, each on its own loopback address.

One table feeds the demo's DNS server (names to addresses), its geo file
(addresses to countries, ``data/demo-geo.mmdb``, built by
``scripts/build-demo-geo``) and its website (served on both addresses).
Nothing here is reachable from outside the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

GEO_FILE = Path(__file__).resolve().parent / "data" / "demo-geo.mmdb"


@dataclass(frozen=True)
class DemoHost:
    name: str  # the web site's host name
    address: str  # the loopback address its DNS name points at
    country: str  # where the demo geo file places that address
    hoster: str  # the hosting company, named by the demo's domain rule
    abuse: str  # its abuse address (the demo's mail catcher receives everything)


# Denmark is the demo hotline's own country: a police referral and a notice.
# The other country has no member hotline in the demo's directory: INTERPOL.
DANISH = DemoHost(
    "gallery.dk-hosting.test", "127.0.0.1", "DK", "DK Hosting ApS", "abuse@dk-hosting.test"
)
FOREIGN = DemoHost(
    "pics.faraway-hosting.test", "127.0.0.2", "US", "Faraway Hosting Inc", "abuse@faraway.test"
)
HOSTS = (DANISH, FOREIGN)
ADDRESSES = tuple(host.address for host in HOSTS)


def build_geo_file(path: Path = GEO_FILE) -> None:
    """Write the demo's country database (MaxMind format); needs ``mmdb-writer``.

    Only the demo's loopback addresses are in it: any other address is in no
    country here, and the shipped GeoLite2 data answers for it as usual.
    """
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="openhotline-demo-country",
        description={"en": "openhotline demo: loopback addresses placed in countries"},
    )
    for host in HOSTS:
        writer.insert_network(
            IPSet([f"{host.address}/32"]), {"country": {"iso_code": host.country}}
        )
    writer.to_db_file(str(path))
