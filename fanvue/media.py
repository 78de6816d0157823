"""HTTP client for a creator's vault: folders, media (blurred previews only), purchases and saved templates;
through an agency login, the creator's media alone (Fanvue gives agencies no vault folders or templates)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from fanvue.client import MAX_PAGE_SIZE, FanvueClient, _segment
from fanvue.errors import FanvueError, NotFoundError
from fanvue.models import _extra, _obj, _optional, _required, _time, page_items
from fanvue.ratelimit import RateBudget

logger = logging.getLogger(__name__)

# The only variant this app ever asks for: explicit content must never reach Slack, so neither the main
# file nor a thumbnail (which can show it) is requested; Fanvue sends URLs only for the variants asked for.
BLURRED = "blurred"
READY = "ready"  # the media status Fanvue sends once a file can be attached to a message
FOLDERS_PATH = "/vault/folders"
MEDIA_PATH = "/media"
TEMPLATES_PATH = "/chats/templates"


@dataclass(frozen=True)
class VaultFolder:
    name: str
    media_count: int
    created_at: datetime | None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, d: object, where: str = "folder") -> VaultFolder:
        d = _obj(d, where)
        return cls(
            name=_required(d, "name", str, where),
            media_count=int(_optional(d, "mediaCount", (int, float), where) or 0),
            created_at=_time(d, "createdAt", where),
            extra=_extra(d, {"name", "mediaCount", "createdAt"}),
        )


@dataclass(frozen=True)
class FolderItem:
    """A media item as a vault folder lists it: no status, no URLs."""

    uuid: str
    name: str | None
    media_type: str  # image, video, audio, document, or a type Fanvue adds
    created_at: datetime | None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, d: object, where: str = "item") -> FolderItem:
        d = _obj(d, where)
        return cls(
            uuid=_required(d, "uuid", str, where),
            name=_optional(d, "name", str, where),
            media_type=_optional(d, "mediaType", str, where) or "",
            created_at=_time(d, "createdAt", where),
            extra=_extra(d, {"uuid", "name", "mediaType", "createdAt"}),
        )


@dataclass(frozen=True)
class BlurredPreview:
    """The blurred variant: a signed URL that expires soon, so it is used at once and never stored."""

    url: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class MediaItem:
    """A media item. Fanvue sends only uuid and status until the item is ready."""

    uuid: str
    status: str  # created, processing, ready, error, or a status Fanvue adds
    media_type: str | None = None
    name: str | None = None
    caption: str | None = None
    recommended_price_cents: int | None = None
    purchased_by_fan: bool | None = None  # None: the read did not ask about a fan
    blurred: BlurredPreview | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def ready(self) -> bool:
        return self.status == READY

    @classmethod
    def from_api(cls, d: object, where: str = "media") -> MediaItem:
        d = _obj(d, where)
        price = _optional(d, "recommendedPrice", (int, float), where)
        blurred = None
        for i, variant in enumerate(_optional(d, "variants", list, where) or []):
            variant = _obj(variant, f"{where}.variants[{i}]")
            # Only the blurred one is kept, whatever else a server sends.
            if variant.get("variantType") == BLURRED and isinstance(variant.get("url"), str):
                width, height = variant.get("width"), variant.get("height")
                blurred = BlurredPreview(
                    url=variant["url"],
                    width=int(width) if isinstance(width, int | float) else None,
                    height=int(height) if isinstance(height, int | float) else None,
                )
        known = {"uuid", "status", "mediaType", "name", "caption", "recommendedPrice", "purchasedByFan"}
        return cls(
            uuid=_required(d, "uuid", str, where),
            status=_required(d, "status", str, where),
            media_type=_optional(d, "mediaType", str, where),
            name=_optional(d, "name", str, where),
            caption=_optional(d, "caption", str, where),
            recommended_price_cents=None if price is None else round(price),
            purchased_by_fan=_optional(d, "purchasedByFan", bool, where),
            blurred=blurred,
            extra=_extra(d, known | {"variants"}),
        )


@dataclass(frozen=True)
class Template:
    """A saved message template; `price_cents` None is a free message."""

    uuid: str
    text: str | None
    price_cents: int | None
    media_uuids: tuple[str, ...]
    folder_name: str | None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, d: object, where: str = "template") -> Template:
        d = _obj(d, where)
        price = _optional(d, "price", (int, float), where)
        media = _optional(d, "mediaUuids", list, where) or []
        return cls(
            uuid=_required(d, "uuid", str, where),
            text=_optional(d, "text", str, where),
            price_cents=None if price is None else round(price),
            media_uuids=tuple(m for m in media if isinstance(m, str)),
            folder_name=_optional(d, "folderName", str, where),
            extra=_extra(d, {"uuid", "text", "price", "mediaUuids", "folderName"}),
        )


class NotForAgencies(FanvueError):
    """A vault folder or template read through an agency login: Fanvue has no such route for agencies."""


class MediaClient:
    """Vault and template reads for the creator whose login `api` holds; with `creator_uuid`, `api` is an
    agency member's and only the creator's media list is reachable (`/creators/{creator}/media`, on the
    creator's rate `budget`)."""

    def __init__(
        self, api: FanvueClient, *, creator_uuid: str | None = None, budget: RateBudget | None = None
    ):
        self._api = api
        self._creator = creator_uuid
        self._budget = budget

    def __repr__(self) -> str:
        return f"MediaClient({self._api!r}{f', creator {self._creator!r}' if self._creator else ''})"

    @property
    def has_vault(self) -> bool:
        """Whether vault folders and saved templates can be read (a creator's own login only)."""
        return self._creator is None

    def _vault_only(self, what: str) -> None:
        if not self.has_vault:
            raise NotForAgencies(
                f"Fanvue lists no {what} to agency logins; the creator's media can still be attached"
            )

    def folders(self) -> Iterator[VaultFolder]:
        """Every vault folder. The route lists no paging parameters yet answers in pages: a following
        page is asked for by number, and the first without any."""
        self._vault_only("vault folders")
        for i, item in enumerate(self._pages(FOLDERS_PATH, {}, sized=False)):
            yield VaultFolder.from_api(item, f"folders[{i}]")

    def folder_media(self, folder: str, page_size: int = MAX_PAGE_SIZE) -> Iterator[FolderItem]:
        self._vault_only("vault folders")
        path = f"{FOLDERS_PATH}/{_segment(folder)}/media"
        for i, item in enumerate(self._pages(path, {}, page_size=page_size)):
            yield FolderItem.from_api(item, f"folder media[{i}]")

    def media(self, media_uuid: str, *, purchased_by: str | None = None) -> MediaItem:
        """One media item with its blurred preview (when ready), and whether `purchased_by` bought it."""
        if not self.has_vault:  # agencies have the list only
            found = self.items([media_uuid], purchased_by=purchased_by)
            if media_uuid not in found:
                raise NotFoundError(f"media {media_uuid} is not among the creator's media", status=404)
            return found[media_uuid]
        path = f"{MEDIA_PATH}/{_segment(media_uuid)}"
        params = _media_params(purchased_by)
        return MediaItem.from_api(self._api._json(self._api._request("GET", path, params=params), path))

    def items(self, media_uuids: Iterable[str], *, purchased_by: str | None = None) -> dict[str, MediaItem]:
        """The items Fanvue has of `media_uuids` (one read each, or, through an agency, the list read until
        all are found); an item Fanvue no longer has is left out."""
        wanted = list(dict.fromkeys(media_uuids))
        if self.has_vault:
            found = {}
            for uuid in wanted:
                try:
                    found[uuid] = self.media(uuid, purchased_by=purchased_by)
                except NotFoundError:
                    continue
            return found
        left, found = set(wanted), {}
        for item in self.media_list(purchased_by=purchased_by) if left else ():
            if item.uuid in left:
                found[item.uuid] = item
                left.discard(item.uuid)
                if not left:
                    break
        return found

    def media_list(
        self,
        *,
        purchased_by: str | None = None,
        folder: str | None = None,
        ready: bool = False,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[MediaItem]:
        """The creator's media, newest first as Fanvue lists them (`ready`: only items that can be sent)."""
        params = _media_params(purchased_by)
        if folder is not None:
            params["folderName"] = folder
        if ready:
            params["status"] = READY
        path = MEDIA_PATH if self.has_vault else f"/creators/{_segment(self._creator or '')}/media"
        for i, item in enumerate(self._pages(path, params, page_size=page_size)):
            media = MediaItem.from_api(item, f"media[{i}]")
            if not ready or media.ready:
                yield media

    def purchased(self, fan_uuid: str, media_uuids: Iterable[str]) -> dict[str, bool]:
        """Which of `media_uuids` the fan already bought, read page by page until all are found."""
        wanted = set(media_uuids)
        found: dict[str, bool] = {}
        if not wanted:
            return found
        for item in self.media_list(purchased_by=fan_uuid):
            if item.uuid in wanted:
                found[item.uuid] = item.purchased_by_fan is True
                if len(found) == len(wanted):
                    break
        return found

    def templates(self, folder: str | None = None, page_size: int = MAX_PAGE_SIZE) -> Iterator[Template]:
        self._vault_only("saved templates")
        params = {} if folder is None else {"folderName": folder}
        for i, item in enumerate(self._pages(TEMPLATES_PATH, params, page_size=page_size)):
            yield Template.from_api(item, f"templates[{i}]")

    def _pages(
        self, path: str, params: dict, *, page_size: int = MAX_PAGE_SIZE, sized: bool = True
    ) -> Iterator[dict]:
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        for page in itertools.count(1):
            query = dict(params)
            if sized:
                query.update(page=page, size=size)
            elif page > 1:
                query["page"] = page
            resp = self._api._request("GET", path, params=query, budget=self._budget)
            items, has_more = page_items(self._api._json(resp, f"GET {path}"), f"GET {path} page {page}")
            yield from items
            if not has_more:
                return
            if not items:
                logger.warning("Fanvue said more follow page %d of %s but sent none; stopping", page, path)
                return


def _media_params(purchased_by: str | None) -> dict:
    params: dict[str, str] = {"variants": BLURRED}
    if purchased_by is not None:
        params["purchasedBy"] = purchased_by
    return params
