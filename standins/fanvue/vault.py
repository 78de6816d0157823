"""The sandbox's vault state: folders, media with variants and statuses, purchases by fan, saved templates."""

from __future__ import annotations

import random
import secrets
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .model import iso

if TYPE_CHECKING:
    from .world import World

VARIANTS = ("main", "thumbnail", "thumbnail_gallery", "blurred")
STATUSES = ("created", "processing", "ready", "error")
MEDIA_TYPES = ("image", "video", "audio", "document")
URL_LIFETIME = timedelta(minutes=10)  # signed media URLs expire soon, as Fanvue's do
FOLDERS = ("Beach set", "Behind the scenes", "Customs")


@dataclass
class Media:
    uuid: str
    name: str
    media_type: str
    folder: str
    created_at: datetime
    status: str = "ready"
    caption: str | None = None
    recommended_price: int | None = None


@dataclass
class Template:
    uuid: str
    text: str | None
    price: int | None
    media_uuids: list[str]
    folder: str | None


@dataclass
class Vault:
    """One creator's media and templates; thread-safe."""

    media: dict[str, Media] = field(default_factory=dict)
    folders: dict[str, datetime] = field(default_factory=dict)
    templates: list[Template] = field(default_factory=list)
    purchases: set[tuple[str, str]] = field(default_factory=set)  # (fan uuid, media uuid)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def seeded(cls, seed: int, now: datetime) -> Vault:
        """Three folders of media (one item of each still processing) and templates, free and paid."""
        rng = random.Random(seed)
        vault = cls()
        for f, folder in enumerate(FOLDERS):
            vault.folders[folder] = now - timedelta(days=30 - f)
            for i in range(7 + f * 3):
                kind = MEDIA_TYPES[i % 2]
                item = Media(
                    uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    name=f"{folder.lower().replace(' ', '-')}-{i + 1}.{'jpg' if kind == 'image' else 'mp4'}",
                    media_type=kind,
                    folder=folder,
                    created_at=now - timedelta(days=29 - f, hours=i),
                    status="processing" if i == 0 else "ready",
                    caption=f"{folder} #{i + 1}",
                    recommended_price=rng.choice((None, 500, 999)),
                )
                vault.media[item.uuid] = item
        ready = [m.uuid for m in vault.media.values() if m.status == "ready"]
        for t in range(18):
            paid = t % 2 == 0
            vault.templates.append(
                Template(
                    uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    text=f"Template {t + 1}: something special just for you",
                    price=999 if paid else None,
                    media_uuids=[ready[t % len(ready)]] if paid else [],
                    folder=FOLDERS[t % len(FOLDERS)],
                )
            )
        return vault

    def media_json(self, item: Media, variants: list[str], fan: str | None) -> dict:
        if item.status != "ready":
            # Fanvue sends only uuid and status until an item is finalised.
            return {"uuid": item.uuid, "status": item.status}
        body = {
            "uuid": item.uuid,
            "status": item.status,
            "createdAt": iso(item.created_at),
            "caption": item.caption,
            "description": None,
            "name": item.name,
            "mediaType": item.media_type,
            "recommendedPrice": item.recommended_price,
            "tags": None,
            "variants": [_variant(item, kind, VARIANTS.index(kind)) for kind in variants],
        }
        if fan is not None:
            body["purchasedByFan"] = (fan, item.uuid) in self.purchases
        return body

    def send_problem(self, media_uuids: list[str]) -> str | None:
        """Fanvue's refusal of a send's media: someone else's, or not ready yet."""
        with self._lock:
            for media_uuid in media_uuids:
                item = self.media.get(media_uuid)
                if item is None:
                    return f"Media {media_uuid} does not belong to this creator"
                if item.status != "ready":
                    return f"Media {media_uuid} is not ready yet (status {item.status})"
        return None

    def set_status(self, media_uuid: str, status: str) -> dict:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        with self._lock:
            item = self.media[media_uuid]
            item.status = status
            return {"uuid": item.uuid, "status": item.status}

    def bought(self, fan_uuid: str, media_uuids: list[str]) -> None:
        with self._lock:
            self.purchases.update((fan_uuid, m) for m in media_uuids)


_VAULTS: weakref.WeakKeyDictionary[object, Vault] = weakref.WeakKeyDictionary()
_VAULTS_LOCK = threading.Lock()


def vault_of(world: World) -> Vault:
    """The creator's vault, seeded from its uuid the first time it is asked for."""
    with _VAULTS_LOCK:
        vault = _VAULTS.get(world)
        if vault is None:
            creator = world.creator
            seed = uuid.UUID(creator["uuid"]).int % 1_000_003
            vault = _VAULTS[world] = Vault.seeded(seed, datetime.fromisoformat(creator["createdAt"]))
        return vault


def _variant(item: Media, kind: str, position: int) -> dict:
    # A fresh signature on every read: the URL is short-lived and never the same twice.
    expires = int((datetime.now(UTC) + URL_LIFETIME).timestamp())
    url = f"https://media.sandbox.invalid/{kind}/{item.uuid}?Expires={expires}&Signature={secrets.token_hex(16)}"
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{item.uuid}/{kind}")),
        "variantType": kind,
        "displayPosition": position,
        "url": url,
        "width": 1920 if kind in ("main", "blurred") else 320,
        "height": 1080 if kind in ("main", "blurred") else 180,
        "lengthMs": 45_000 if item.media_type == "video" and kind in ("main", "blurred") else None,
    }


def ready_media(world: World, count: int = 1) -> list[str]:
    """Uuids of `count` of the creator's media that can be sent now (for tests and demos)."""
    vault = vault_of(world)
    with vault._lock:
        return [m.uuid for m in vault.media.values() if m.status == "ready"][:count]
