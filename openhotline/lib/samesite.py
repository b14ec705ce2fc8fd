"""Whether two URLs are one site, by the public suffix list.

The crawler follows a gallery's pages only within the site of the page that
links them. "Site" is the registrable domain ("www.example.co.uk" and
"img.example.co.uk" are one site), with the private section of the public
suffix list counted as suffixes: on shared hosting ("alice.github.io",
"someone.blogspot.com") each customer's name is its own site, never its
neighbours'. An IP address, or a host that is itself a suffix, is a site
only with itself.
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList


@functools.cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()


def site_of(url: str) -> str:
    """The site of `url` ("" when it has no host): its registrable domain, or the host itself."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""
    if not host:
        return ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _suffix_list().privatesuffix(host) or host
    return host


def same_site(a: str, b: str) -> bool:
    """Whether `a` and `b` belong to one site (see the module docstring)."""
    site = site_of(a)
    return site != "" and site == site_of(b)
