"""The sandbox's fan context routes: insights in bulk (batch and GET forms), one fan's, online statuses."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import api
from .api import ApiRequest, Reply
from .fan_profiles import FanProfile

if TYPE_CHECKING:
    from .agency import Principal

INSIGHTS_SCOPES = ("read:insights", "read:fan")
STATUS_SCOPES = ("read:chat",)
MAX_BATCH = 100
MAX_QUERY = 20
MAX_STATUSES = 100
# What the GET form calls a fan's error; its spec knows only these two codes.
QUERY_CODES = {"not_found": "NOT_FOUND", "forbidden": "NOT_FOUND", "internal": "INTERNAL"}


def _refused(who: Principal, scopes: tuple[str, ...]) -> Reply | None:
    missing = who.lacks(*scopes)
    return (
        Reply(403, {"error": f"Forbidden: missing required scope {', '.join(missing)}"}) if missing else None
    )


def _uuid_list(values: object, name: str, most: int) -> list[str]:
    if not isinstance(values, list) or not 1 <= len(values) <= most:
        raise api.invalid(f"{name} must be an array of 1 to {most} UUIDs")
    if not all(api.is_uuid(v) for v in values):
        raise api.invalid(f"each value in {name} must be a UUID")
    return values


def _profile_of(who: Principal, fan_uuid: str) -> FanProfile | None:
    # An agency member's own account has no fans: every uuid is someone else's.
    return None if who.world is None else who.world.fan_profiles.get(fan_uuid)


def batch_insights(who: Principal, request: ApiRequest) -> Reply:
    refused = _refused(who, INSIGHTS_SCOPES)
    if refused:
        return refused
    fans = _uuid_list(api.json_object(request).get("userUuids"), "userUuids", MAX_BATCH)
    answer = {}
    for fan_uuid in fans:
        profile = _profile_of(who, fan_uuid)
        if profile is None or profile.error:
            answer[fan_uuid] = {"error": profile.error if profile else "not_found"}
        else:
            answer[fan_uuid] = profile.insights_json()
    return Reply(200, answer)


def query_insights(who: Principal, request: ApiRequest) -> Reply:
    refused = _refused(who, INSIGHTS_SCOPES)
    if refused:
        return refused
    if "fanUuids" not in request.query:
        raise api.invalid("fanUuids is required")
    raw = request.query["fanUuids"][-1]
    fans = _uuid_list([part.strip() for part in raw.split(",") if part.strip()], "fanUuids", MAX_QUERY)
    results: dict[str, dict | None] = {}
    errors = []
    for fan_uuid in dict.fromkeys(fans):
        profile = _profile_of(who, fan_uuid)
        if profile is None or profile.error:
            code = QUERY_CODES[profile.error or "not_found" if profile else "not_found"]
            results[fan_uuid] = None
            message = "The specified fan does not exist or is not connected to this creator."
            errors.append({"fanUuid": fan_uuid, "code": code, "message": message})
        else:
            results[fan_uuid] = profile.insights_json()
    return Reply(200, {"results": results, "errors": errors})


def one_fan_insights(who: Principal, request: ApiRequest) -> Reply:
    refused = _refused(who, INSIGHTS_SCOPES)
    if refused:
        return refused
    fan_uuid = request.params["userUuid"]
    if not api.is_uuid(fan_uuid):
        raise api.invalid("userUuid must be a UUID")
    profile = _profile_of(who, fan_uuid)
    if profile is None or profile.error == "not_found":
        return Reply(404, {"message": "Fan not found"})
    if profile.error == "forbidden":
        return Reply(403, {"error": "Forbidden: this fan's insights are not available"})
    if profile.error == "internal":
        return Reply(500, {"error": "Internal Server Error"})
    return Reply(200, profile.insights_json())


def chat_statuses(who: Principal, request: ApiRequest) -> Reply:
    refused = _refused(who, STATUS_SCOPES)
    if refused:
        return refused
    users = _uuid_list(api.json_object(request).get("userUuids"), "userUuids", MAX_STATUSES)
    answer = {}
    for user_uuid in users:
        profile = _profile_of(who, user_uuid)
        # Someone who is not the creator's fan is left out of the answer.
        if profile is not None:
            answer[user_uuid] = profile.status_json()
    return Reply(200, answer)


Handler = Callable[["Principal", ApiRequest], Reply]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("POST", re.compile(r"/insights/fans/batch"), batch_insights),
    ("GET", re.compile(r"/insights/fans"), query_insights),
    ("GET", re.compile(r"/insights/fans/(?P<userUuid>[^/]+)"), one_fan_insights),
    ("POST", re.compile(r"/chats/statuses"), chat_statuses),
]
HANDLERS = frozenset(handler for _, _, handler in ROUTES)


def route(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    return api.find_route(ROUTES, method, path)


def handle(who: Principal, handler: Handler, request: ApiRequest) -> Reply:
    return api.guarded(handler, who, request)
