"""The agency routes the sandbox serves: `/creators...` and `/agencies/chats`, with Fanvue's refusals."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from . import api, vault_api
from .agency import Agency, Principal
from .api import ApiRequest, Reply
from .earnings import earnings_page
from .world import World

CREATOR_SEGMENT = r"(?P<creatorUserUuid>[^/]+)"
FAN_SEGMENT = r"(?P<userUuid>[^/]+)"
NOTIFICATION_KINDS = (
    "newFollower",
    "newPostComment",
    "newPostLike",
    "newPurchase",
    "newSubscriber",
    "newTip",
    "newPromotion",
)


def _page(rows: list[dict], request: ApiRequest) -> Reply:
    page, size = api.paging(request.query)
    start = (page - 1) * size
    chunk = rows[start : start + size]
    return Reply(
        200,
        {
            "data": chunk,
            "pagination": {"page": page, "size": len(chunk), "hasMore": start + size < len(rows)},
        },
    )


def _forbidden(why: str) -> Reply:
    return Reply(403, {"error": f"Forbidden: {why}"})


def _scopes(who: Principal, *needed: str) -> Reply | None:
    missing = who.lacks(*needed)
    return _forbidden(f"missing required scope {', '.join(missing)}") if missing else None


def _creator_row(world: World) -> dict:
    creator = world.creator
    return {
        "uuid": creator["uuid"],
        "handle": creator["handle"],
        "displayName": creator["displayName"],
        "nickname": None,
        "isTopSpender": False,
        "avatarUrl": creator["avatarUrl"],
        "registeredAt": creator["createdAt"],
        "role": "creator",
    }


def list_creators(agency: Agency, who: Principal, request: ApiRequest) -> Reply:
    if not who.is_member:
        return _forbidden("not a member of an agency")
    refused = _scopes(who, "read:creator")
    if refused:
        return refused
    rows = [_creator_row(w) for w in agency.linked_worlds() if agency.reaches(who, w.creator["uuid"])]
    return _page(rows, request)


def agency_chats(agency: Agency, who: Principal, request: ApiRequest) -> Reply:
    if not who.is_member or not who.admin:
        return _forbidden("agency admin access required")
    refused = _scopes(who, "read:agency", "read:chat")
    if refused:
        return refused
    rows = [
        {**row, "creatorUuid": world.creator["uuid"]}
        for world in agency.linked_worlds()
        for row in world.list_chats([], "most_recent_messages", None)
    ]
    # Most recent activity first; rows without a message last; ties in a fixed order so pages never overlap.
    rows.sort(key=lambda r: (r["creatorUuid"], r["user"]["uuid"]))
    rows.sort(key=lambda r: r["lastMessageAt"] or "", reverse=True)
    return _page(rows, request)


def _creator_world(agency: Agency, who: Principal, request: ApiRequest, *scopes: str) -> World | Reply:
    """The managed creator's account, or Fanvue's refusal: 404 unmanaged, 403 out of the member's reach."""
    creator = request.params["creatorUserUuid"]
    if not api.is_uuid(creator):
        return Reply(400, {"message": "Invalid UUID format for parameter creatorUserUuid"})
    if not who.is_member:
        return _forbidden("not a member of an agency")
    world = agency.creator_world(creator)
    if world is None or world.creator["uuid"] != creator or not agency.is_linked(creator):
        return Reply(404, {"message": "Creator not found"})
    if not agency.reaches(who, creator):
        return _forbidden("no access to this creator")
    return _scopes(who, *scopes) or world


def creator_chats(agency: Agency, who: Principal, request: ApiRequest) -> Reply:
    found = _creator_world(agency, who, request, "read:creator", "read:chat")
    if isinstance(found, Reply):
        return found
    # The order is not documented; oldest chat first, so nothing may rely on it being by activity.
    rows = sorted(
        found.list_chats([], "most_recent_messages", None), key=lambda r: (r["createdAt"], r["user"]["uuid"])
    )
    return _page(rows, request)


def creator_messages(agency: Agency, who: Principal, request: ApiRequest) -> Reply:
    found = _creator_world(agency, who, request, "read:creator", "read:chat")
    return found if isinstance(found, Reply) else api.list_messages(found, request)


def creator_send(agency: Agency, who: Principal, request: ApiRequest) -> Reply:
    found = _creator_world(agency, who, request, "write:chat", "read:creator")
    if isinstance(found, Reply):
        return found
    return api.send_message(found, dataclasses.replace(request, sent_by=who.uuid))


def creator_update(agency: Agency, who: Principal, request: ApiRequest) -> Reply:
    found = _creator_world(agency, who, request, "write:chat", "read:creator")
    return found if isinstance(found, Reply) else api.update_chat(found, request)


def creator_media(agency: Agency, who: Principal, request: ApiRequest) -> Reply:
    """The managed creator's media list, as the creator's own /media answers it."""
    found = _creator_world(agency, who, request, "read:creator", "read:media")
    if isinstance(found, Reply):
        return found
    return vault_api.list_media(dataclasses.replace(who, world=found), request)


def creator_earnings(agency: Agency, who: Principal, request: ApiRequest) -> Reply:
    found = _creator_world(agency, who, request, "read:creator", "read:insights")
    return found if isinstance(found, Reply) else earnings_page(found, request)


Handler = Callable[[Agency, Principal, ApiRequest], Reply]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/creators"), list_creators),
    ("GET", re.compile(r"/agencies/chats"), agency_chats),
    ("GET", re.compile(rf"/creators/{CREATOR_SEGMENT}/chats"), creator_chats),
    ("GET", re.compile(rf"/creators/{CREATOR_SEGMENT}/chats/{FAN_SEGMENT}/messages"), creator_messages),
    ("POST", re.compile(rf"/creators/{CREATOR_SEGMENT}/chats/{FAN_SEGMENT}/message"), creator_send),
    ("PATCH", re.compile(rf"/creators/{CREATOR_SEGMENT}/chats/{FAN_SEGMENT}"), creator_update),
    ("GET", re.compile(rf"/creators/{CREATOR_SEGMENT}/media"), creator_media),
    ("GET", re.compile(rf"/creators/{CREATOR_SEGMENT}/insights/earnings"), creator_earnings),
]

HANDLERS = frozenset(handler for _, _, handler in ROUTES)


def route(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    return api.find_route(ROUTES, method, path)


def handle(agency: Agency, who: Principal, handler: Handler, request: ApiRequest) -> Reply:
    return api.guarded(handler, agency, who, request)


def own_account(agency: Agency, who: Principal, handler: api.Handler, request: ApiRequest) -> Reply:
    """A member's own account on the creator routes: itself on /users/me, and no chats of its own."""
    if handler is api.get_me:
        return Reply(200, agency.members[who.account].user_json())
    if handler is api.list_chats:
        return _page([], request)
    if handler is api.unread_counts:
        notifications = dict.fromkeys(NOTIFICATION_KINDS, 0)
        return Reply(
            200, {"unreadChatsCount": 0, "unreadMessagesCount": 0, "unreadNotifications": notifications}
        )
    return Reply(404, {"message": "Chat not found"})
