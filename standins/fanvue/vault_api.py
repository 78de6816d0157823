"""The sandbox's vault routes: folders, a folder's media, media with the variants asked for, templates."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import api
from .api import ApiRequest, Reply
from .model import iso
from .vault import STATUSES, VARIANTS, Vault, vault_of

if TYPE_CHECKING:
    from .agency import Principal


def _listed(query: dict[str, list[str]], name: str, allowed: tuple[str, ...]) -> list[str]:
    values = [v for raw in query.get(name, []) for v in raw.split(",") if v]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise api.invalid(f"each value in {name} must be one of {', '.join(allowed)}")
    return list(dict.fromkeys(values))


def _page(rows: list, query: dict[str, list[str]]) -> Reply:
    page, size = api.paging(query)
    start = (page - 1) * size
    chunk = rows[start : start + size]
    return Reply(
        200,
        {
            "data": chunk,
            "pagination": {"page": page, "size": len(chunk), "hasMore": start + size < len(rows)},
        },
    )


def _vault(who: Principal, *scopes: str) -> Vault | Reply:
    missing = who.lacks(*scopes)
    if missing:
        return Reply(403, {"error": f"Forbidden: missing required scope {', '.join(missing)}"})
    # An agency member's own account has an empty vault.
    return vault_of(who.world) if who.world is not None else Vault()


def list_folders(who: Principal, request: ApiRequest) -> Reply:
    vault = _vault(who, "read:media")
    if isinstance(vault, Reply):
        return vault
    with vault._lock:
        rows = [
            {
                "name": name,
                "createdAt": iso(at),
                "mediaCount": sum(1 for m in vault.media.values() if m.folder == name),
            }
            for name, at in vault.folders.items()
        ]
    # The route lists no paging parameters; it answers two folders a page.
    page = api.paging({"page": request.query.get("page", ["1"]), "size": ["2"]})[0]
    start = (page - 1) * 2
    chunk = rows[start : start + 2]
    return Reply(
        200,
        {"data": chunk, "pagination": {"page": page, "size": len(chunk), "hasMore": start + 2 < len(rows)}},
    )


def folder_media(who: Principal, request: ApiRequest) -> Reply:
    vault = _vault(who, "read:media")
    if isinstance(vault, Reply):
        return vault
    folder = request.params["folderName"]
    with vault._lock:
        if folder not in vault.folders:
            return Reply(404, {"message": "Folder not found"})
        rows = [
            {"uuid": m.uuid, "name": m.name, "createdAt": iso(m.created_at), "mediaType": m.media_type}
            for m in vault.media.values()
            if m.folder == folder
        ]
    return _page(rows, request.query)


def list_media(who: Principal, request: ApiRequest) -> Reply:
    vault = _vault(who, "read:media")
    if isinstance(vault, Reply):
        return vault
    variants = _listed(request.query, "variants", VARIANTS)
    statuses = _listed(request.query, "status", STATUSES)
    fan = _fan(request.query)
    folder = request.query.get("folderName", [None])[-1]
    with vault._lock:
        rows = [
            vault.media_json(m, variants, fan)
            for m in vault.media.values()
            if (folder is None or m.folder == folder) and (not statuses or m.status in statuses)
        ]
    return _page(rows, request.query)


def one_media(who: Principal, request: ApiRequest) -> Reply:
    vault = _vault(who, "read:media")
    if isinstance(vault, Reply):
        return vault
    media_uuid = request.params["uuid"]
    if not api.is_uuid(media_uuid):
        return Reply(400, {"errors": ["uuid must be a UUID"]})
    variants = _listed(request.query, "variants", VARIANTS)
    fan = _fan(request.query)
    with vault._lock:
        item = vault.media.get(media_uuid)
        if item is None:
            return Reply(404, {"message": "Media not found"})
        return Reply(200, vault.media_json(item, variants, fan))


def list_templates(who: Principal, request: ApiRequest) -> Reply:
    vault = _vault(who, "read:chat")
    if isinstance(vault, Reply):
        return vault
    folder = (request.query.get("folderName", [""])[-1] or "").lower()
    with vault._lock:
        rows = [
            {
                "uuid": t.uuid,
                "text": t.text,
                "price": t.price,
                "mediaUuids": list(t.media_uuids),
                "folderName": t.folder,
            }
            for t in vault.templates
            if folder in (t.folder or "").lower()
        ]
    return _page(rows, request.query)


def _fan(query: dict[str, list[str]]) -> str | None:
    fan = query.get("purchasedBy", [None])[-1]
    if fan is not None and not api.is_uuid(fan):
        raise api.invalid("purchasedBy must be a UUID")
    return fan


Handler = Callable[["Principal", ApiRequest], Reply]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/vault/folders"), list_folders),
    ("GET", re.compile(r"/vault/folders/(?P<folderName>[^/]+)/media"), folder_media),
    ("GET", re.compile(r"/media"), list_media),
    ("GET", re.compile(r"/media/(?P<uuid>[^/]+)"), one_media),
    ("GET", re.compile(r"/chats/templates"), list_templates),
]
HANDLERS = frozenset(handler for _, _, handler in ROUTES)


def route(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    return api.find_route(ROUTES, method, path, decode=True)


def handle(who: Principal, handler: Handler, request: ApiRequest) -> Reply:
    return api.guarded(handler, who, request)
