"""The address a request came from, for login throttling and intake's rate limit.

``REMOTE_ADDR`` unless ``OPENHOTLINE_CLIENT_IP_HEADER`` names the header a
reverse proxy puts the client's address in. Of that header only the right-most
value counts: the proxy appended it, while values to its left come from the
client and can be forged.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest, header: str | None = None) -> str | None:
    """The client's address, or None when the request carries none that parses.

    ``header`` names the proxy's header to read instead of the general
    ``OPENHOTLINE_CLIENT_IP_HEADER`` (intake has its own setting). A request
    made up in code has no ``REMOTE_ADDR``; behind a proxy on a unix socket it
    is empty. django-axes stores None as no address, and counts all such
    requests as one address, so set ``OPENHOTLINE_CLIENT_IP_HEADER`` there.
    """
    header = settings.OPENHOTLINE_CLIENT_IP_HEADER if header is None else header
    raw = ""
    if header:
        meta_name = "HTTP_" + header.upper().replace("-", "_")
        raw = request.META.get(meta_name, "").split(",")[-1].strip()
    if not raw:
        raw = request.META.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # One household or server gets a whole /64: count it as one address.
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return str(address)
