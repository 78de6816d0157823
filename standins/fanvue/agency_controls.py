"""The /_sandbox/ controls for several creators and the agency; the rest go to the first creator's."""

from __future__ import annotations

import json
import re

from .agency import Agency
from .api import Reply
from .controls import PREFIX, handle_control

# Controls of one creator's own fans and chats; the request log, faults and latency are the server's.
PER_CREATOR = re.compile(rf"{PREFIX}/creators/([^/]+)(/(?:fans|sent|chats|earnings|vault)(?:/.*)?)")


def _body(raw: bytes) -> dict:
    body = json.loads(raw.decode("utf-8")) if raw else {}
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _creators(agency: Agency) -> list[dict]:
    linked = {row["uuid"]: row["linked"] for row in agency.state()["creators"]}
    return [
        {**world.creator, "tokens": world.static_tokens(), "linked": linked[world.creator["uuid"]]}
        for world in agency.worlds
    ]


def handle_agency_control(
    agency: Agency, method: str, path: str, query: dict[str, list[str]], raw: bytes
) -> Reply | None:
    """Serve a control about creators or the agency; None when it is a control of the first creator."""
    path = path.rstrip("/") or path
    per_creator = PER_CREATOR.fullmatch(path)
    try:
        if per_creator:
            world = agency.creator_world(per_creator.group(1))
            if world is None:
                return Reply(404, {"message": f"No creator {per_creator.group(1)!r}"})
            return handle_control(world, method, PREFIX + per_creator.group(2), query, raw)
        action = (method, path[len(PREFIX) :])
        if action == ("GET", "/creators"):
            return Reply(200, {"data": _creators(agency)})
        if action == ("GET", "/agency"):
            return Reply(200, agency.state())
        if action == ("POST", "/agency/reach"):
            body = _body(raw)
            agency.set_reach(str(body["member"]), body.get("creators"))
            return Reply(200, agency.state())
        if action == ("POST", "/agency/linked"):
            body = _body(raw)
            agency.set_linked(str(body["creator"]), bool(body.get("linked", True)))
            return Reply(200, agency.state())
        if action == ("POST", "/tokens/expire"):
            agency.expire_tokens()
            return Reply(204)
        if action == ("POST", "/tokens") and "account" in (body := _body(raw)):
            agency.add_token(str(body["account"]), str(body["token"]))
            return Reply(201, {"token": body["token"], "account": body["account"]})
    except (ValueError, KeyError, TypeError) as exc:
        return Reply(400, {"message": f"Bad control request: {exc}"})
    return None
