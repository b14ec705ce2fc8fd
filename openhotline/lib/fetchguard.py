"""A hard total deadline for blocking HTTP requests, and urllib3 pools that obey it.

Socket timeouts bound each read, not the request: a server that sends one
byte every few seconds never trips them and can hold a worker for hours. One
watchdog thread keeps every live request's deadline and, when one passes,
shuts down the sockets of that request's connections, which wakes the blocked
read at once.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.contrib.socks import SOCKSConnection, SOCKSHTTPSConnection

_local = threading.local()


class Deadline:
    """The end time of one request and the connections it is using."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.fired = False
        self.done = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - time.monotonic()

    def watch(self, conn: Any) -> None:
        """Shut `conn`'s socket down if the deadline passes while it is in use."""
        with self._lock:
            if not self.done:
                self._conns.append(conn)

    def fire(self) -> None:
        """Called by the watchdog: mark timed out and wake any blocked read."""
        with self._lock:
            if self.done:
                return
            self.fired = True
            for conn in self._conns:
                sock = getattr(conn, "sock", None)
                if sock is not None:
                    try:
                        # socket.socket's own shutdown: on an SSLSocket, this leaves
                        # the TLS object alone for the thread still reading it.
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
                    except OSError:
                        pass

    def finish(self) -> None:
        """The request is over: its connections may go back to the pool untouched."""
        with self._lock:
            self.done = True
            self._conns.clear()


class _Watchdog:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (deadline.at, next(self._counter), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="fetch-deadline", daemon=True
                )
                self._thread.start()
            # Only an earlier deadline changes how long the watchdog must sleep.
            if earliest is None or deadline.at < earliest:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                at, _, deadline = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0 and not deadline.done:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            if not deadline.done:
                deadline.fire()


_WATCHDOG = _Watchdog()


@contextmanager
def start_deadline(seconds: float) -> Iterator[Deadline]:
    """Run the block under a deadline that connections pick up from this thread."""
    deadline = Deadline(seconds)
    previous = getattr(_local, "deadline", None)
    _local.deadline = deadline
    _WATCHDOG.add(deadline)
    try:
        yield deadline
    finally:
        deadline.finish()
        _local.deadline = previous


def current_deadline() -> Deadline | None:
    """The deadline of the request running in this thread, if any."""
    return getattr(_local, "deadline", None)


def _watch(conn: HTTPConnection) -> None:
    deadline = current_deadline()
    if deadline is not None:
        deadline.watch(conn)


class _Conn(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _TlsConn(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Conn


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TlsConn


class _SocksConn(SOCKSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _SocksTlsConn(SOCKSHTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _SocksPool(HTTPConnectionPool):
    ConnectionCls = _SocksConn


class _SocksTlsPool(HTTPSConnectionPool):
    ConnectionCls = _SocksTlsConn


def guarded_pool_class(*, tls: bool, socks: bool) -> type[HTTPConnectionPool]:
    """The urllib3 pool class whose connections obey the thread's deadline."""
    if socks:
        return _SocksTlsPool if tls else _SocksPool
    return _TlsPool if tls else _Pool
