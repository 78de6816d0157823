"""The unauthenticated /_sandbox/ routes that let tests and demos steer the world over HTTP."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

from .api import Reply
from .earnings import handle_sales_control
from .world import ChatNotFound, World

PREFIX = "/_sandbox"


def _body(raw: bytes) -> dict:
    if not raw:
        return {}
    body = json.loads(raw.decode("utf-8"))
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _post_message(world: World, fan_uuid: str, body: dict) -> Reply:
    sender = body.get("from", "fan")
    if sender == "creator":
        return Reply(201, world.add_creator_message(fan_uuid, body.get("text") or ""))
    if sender != "fan":
        raise ValueError('"from" must be "fan" or "creator"')
    return Reply(
        201,
        world.add_fan_message(
            fan_uuid,
            body.get("text"),
            media_type=body.get("mediaType"),
            message_type=body.get("type"),
            extra=body.get("extra"),
        ),
    )


def _fans(world: World, query: dict, body: dict) -> Reply:
    return Reply(200, {"data": world.fans(), "creator": world.creator})


def _sent(world: World, query: dict, body: dict) -> Reply:
    return Reply(200, {"data": world.sent_messages(query.get("fan", [None])[-1])})


def _latency(world: World, query: dict, body: dict) -> Reply:
    world.set_latency(int(body.get("ms", 0)))
    return Reply(200, {"ms": world.latency_ms})


def _add_fault(world: World, query: dict, body: dict) -> Reply:
    world.inject_fault(str(body.get("kind")), int(body.get("count", 1)), body.get("method"), body.get("path"))
    return Reply(201, {"data": world.faults.pending()})


def _faults(world: World, query: dict, body: dict) -> Reply:
    return Reply(200, {"data": world.faults.pending()})


def _expire_tokens(world: World, query: dict, body: dict) -> Reply:
    world.expire_tokens()
    return Reply(204)


def _add_token(world: World, query: dict, body: dict) -> Reply:
    world.add_token(str(body["token"]))
    return Reply(201, {"token": body["token"]})


def _oauth(world: World, query: dict, body: dict) -> Reply:
    return Reply(200, world.oauth.state())


def _configure_oauth(world: World, query: dict, body: dict) -> Reply:
    return Reply(200, world.oauth.configure(body))


def _revoke_oauth(world: World, query: dict, body: dict) -> Reply:
    world.oauth.revoke_all()
    return Reply(200, world.oauth.state())


def _requests(world: World, query: dict, body: dict) -> Reply:
    data = [asdict(r) for r in world.requests]
    return Reply(200, {"data": data, "count": len(data)})


def _clear_requests(world: World, query: dict, body: dict) -> Reply:
    world.clear_requests()
    return Reply(204)


SIMPLE_ROUTES = {
    ("GET", "/fans"): _fans,
    ("GET", "/sent"): _sent,
    ("POST", "/latency"): _latency,
    ("POST", "/faults"): _add_fault,
    ("GET", "/faults"): _faults,
    ("POST", "/tokens/expire"): _expire_tokens,
    ("POST", "/tokens"): _add_token,
    ("GET", "/oauth"): _oauth,
    ("POST", "/oauth"): _configure_oauth,
    ("POST", "/oauth/revoke"): _revoke_oauth,
    ("GET", "/requests"): _requests,
    ("DELETE", "/requests"): _clear_requests,
}


def _dispatch(world: World, method: str, path: str, query: dict[str, list[str]], body: dict) -> Reply:
    sold = handle_sales_control(world, method, path, body)
    if sold is not None:
        return sold
    fan_route = re.fullmatch(rf"{PREFIX}/fans/([^/]+)/(messages|contactable|read|context)", path)
    if method == "POST" and fan_route:
        fan_uuid, action = fan_route.groups()
        if action == "messages":
            return _post_message(world, fan_uuid, body)
        if action == "read":  # the creator's side reads the chat in Fanvue's own app
            world.read_chat(fan_uuid)
            return Reply(200, world.chat(fan_uuid))
        if action == "context":
            return Reply(200, world.fan_profiles.update(world.fan(fan_uuid)["uuid"], body))
        world.set_contactable(fan_uuid, bool(body.get("contactable", True)))
        return Reply(200, world.fan(fan_uuid))
    chat_route = re.fullmatch(rf"{PREFIX}/chats/([^/]+)", path)
    if method == "DELETE" and chat_route:
        world.remove_chat(chat_route.group(1))
        return Reply(204)
    action = SIMPLE_ROUTES.get((method, path[len(PREFIX) :]))
    if action is None:
        return Reply(404, {"message": f"Cannot {method} {path}"})
    return action(world, query, body)


def handle_control(world: World, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> Reply:
    """Serve one /_sandbox/ request; bad input answers 400 and unknown fans 404, both {message}."""
    try:
        return _dispatch(world, method, path.rstrip("/") or path, query, _body(raw))
    except ChatNotFound as exc:
        return Reply(404, {"message": f"No fan {exc.args[0]!r}"})
    except (ValueError, KeyError, TypeError) as exc:
        return Reply(400, {"message": f"Bad control request: {exc}"})
