"""State and Web API method behaviour of the local Slack stand-in."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0APP"
TEAM_ID = "T0TEAM"
TEAM_NAME = "Test Team"
WORKSPACE_URL = "https://example.slack.com/"
# Slack refuses messages with more blocks than this.
MAX_BLOCKS = 50
# Slack refuses a Home tab with more blocks than this.
HOME_BLOCKS_MAX = 100
# A response_url may be used this many times.
RESPONSE_URL_USES = 5
# Fields Slack takes as JSON even inside a form-encoded body.
JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


class ApiError(Exception):
    """A Web API call answered with ok=false."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Call:
    """One request that reached the Web API, with its decoded arguments."""

    method: str
    args: dict
    at: float
    status: int = 200
    error: str | None = None


@dataclass
class Msg:
    """The current state of one posted message."""

    channel: str
    ts: str
    text: str
    blocks: list
    updates: int = 0
    thread_ts: str | None = None
    metadata: dict | None = None

    def to_dict(self) -> dict:
        """The message as Slack shows it in API answers and interaction payloads."""
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": self.text,
            "ts": self.ts,
            "blocks": self.blocks,
        }
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.metadata:
            message["metadata"] = self.metadata
        return message


@dataclass
class Failure:
    """An injected failure waiting for the next calls to a method."""

    error: str
    count: int
    retry_after: int


@dataclass
class ResponseUrl:
    """A response_url handed to an interaction, with what it points at."""

    channel: str | None
    message_ts: str | None
    user: str | None
    uses: int = 0


@dataclass
class Pacer:
    """Token bucket per channel: a short burst, then about one message a second."""

    burst: int = 3
    per_second: float = 1.0
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def wait_needed(self, channel: str, now: float) -> float:
        """Seconds until `channel` may post again; 0 takes a slot."""
        tokens, last = self.buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
        if tokens >= 1:
            self.buckets[channel] = (tokens - 1, now)
            return 0.0
        self.buckets[channel] = (tokens, now)
        return (1 - tokens) / self.per_second


def decode_json_fields(args: dict) -> dict:
    """Parse the fields Slack accepts as JSON strings; leave undecodable ones as sent."""
    decoded = dict(args)
    for name in JSON_FIELDS:
        value = decoded.get(name)
        if isinstance(value, str):
            try:
                decoded[name] = json.loads(value)
            except ValueError:
                pass
    return decoded


class SlackState:
    """Everything the stand-in remembers; each public method holds the lock."""

    def __init__(self, bot_token: str, pace: bool) -> None:
        self.bot_token = bot_token
        # Socket Mode: the app-level token, and what issues a WebSocket URL for apps.connections.open.
        self.app_token: str | None = None
        self.socket_url: Callable[[], str] | None = None
        self.pacer = Pacer() if pace else None
        # The channels the bot is in (None: any); conversations.info also knows `channels_without_bot`,
        # public channels it is not in, and marks `archived_channels`.
        self.known_channels: set[str] | None = None
        self.channels_without_bot: set[str] = set()
        self.archived_channels: set[str] = set()
        # User groups (S…) and their members' IDs, for usergroups.users.list; `disabled_groups` answer only
        # with include_disabled, as Slack's do.
        self.usergroups: dict[str, list[str]] = {}
        self.disabled_groups: set[str] = set()
        self.lock = threading.Lock()
        self.call_log: list[Call] = []
        self.posted: dict[tuple[str, str], Msg] = {}
        self.ephemeral_log: list[dict] = []
        self.opened_views: dict[str, dict] = {}
        self.home_views: dict[str, dict] = {}  # views.publish: each user's Home tab as last published
        self.response_log: list[dict] = []
        self.response_urls: dict[str, ResponseUrl] = {}
        self.trigger_users: dict[str, str] = {}
        self.failures: dict[str, list[Failure]] = {}
        self.down = False
        self.serial = 0
        self.latency = 0.0  # seconds each Web API call takes before it is answered, as Slack's do

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def next_ts(self) -> str:
        # Deterministic, unique and increasing like Slack's "seconds.micros" timestamps.
        micros = 1_700_000_000_000_000 + 100 * self.next_serial()
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # -- the request pipeline -------------------------------------------------

    def handle(self, method: str, args: dict, token: str | None) -> tuple[int, dict, dict]:
        """Answer one Web API call: (HTTP status, extra headers, JSON body)."""
        if self.latency:
            time.sleep(self.latency)  # outside the lock: calls in flight overlap, as they do at Slack
        with self.lock:
            call = Call(method=method, args=args, at=time.time())
            self.call_log.append(call)
            status, headers, body = self._answer(method, args, token, call.at)
            call.status = status
            call.error = None if body.get("ok") else body.get("error")
            return status, headers, body

    def _answer(self, method: str, args: dict, token: str | None, now: float) -> tuple[int, dict, dict]:
        failure = self._take_failure(method)
        if failure is not None:
            return self._failure_answer(failure)
        if method == "apps.connections.open" or (token or "").startswith("xapp-"):
            return self._app_level(method, token)
        if token != self.bot_token:
            return 200, {}, {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        if method == "chat.postMessage" and self.pacer is not None:
            wait = self.pacer.wait_needed(str(args.get("channel", "")), now)
            if wait > 0:
                retry_after = str(max(1, math.ceil(wait)))
                return 429, {"Retry-After": retry_after}, {"ok": False, "error": "ratelimited"}
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        try:
            return 200, {}, {"ok": True, **handler(args)}
        except ApiError as err:
            return 200, {}, {"ok": False, "error": err.error}

    def _take_failure(self, method: str) -> Failure | None:
        pending = self.failures.get(method)
        if not pending:
            return None
        failure = pending[0]
        failure.count -= 1
        if failure.count <= 0:
            pending.pop(0)
        return failure

    def _app_level(self, method: str, token: str | None) -> tuple[int, dict, dict]:
        """apps.connections.open takes only the app-level token, and that token opens nothing else."""
        if not token:
            error = "not_authed"
        elif not token.startswith("xapp-") or method != "apps.connections.open":
            error = "not_allowed_token_type"
        elif token != self.app_token or self.socket_url is None:
            error = "invalid_auth"
        else:
            return 200, {}, {"ok": True, "url": self.socket_url()}
        return 200, {}, {"ok": False, "error": error}

    @staticmethod
    def _failure_answer(failure: Failure) -> tuple[int, dict, dict]:
        if failure.error == "ratelimited":
            return 429, {"Retry-After": str(failure.retry_after)}, {"ok": False, "error": "ratelimited"}
        if failure.error == "http_500":
            return 500, {}, {}
        return 200, {}, {"ok": False, "error": failure.error}

    # -- Web API methods --------------------------------------------------------

    def api_auth_test(self, args: dict) -> dict:
        return {
            "url": WORKSPACE_URL,
            "team": TEAM_NAME,
            "user": "copilot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _channel(self, args: dict) -> str:
        channel = args.get("channel")
        if not channel or (self.known_channels is not None and channel not in self.known_channels):
            raise ApiError("channel_not_found")
        return str(channel)

    @staticmethod
    def _blocks(args: dict) -> list:
        blocks = args.get("blocks")
        if blocks is None or blocks == "":
            return []
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            raise ApiError("invalid_blocks_format")
        if len(blocks) > MAX_BLOCKS or not all(b.get("type") for b in blocks):
            raise ApiError("invalid_blocks")
        return blocks

    def _message(self, channel: str, ts: Any) -> Msg:
        msg = self.posted.get((channel, str(ts)))
        if msg is None:
            raise ApiError("message_not_found")
        return msg

    def api_chat_postMessage(self, args: dict) -> dict:
        channel = self._channel(args)
        blocks = self._blocks(args)
        text = args.get("text") or args.get("markdown_text") or ""
        if not text and not blocks:
            raise ApiError("no_text")
        msg = Msg(
            channel=channel,
            ts=self.next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=args.get("thread_ts") or None,
            metadata=args.get("metadata"),
        )
        self.posted[(channel, msg.ts)] = msg
        return {"channel": channel, "ts": msg.ts, "message": msg.to_dict()}

    def api_chat_update(self, args: dict) -> dict:
        channel = self._channel(args)
        msg = self._message(channel, args.get("ts"))
        if "blocks" in args:
            msg.blocks = self._blocks(args)
        elif "text" in args:
            # Slack drops the blocks when an update carries text alone.
            msg.blocks = []
        if "text" in args:
            msg.text = args.get("text") or ""
        if "metadata" in args:
            msg.metadata = args.get("metadata")
        msg.updates += 1
        return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": msg.to_dict()}

    def api_chat_postEphemeral(self, args: dict) -> dict:
        channel = self._channel(args)
        user = args.get("user")
        if not user:
            raise ApiError("user_not_in_channel")
        blocks = self._blocks(args)
        text = args.get("text") or ""
        if not text and not blocks:
            raise ApiError("no_text")
        ts = self.next_ts()
        self.ephemeral_log.append(
            {
                "channel": channel,
                "user": user,
                "text": text,
                "blocks": blocks,
                "message_ts": ts,
                "via": "chat.postEphemeral",
            }
        )
        return {"message_ts": ts}

    def api_chat_getPermalink(self, args: dict) -> dict:
        channel = self._channel(args)
        msg = self._message(channel, args.get("message_ts"))
        permalink = f"{WORKSPACE_URL}archives/{channel}/p{msg.ts.replace('.', '')}"
        return {"channel": channel, "permalink": permalink}

    def api_conversations_info(self, args: dict) -> dict:
        """As Slack answers a bot: a public channel it is not in shows `is_member: false`; a private one
        it is not in does not exist for it (channel_not_found), like a channel that does not exist."""
        channel = str(args.get("channel") or "")
        member = bool(channel) and (self.known_channels is None or channel in self.known_channels)
        private = channel.startswith("G")
        if not member and (private or channel not in self.channels_without_bot):
            raise ApiError("channel_not_found")
        return {
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": not private,
                "is_group": private,
                "is_im": False,
                "is_private": private,
                "is_archived": channel in self.archived_channels,
                "is_general": False,
                "is_member": member,
                "created": 1_600_000_000,
                "creator": "U0CREATOR",
            }
        }

    def api_usergroups_users_list(self, args: dict) -> dict:
        """As Slack answers: the members' IDs of an existing group; `no_such_subteam` for any other ID,
        and for a disabled group unless `include_disabled` is true."""
        group = str(args.get("usergroup") or "")
        if not group:
            raise ApiError("invalid_arguments")
        include_disabled = str(args.get("include_disabled", "")).lower() in ("1", "true")
        if group not in self.usergroups or (group in self.disabled_groups and not include_disabled):
            raise ApiError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _view_answer(self, view: Any, view_id: str) -> dict:
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            raise ApiError("invalid_arguments")
        return {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "app_installed_team_id": TEAM_ID,
            "root_view_id": view_id,
            "previous_view_id": None,
            "external_id": view.get("external_id", ""),
            "callback_id": view.get("callback_id", ""),
            "private_metadata": view.get("private_metadata", ""),
            "state": {"values": {}},
            "hash": f"{1700000000 + self.serial}.abc{self.serial:05d}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
        }

    def api_views_open(self, args: dict) -> dict:
        trigger_id = args.get("trigger_id")
        if not trigger_id or not args.get("view"):
            raise ApiError("invalid_arguments")
        view_id = f"V{self.next_serial():08d}"
        answer = self._view_answer(args["view"], view_id)
        self.opened_views[view_id] = {
            "view_id": view_id,
            "trigger_id": trigger_id,
            "view": answer,
            "user": self.trigger_users.get(str(trigger_id)),
            "updates": 0,
        }
        return {"view": answer}

    def api_views_update(self, args: dict) -> dict:
        view_id = args.get("view_id")
        if not view_id:
            matches = [
                v
                for v in self.opened_views.values()
                if args.get("external_id") and v["view"].get("external_id") == args.get("external_id")
            ]
            view_id = matches[0]["view_id"] if matches else None
        entry = self.opened_views.get(str(view_id)) if view_id else None
        if entry is None:
            raise ApiError("not_found")
        self.next_serial()
        entry["view"] = self._view_answer(args.get("view"), entry["view_id"])
        entry["updates"] += 1
        return {"view": entry["view"]}

    def api_views_publish(self, args: dict) -> dict:
        """A user's Home tab: a `home` view of at most 100 blocks; `hash` guards against a stale update."""
        user = args.get("user_id")
        view = args.get("view")
        if not user or not isinstance(view, dict):
            raise ApiError("invalid_arguments")
        if view.get("type") != "home":
            raise ApiError("invalid_arguments")
        if len(view.get("blocks") or []) > HOME_BLOCKS_MAX:
            raise ApiError("invalid_blocks")
        current = self.home_views.get(str(user))
        if args.get("hash") and current is not None and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view_id = current["id"] if current is not None else f"V{self.next_serial():08d}"
        self.next_serial()
        self.home_views[str(user)] = self._view_answer(view, view_id)
        return {"view": self.home_views[str(user)]}

    # -- response_url -----------------------------------------------------------

    def respond(self, key: str, body: Any) -> tuple[int, str]:
        """Record a POST to a response_url: (HTTP status, plain-text answer)."""
        with self.lock:
            target = self.response_urls.get(key)
            if target is None:
                return 404, "invalid_url"
            if target.uses >= RESPONSE_URL_USES:
                return 404, "used_url"
            if not isinstance(body, dict):
                return 400, "invalid_payload"
            target.uses += 1
            self.response_log.append(body)
            self._apply_response(target, body)
            return 200, "ok"

    def _apply_response(self, target: ResponseUrl, body: dict) -> None:
        original = self.posted.get((target.channel or "", target.message_ts or ""))
        if body.get("delete_original") and original is not None:
            del self.posted[(original.channel, original.ts)]
        elif body.get("replace_original") and original is not None:
            original.text = body.get("text", original.text) or ""
            original.blocks = body.get("blocks") or []
            original.updates += 1
        elif body.get("response_type") == "ephemeral":
            self.ephemeral_log.append(
                {
                    "channel": target.channel,
                    "user": target.user,
                    "text": body.get("text", ""),
                    "blocks": body.get("blocks") or [],
                    "via": "response_url",
                }
            )
