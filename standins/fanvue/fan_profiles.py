"""The sandbox's fan context data: who each fan is to the creator and whether they are online, seeded."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Person, iso

BATCH_ERRORS = (None, "forbidden", "not_found", "internal")


@dataclass
class FanProfile:
    """Who one fan is to the creator, and whether they are online. Money in USD cents."""

    status: str
    sources: dict[str, int]
    biggest_cents: int
    last_purchase_at: datetime | None
    subscribed_at: datetime | None
    renews_at: datetime | None
    auto_renew: bool
    online: bool
    last_seen_at: datetime | None
    # Answer the insights routes with this per-fan error instead ("forbidden", "not_found", "internal").
    error: str | None = None

    @property
    def total_cents(self) -> int:
        return sum(self.sources.values())

    def insights_json(self) -> dict:
        return {
            "status": self.status,
            "spending": {
                "lastPurchaseAt": iso(self.last_purchase_at),
                "maxSinglePayment": _amount(self.biggest_cents),
                "sources": {name: _amount(cents) for name, cents in self.sources.items()},
                "total": _amount(self.total_cents),
            },
            "subscription": {
                "autoRenewalEnabled": self.auto_renew,
                "createdAt": iso(self.subscribed_at),
                "renewsAt": iso(self.renews_at),
            },
        }

    def status_json(self) -> dict:
        return {"isOnline": self.online, "lastSeenAt": iso(self.last_seen_at)}

    def as_json(self) -> dict:
        return {**self.insights_json(), **self.status_json(), "error": self.error}


def _amount(cents: int) -> dict:
    # `gross` is the deprecated twin of `total`; Fanvue still sends both with the same value.
    return {"gross": cents, "total": cents}


class FanProfiles:
    """Every fan's profile, keyed by fan uuid; thread-safe."""

    def __init__(self, profiles: dict[str, FanProfile]) -> None:
        self._lock = threading.Lock()
        self._profiles = profiles

    @classmethod
    def seeded(cls, fans: Iterable[Person], seed: int, now: datetime) -> FanProfiles:
        """Varied by `seed`; the first fans always cover each case (see `_fixed`)."""
        rng = random.Random(seed)
        return cls({fan.uuid: _profile(rng, index, fan, now) for index, fan in enumerate(fans)})

    def get(self, fan_uuid: str) -> FanProfile | None:
        with self._lock:
            found = self._profiles.get(fan_uuid)
            return None if found is None else dataclasses.replace(found, sources=dict(found.sources))

    def update(self, fan_uuid: str, changes: dict) -> dict:
        """Apply a control request's changes; unknown fan -> KeyError, bad values -> ValueError."""
        with self._lock:
            profile = self._profiles[fan_uuid]
            for key, apply in _CHANGES.items():
                if key in changes:
                    apply(profile, changes[key])
            return profile.as_json()


def _profile(rng: random.Random, index: int, fan: Person, now: datetime) -> FanProfile:
    status, spends, auto_renew, presence = _fixed(index) or (
        rng.choices(["subscriber", "expired", "follower"], [55, 20, 25])[0],
        rng.random() > 0.3,
        rng.random() < 0.7,
        rng.choices(["online", "offline", "hidden"], [15, 75, 10])[0],
    )
    if not fan.contactable:
        status = "not_contactable"
    sources: dict[str, int] = {}
    last_purchase = None
    if spends:
        scale = 10 if fan.is_top_spender else 1
        sources = {"subscription": rng.choice([999, 1499, 1999]) * rng.randint(1, 6)}
        for name in ("tips", "message", "post"):
            if rng.random() < 0.6:
                sources[name] = rng.randint(3, 120) * 100 * scale
        last_purchase = now - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1439))
    biggest = rng.randint(300, max(sources.values())) if sources else 0
    subscribed = None if status == "follower" else now - timedelta(days=rng.randint(10, 400))
    renews = now + timedelta(days=rng.randint(1, 30)) if status == "subscriber" else None
    last_seen = {
        "online": now,
        "offline": now - timedelta(minutes=rng.randint(5, 14 * 24 * 60)),
        "hidden": None,
    }[presence]
    return FanProfile(
        status=status,
        sources=sources,
        biggest_cents=biggest,
        last_purchase_at=last_purchase,
        subscribed_at=subscribed,
        renews_at=renews,
        auto_renew=status == "subscriber" and auto_renew,
        online=presence == "online",
        last_seen_at=last_seen,
    )


def _fixed(index: int) -> tuple[str, bool, bool, str] | None:
    """(status, has purchases, auto-renew, presence) of the first fans, so every seed has each case."""
    return {
        0: ("subscriber", True, True, "online"),
        1: ("expired", True, False, "offline"),
        2: ("subscriber", True, False, "offline"),  # the seed's fan who cannot be messaged
        3: ("follower", False, False, "hidden"),
        4: ("subscriber", False, False, "offline"),
    }.get(index)


def _when(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a time must be an ISO-8601 string or null")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _cents(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("an amount must be a whole number of cents, at least 0")
    return value


def _error(value: object) -> str | None:
    if value not in BATCH_ERRORS:
        raise ValueError(f"error must be one of {BATCH_ERRORS}")
    return value  # type: ignore[return-value]


def _set(name: str, convert: Callable[[object], object]) -> Callable[[FanProfile, object], None]:
    return lambda profile, value: setattr(profile, name, convert(value))


# The control's fields; a status may be any string, to imitate a value Fanvue adds without notice.
_CHANGES: dict[str, Callable[[FanProfile, object], None]] = {
    "status": _set("status", str),
    "totalCents": lambda p, v: setattr(p, "sources", {"tips": _cents(v)} if _cents(v) else {}),
    "biggestCents": _set("biggest_cents", _cents),
    "lastPurchaseAt": _set("last_purchase_at", _when),
    "subscribedAt": _set("subscribed_at", _when),
    "renewsAt": _set("renews_at", _when),
    "autoRenew": _set("auto_renew", bool),
    "online": _set("online", bool),
    "lastSeenAt": _set("last_seen_at", _when),
    "error": _set("error", _error),
}
