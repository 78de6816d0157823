"""The Slack app manifest declares what the code uses: its slash commands and its bot scopes, no more."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_sdk import WebClient

from slack.bolt_app import DrainingExecutor, build_app

ROOT = Path(__file__).resolve().parent.parent
SCANNED = [
    ROOT / "app.py",
    ROOT / "desk.py",
    ROOT / "runtime_desk.py",
    *sorted((ROOT / "slack").glob("*.py")),
    *sorted((ROOT / "inbox").glob("*.py")),
]

# The bot scopes each Web API method needs (None: no scope, e.g. it uses the payload's trigger_id or is
# answered for any token). A method the code starts calling must be added here, with its scope, on purpose.
METHOD_SCOPES: dict[str, str | tuple[str, ...] | None] = {
    "auth_test": None,
    "apps_connections_open": None,  # the app-level token's connections:write, not a bot scope
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_getPermalink": None,
    "views_open": None,
    "views_update": None,
    "views_push": None,
    "views_publish": None,
    # a public channel needs channels:read, a private one groups:read
    "conversations_info": ("channels:read", "groups:read"),
    "conversations_members": "channels:read",
    "conversations_history": "channels:history",
    "conversations_replies": "channels:history",
    "users_info": "users:read",
    "reactions_add": "reactions:write",
    "usergroups_users_list": "usergroups:read",
}
# Scopes the manifest may hold without a Web API call needing them.
NOT_FOR_METHODS = {"commands"}

_FAMILIES = (
    "admin|apps|assistant|auth|bookmarks|bots|calls|chat|conversations|dialog|dnd|emoji|files|"
    "functions|pins|reactions|reminders|search|team|usergroups|users|views|workflows"
)
# `client.chat_postMessage(...)`, `self.client.chat_update` passed along uncalled, `web.views_open(...)`
_METHOD_ATTR = re.compile(rf"\.((?:{_FAMILIES})(?:_[A-Za-z]+)+)\b")
# `client.api_call("chat.postMessage", ...)`
_API_CALL = re.compile(r"api_call\(\s*[\"']([A-Za-z]+\.[A-Za-z.]+)[\"']")


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


@pytest.fixture(scope="module")
def bolt():
    """The Bolt app wired exactly as app.py wires it; listeners only close over the services."""
    executor = DrainingExecutor(max_workers=1)
    app = build_app(
        SimpleNamespace(),
        WebClient(token="xoxb-x", base_url="http://127.0.0.1:9/"),
        signing_secret="x",
        executor=executor,
    )
    yield app
    executor.shutdown(wait=False)


def registered_commands(app) -> set[str]:
    """The commands in Bolt's own command matchers (the `command` each `app.command(...)` closed over)."""
    found: set[str] = set()
    for listener in app._listeners:
        for matcher in listener.matchers:
            func = getattr(matcher, "func", None)
            code = getattr(func, "__code__", None)
            if (
                not isinstance(matcher, BuiltinListenerMatcher)
                or code is None
                or "command" not in code.co_freevars
            ):
                continue
            value = func.__closure__[code.co_freevars.index("command")].cell_contents
            found.add(value if isinstance(value, str) else value.pattern)
    return found


def handles_command(app, command: str) -> bool:
    """Whether a slash command as Slack sends it reaches some listener."""
    body = urllib.parse.urlencode(
        {
            "command": command,
            "text": "help",
            "user_id": "U1",
            "team_id": "T1",
            "channel_id": "C1",
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/",
        }
    )
    request = BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})
    response = BoltResponse(status=200)
    return any(listener.matches(req=request, resp=response) for listener in app._listeners)


def methods_called() -> dict[str, list[str]]:
    """Web API methods named in the app's code, each with where."""
    found: dict[str, list[str]] = {}
    for path in SCANNED:
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            names = _METHOD_ATTR.findall(line) + [m.replace(".", "_") for m in _API_CALL.findall(line)]
            for name in names:
                found.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{lineno}")
    return found


def scopes_of(needed: str | tuple[str, ...] | None) -> tuple[str, ...]:
    return (needed,) if isinstance(needed, str) else needed or ()


def test_the_desk_checks_and_approver_groups_are_scanned():
    found = methods_called()
    assert any(where.startswith("desk.py:") for where in found["conversations_info"])
    assert any(where.startswith("inbox/approver_groups.py:") for where in found["usergroups_users_list"])


def test_manifest_describes_a_socket_mode_app(manifest):
    info = manifest["display_information"]
    assert info["name"] == "Fanvue Inbox"
    assert 0 < len(info["description"]) <= 140
    assert 175 <= len(info.get("long_description", "x" * 175)) <= 4000
    bot = manifest["features"]["bot_user"]
    assert bot["display_name"] and bot["always_online"] is True
    s = manifest["settings"]
    assert s["interactivity"]["is_enabled"] is True
    assert "request_url" not in s["interactivity"]  # Socket Mode: Slack refuses a request_url with it on
    assert (s["socket_mode_enabled"], s["org_deploy_enabled"], s["token_rotation_enabled"]) == (
        True,
        False,
        False,
    )
    assert "connections:write" not in manifest["oauth_config"]["scopes"]["bot"]  # an app-level token scope


def test_the_fanvue_command_is_declared(manifest):
    [fanvue] = [c for c in manifest["features"]["slash_commands"] if c["command"] == "/fanvue"]
    assert fanvue["usage_hint"] == "[unread | audit | stats | help]"
    # Escaped, a teammate typed as @alice arrives as <@U123|alice> or <@U123>, which /fanvue audit reads.
    assert fanvue["should_escape"] is True
    assert 0 < len(fanvue["description"]) <= 100
    assert "url" not in fanvue


def test_declared_slash_commands_match_what_the_code_registers(manifest, bolt):
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    registered = registered_commands(bolt)
    assert handles_command(bolt, "/no-such-command") is False
    if not registered:
        # No command listener yet: the manifest still reserves the app's one command.
        assert declared == {"/fanvue"}
        return
    assert declared == registered
    for command in declared:
        assert handles_command(bolt, command), command


def test_the_scan_finds_the_calls_it_is_meant_to_find():
    found = methods_called()
    assert "chat_postMessage" in found and "views_open" in found
    assert _METHOD_ATTR.findall("self._call(self.client.chat_update, ts=ts)") == ["chat_update"]
    assert _METHOD_ATTR.findall("client.usergroups_users_list(usergroup=g)") == ["usergroups_users_list"]
    assert _API_CALL.findall('client.api_call("chat.getPermalink", params=p)') == ["chat.getPermalink"]


def test_every_web_api_method_the_code_calls_has_a_known_scope():
    unknown = {name: where for name, where in methods_called().items() if name not in METHOD_SCOPES}
    assert not unknown, f"add these methods and the bot scope they need to METHOD_SCOPES: {unknown}"


def test_bot_scopes_are_exactly_those_the_code_needs(manifest):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = {scope for name in methods_called() for scope in scopes_of(METHOD_SCOPES.get(name))}
    assert needed <= scopes, f"missing bot scopes: {sorted(needed - scopes)}"
    unused = scopes - needed - NOT_FOR_METHODS
    assert not unused, f"bot scopes nothing in the code uses: {sorted(unused)}"
    assert len(manifest["oauth_config"]["scopes"]["bot"]) == len(scopes)


def test_the_home_tab_and_its_event_are_declared_and_listened_to(manifest, bolt):
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert "request_url" not in manifest["settings"]["event_subscriptions"]  # Socket Mode as written
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        body = {
            "type": "event_callback",
            "team_id": "T1",
            "event": {"type": event, "user": "U1", "tab": "home"},
        }
        request = BoltRequest(body=json.dumps(body), headers={"content-type": ["application/json"]})
        # Socket Mode acknowledges only an event some listener takes: each declared event has one.
        assert any(
            listener.matches(req=request, resp=BoltResponse(status=200)) for listener in bolt._listeners
        )
