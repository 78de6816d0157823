"""HTTP connections a watchdog can cut at a deadline, so no phase of a call (headers included) outlasts it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests.adapters
import urllib3.connection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# requests' timeout applies to each read: a server that sends a byte a second never trips it. Each
# connection says which thread sends on it, and that thread's watchdog shuts its socket at the deadline.
_sending = threading.local()


class _Tracked(urllib3.connection.HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> Any:
        connections = getattr(_sending, "connections", None)
        if connections is not None:
            connections.append(self)
        return super().request(*args, **kwargs)


class _HTTPConnection(_Tracked, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Tracked, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """An HTTPAdapter whose connections `cut_at` can shut down."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


@contextlib.contextmanager
def cut_at(deadline: float) -> Iterator[None]:
    """Within the block, the connections this thread sends on (through a DeadlineAdapter) are shut down
    at `deadline` (a time.monotonic() value): a read waiting on them returns at once, as a broken connection."""
    connections: list[Any] = []

    def cut() -> None:
        for connection in list(connections):
            sock = getattr(connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), cut)
    timer.daemon = True
    _sending.connections = connections
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        _sending.connections = None
