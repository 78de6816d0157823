"""The /_sandbox/webhooks routes: register the URLs and secret, switch faults, read what was delivered."""

from __future__ import annotations

import json

from .api import Reply
from .controls import PREFIX
from .webhooks import WebhookSender

PATH = f"{PREFIX}/webhooks"


def handle_webhook_control(sender: WebhookSender, method: str, path: str, raw: bytes) -> Reply | None:
    """Serve a webhook control; None when the path is not one. Bad input answers 400 {message}."""
    path = path.rstrip("/") or path
    if path not in (PATH, PATH + "/faults"):
        return None
    try:
        body = json.loads(raw.decode("utf-8")) if raw else {}
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        if (method, path) == ("POST", PATH):
            sender.register(body.get("url_received"), body.get("url_read"), body["secret"])
            return Reply(200, _public(sender))
        if (method, path) == ("DELETE", PATH):
            sender.unregister()
            return Reply(204)
        if (method, path) == ("GET", PATH):
            return Reply(200, sender.state())
        if (method, path) == ("POST", PATH + "/faults"):
            sender.set_faults(**body)
            return Reply(200, sender.state()["faults"])
        if (method, path) == ("GET", PATH + "/faults"):
            return Reply(200, sender.state()["faults"])
    except (ValueError, KeyError, TypeError) as exc:
        return Reply(400, {"message": f"Bad webhook control request: {exc}"})
    return Reply(405, {"message": f"Cannot {method} {path}"})


def _public(sender: WebhookSender) -> dict:
    state = sender.state()
    return {key: state[key] for key in ("registered", "url_received", "url_read", "faults")}
