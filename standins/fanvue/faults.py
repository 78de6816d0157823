"""Faults queued by tests and consumed by matching API requests."""

from __future__ import annotations

import threading
from dataclasses import dataclass

# "store_then_hang": the request takes effect, then its answer is held until the hang time ends and dropped.
# "404": the route answers as if this server did not have it (a Fanvue-compatible server without an endpoint).
FAULT_KINDS = frozenset({"404", "500", "503", "429", "hang", "drop_response", "store_then_hang"})


@dataclass
class Fault:
    """Answer the next `count` matching requests with `kind` instead of normally."""

    kind: str
    count: int = 1
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or path.startswith(self.path) or self.path in path

    def as_json(self) -> dict:
        return {"kind": self.kind, "count": self.count, "method": self.method, "path": self.path}


class FaultPlan:
    """A thread-safe queue of faults; the first matching one is used and its count goes down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: str, count: int = 1, method: str | None = None, path: str | None = None) -> Fault:
        kind = str(kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("fault count must be at least 1")
        fault = Fault(kind=kind, count=count, method=method, path=path)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault.kind
        return None

    def pending(self) -> list[dict]:
        with self._lock:
            return [fault.as_json() for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
