"""The demo's DNS server: the demo host names, and nothing else, on a loopback UDP port.

The crawler and the hosting trace ask it (``OPENHOTLINE_DNS_SERVERS``, set by
``openhotline demo``), so the demo's web sites have real names, as the DNS
blocklist formats need. Every other name is NXDOMAIN: nothing leaves the machine.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class DemoDns:
    def __init__(self, names: Mapping[str, str], host: str, port: int) -> None:
        self.names = {name.lower().rstrip("."): address for name, address in names.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()

    def answer(self, data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA | dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        address = self.names.get(name)
        if address is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A:
            response.answer.append(dns.rrset.from_text(name + ".", 60, "IN", "A", address))
        return bytes(response.to_wire())

    def serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                self.sock.sendto(self.answer(data), peer)
            except (dns.exception.DNSException, IndexError):  # malformed: no answer
                continue

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()


def start_demo_dns(names: Mapping[str, str], host: str, port: int) -> DemoDns:
    """Answer for ``names`` on ``host:port`` in a daemon thread."""
    server = DemoDns(names, host, port)
    threading.Thread(target=server.serve, daemon=True, name="demo-dns").start()
    return server
