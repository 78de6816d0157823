"""Reads the desk file's YAML node tree into a Desk, so that every problem names its line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml

import safe_yaml
from desk_entries import KEYS, MAX_SLA_MINUTES, CreatorDesk, Desk, normalise_handle
from drafting.persona import PersonaError, load_persona
from fanvue.message_text import MIN_PRICE_CENTS

_CHANNEL = re.compile(r"[CG][A-Z0-9]{1,20}")
_USER = re.compile(r"[UW][A-Z0-9]{1,20}")
_GROUP = re.compile(r"S[A-Z0-9]{1,20}")
_HANDLE = re.compile(r"[a-z0-9_.-]{1,100}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_ENV_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


class DeskReader(safe_yaml.NodeReader):
    """Reads the desk's node tree, so that every problem names its line and all are reported at once."""

    def __init__(self, source: str, folder: Path, environ: Mapping[str, str]):
        super().__init__(source, noun="a desk setting")
        self.folder = folder
        self.environ = environ
        self.personas: dict[Path, str | None] = {}  # each persona file loaded once, with its problem

    def desk(self, node: yaml.Node | None) -> Desk:
        if node is None:
            self.add(None, "the file", "is empty; it needs `creators:` (see desk.example.yml)")
            return Desk({}, self.source)
        top = self.mapping(node, "the file", ("creators",))
        if not isinstance(node, yaml.MappingNode):
            return Desk({}, self.source)
        creators: dict[str, CreatorDesk] = {}
        lines: dict[str, int] = {}
        if "creators" in top:
            key, value = top["creators"]
            if isinstance(value, yaml.MappingNode):
                for handle_node, creator_node in value.value:
                    self.creator(handle_node, creator_node, creators, lines)
            elif not safe_yaml.is_null(value):
                self.add(value, "creators", "should be a mapping of Fanvue handles, such as `mia:`")
        else:
            self.add(
                node, "the file", "needs `creators:`, a mapping of Fanvue handles (see desk.example.yml)"
            )
        return Desk(creators, self.source, lines)

    def creator(self, key: yaml.Node, node: yaml.Node, creators: dict, lines: dict) -> None:
        # The key as written: `0123` or `yes` is a handle here, not a number or a bool.
        raw = key.value if isinstance(key, yaml.ScalarNode) else None
        handle = normalise_handle(raw) if isinstance(raw, str) else ""
        if not _HANDLE.fullmatch(handle):
            shown = safe_yaml.shown(key if raw is None else raw)
            self.add(key, "creators:", f"{shown} is not a Fanvue handle (letters, digits, _ . and -)")
            return
        where = f"creators.{handle}"
        if handle in lines:
            self.add(key, where, f"is listed twice (first on line {lines[handle]}; handles ignore case)")
            return
        lines[handle] = key.start_mark.line + 1
        fields = self.mapping(node, where, KEYS)
        if not isinstance(node, yaml.MappingNode):
            return
        channel = self.channel(fields, where, key)
        approvers, group = self.approvers(fields, where)
        creator = CreatorDesk(
            handle=handle,
            channel=channel or "",
            persona_file=self.persona(fields, where),
            approvers=approvers,
            approver_group=group,
            enabled=self.flag(fields, "enabled", where, default=True),
            webhook_secret=self.secret(fields, where),
            sla_minutes=self.number(fields, "sla_minutes", where, low=1, high=MAX_SLA_MINUTES),
            ppv_max_price_cents=self.price(fields, where),
        )
        creators[handle] = creator

    def channel(self, fields: dict, where: str, handle: yaml.Node) -> str | None:
        node, value = self.value(fields, "channel")
        if node is None or value is None:
            self.add(
                node or handle,
                f"{where}.channel",
                "is missing: the channel's ID (C… or G…), at the bottom of its details in Slack "
                "(a # starts a comment in YAML, so #name reads as nothing)",
            )
            return None
        text = value.strip() if isinstance(value, str) else None
        if text is None or not _CHANNEL.fullmatch(text):
            shown = safe_yaml.shown(text if text is not None else value)
            self.add(node, f"{where}.channel", f"should be a Slack channel ID (C… or G…), not {shown}")
            return None
        return text

    def approvers(self, fields: dict, where: str) -> tuple[frozenset[str], str | None]:
        node, value = self.value(fields, "approvers")
        if node is None or value is None:
            return frozenset(), None
        items: list[tuple[yaml.Node, object]] | None = [(node, value)] if isinstance(value, str) else None
        if isinstance(node, yaml.SequenceNode):
            items = [(n, safe_yaml.scalar(n) if isinstance(n, yaml.ScalarNode) else n) for n in node.value]
        if items is None:
            self.add(node, f"{where}.approvers", "should be a user ID, a user group ID, or a list of them")
            return frozenset(), None
        users: set[str] = set()
        groups: list[str] = []
        for item_node, item in items:
            text = item.strip() if isinstance(item, str) else ""
            if _USER.fullmatch(text):
                users.add(text)
            elif _GROUP.fullmatch(text):
                groups.append(text)
            else:
                hint = (
                    " (a name: use the member ID from the profile's ⋮ menu)" if text.startswith("@") else ""
                )
                self.add(
                    item_node,
                    f"{where}.approvers",
                    "should hold Slack user IDs (U… or W…) or one user group ID (S…), "
                    f"not {safe_yaml.shown(item)}{hint}",
                )
        if len(groups) > 1:
            self.add(node, f"{where}.approvers", f"names {len(groups)} user groups; one at most")
        return frozenset(users), groups[0] if groups else None

    def persona(self, fields: dict, where: str) -> Path | None:
        node, value = self.value(fields, "persona")
        if node is None or value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(node, f"{where}.persona", "should be the path of a persona file")
            return None
        path = self.folder / Path(value.strip()).expanduser()
        if path not in self.personas:
            self.personas[path] = _persona_problem(path)
        if self.personas[path]:
            self.add(node, f"{where}.persona", f"{value.strip()}: {self.personas[path]}")
        return path

    def price(self, fields: dict, where: str) -> int | None:
        node, value = self.value(fields, "ppv_max_price_cents")
        if isinstance(value, float):
            self.add(
                node,
                f"{where}.ppv_max_price_cents",
                f"is in cents, a whole number (999 for 9.99), not {value}",
            )
            return None
        why = " (Fanvue's lowest price, in cents)"
        return self.number(fields, "ppv_max_price_cents", where, low=MIN_PRICE_CENTS, why=why)

    def secret(self, fields: dict, where: str) -> str | None:
        """`webhook_secret` written out, or the environment variable `webhook_secret_env` names.
        A secret's value never appears in a problem."""
        node, value = self.value(fields, "webhook_secret")
        env_node, env_name = self.value(fields, "webhook_secret_env")
        if node is not None and env_node is not None:
            self.add(env_node, f"{where}.webhook_secret_env", "and webhook_secret are both set; keep one")
            return None
        if env_node is not None and env_name is not None:
            if not isinstance(env_name, str) or not _ENV_NAME.fullmatch(env_name.strip()):
                self.add(
                    env_node, f"{where}.webhook_secret_env", "should be the name of an environment variable"
                )
                return None
            secret = (self.environ.get(env_name.strip()) or "").strip()
            if not secret:
                self.add(
                    env_node, f"{where}.webhook_secret_env", f"names {env_name.strip()}, which is not set"
                )
            return secret or None
        if node is None or value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(node, f"{where}.webhook_secret", "should be text (or use webhook_secret_env: NAME)")
            return None
        reference = _ENV_REFERENCE.fullmatch(value.strip())
        if reference:
            self.add(
                node,
                f"{where}.webhook_secret",
                f"is not expanded from the environment: write `webhook_secret_env: {reference[1]}` instead",
            )
            return None
        return value.strip()


def _persona_problem(path: Path) -> str | None:
    if not path.is_file():
        return f"no persona file at {path} (a relative path starts at the desk file's folder)"
    try:
        load_persona(path)
    except PersonaError as exc:
        return f"the persona does not load: {exc}"
    return None
