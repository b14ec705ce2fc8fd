"""Is an address a CDN's or reverse proxy's? From range lists shipped as dated data files.

Behind Cloudflare and its kind, the address a site resolves to is the
provider's edge, usually in the visitor's own country: routing a notice by
that country would be wrong. The trace says so, and names the provider, to
whom the notice then goes. Files: openhotline/crawler/data/cdn/ (see its
README for where they come from and how to refresh them).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from openhotline.lib.netcheck import IPNetwork

SHIPPED_DIR = Path(__file__).resolve().parent / "data" / "cdn"


@dataclass(frozen=True)
class CdnProvider:
    name: str
    abuse: str
    source: str
    as_of: str
    complete: bool
    networks: tuple[IPNetwork, ...]
    # "built-in" (the dated lists shipped here), "loaded" (`openhotline crawler data
    # update`) or "OPENHOTLINE_CDN_RANGES_DIR".
    origin: str = "built-in"

    def contains(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip.version == net.version and ip in net for net in self.networks)


class CdnRangesError(ValueError):
    """A ranges file is malformed; the message names the file and line."""


def parse_ranges(text: str, name: str) -> CdnProvider:
    """Parse one ranges file (``# key: value`` headers, then one network a line)."""
    header: dict[str, str] = {}
    networks: list[IPNetwork] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and key.strip() in ("provider", "abuse", "source", "as-of", "complete"):
                header.setdefault(key.strip(), value.strip())
            continue
        try:
            networks.append(ipaddress.ip_network(line.split()[0], strict=False))
        except ValueError as exc:
            raise CdnRangesError(f"{name}, line {number}: {exc}") from None
    return CdnProvider(
        name=header.get("provider") or name,
        abuse=header.get("abuse", ""),
        source=header.get("source", ""),
        as_of=header.get("as-of", ""),
        complete=header.get("complete", "yes").lower() != "no",
        networks=tuple(networks),
    )


@lru_cache(maxsize=4)
def load_providers(extra_dir: str = "") -> tuple[CdnProvider, ...]:
    """The shipped lists, with files in `extra_dir` replacing or adding to them."""
    files = {path.name: path for path in sorted(SHIPPED_DIR.glob("*.txt"))}
    if extra_dir:
        files.update({path.name: path for path in sorted(Path(extra_dir).glob("*.txt"))})
    return tuple(parse_ranges(path.read_text(), path.name) for _, path in sorted(files.items()))


def provider_for(address: str, providers: tuple[CdnProvider, ...]) -> CdnProvider | None:
    """The provider whose published ranges hold `address`, or None."""
    return next((p for p in providers if p.contains(address)), None)
