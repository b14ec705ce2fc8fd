"""A tiny DNS server on 127.0.0.1 (UDP) answering from a dict, for crawler tests.

Like a recursive resolver, it follows CNAMEs itself and puts the whole
chain in the answer. Names it does not know get NXDOMAIN. No query ever
leaves the machine.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

Records = Mapping[
    str, Sequence[tuple[str, str]]
]  # name -> [(type, value)], e.g. ("A", "127.0.0.1")


class DnsServer:
    def __init__(self, records: Records, host: str = "127.0.0.1") -> None:
        self.records = {name.lower().rstrip("."): list(rrs) for name, rrs in records.items()}
        self.queries: list[tuple[str, str]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.1)
        self.host = host
        self.port = int(self.sock.getsockname()[1])
        self._stop = threading.Event()

    def serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                answer = self.answer(data)
            except dns.exception.DNSException:  # a malformed query gets no answer
                continue
            self.sock.sendto(answer, peer)

    def answer(self, data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        current = name
        for _ in range(10):
            records = self.records.get(current)
            if records is None:
                if current == name:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                break
            targets = [value for kind, value in records if kind == "CNAME"]
            if targets:
                target = targets[0].rstrip(".").lower()
                response.answer.append(
                    dns.rrset.from_text(current + ".", 60, "IN", "CNAME", target + ".")
                )
                current = target
                continue
            values = [value for kind, value in records if kind == rdtype]
            if values:
                response.answer.append(
                    dns.rrset.from_text(current + ".", 60, "IN", rdtype, *values)
                )
            break
        return bytes(response.to_wire())

    def stop(self) -> None:
        self._stop.set()


@contextmanager
def dns_server(records: Records) -> Iterator[DnsServer]:
    server = DnsServer(records)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(timeout=5)
        server.sock.close()
