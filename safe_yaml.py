"""YAML files people edit (persona, desk): a loader refusing aliases and deep nesting; a field reader."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml


class YamlRefused(Exception):
    """The text is not YAML this app reads; `line` (1-based) says where, when known."""

    def __init__(self, line: int | None, problem: str):
        super().__init__(problem)
        self.line = line
        self.problem = problem


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases and deep nesting while it composes, before anything is
    built: an alias can make a short file stand for billions of values ("billion laughs"), and nesting
    recurses once a level."""

    def __init__(self, stream: str, max_depth: int):
        super().__init__(stream)
        self._depth = 0
        self._max_depth = max_depth

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise YamlRefused(
                self.peek_event().start_mark.line + 1, "uses an alias (*name); write the value out instead"
            )
        self._depth += 1
        try:
            if self._depth > self._max_depth:
                raise YamlRefused(
                    self.peek_event().start_mark.line + 1,
                    f"is nested more than {self._max_depth} levels deep",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def check_size(raw: bytes, max_bytes: int) -> None:
    """Refuse more than `max_bytes`, naming the line that holds the last byte allowed."""
    if len(raw) > max_bytes:
        line = raw[:max_bytes].count(b"\n") + 1
        raise YamlRefused(
            line, f"the file is larger than {max_bytes // 1024} KiB; nothing after this line was read"
        )


def read_text(path: Path, max_bytes: int) -> str:
    """The file's UTF-8 text, read no further than `max_bytes`. Raises OSError, and YamlRefused for a
    file too large or not UTF-8."""
    with path.open("rb") as file:
        raw = file.read(max_bytes + 1)  # never more: the cap holds before anything is parsed
    check_size(raw, max_bytes)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlRefused(
            raw[: exc.start].count(b"\n") + 1, "not UTF-8 text; save the file as UTF-8"
        ) from None


def lines(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    """Where each key and list item starts (a path of keys and indexes to a line), so an error can name it."""
    found = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(lines(value, (*path, key.value)))
            found[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.update(lines(item, (*path, index)))
    return found


def load(text: str, max_depth: int) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (it knows every line) and the data built from it; (None, None) when
    the text holds no document. Raises YamlRefused for aliases, nesting deeper than `max_depth` and
    text that is not YAML."""
    try:
        loader = _Loader(text, max_depth)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlRefused(
            mark.line + 1 if mark else None, f"not valid YAML ({exc.problem or exc.context})"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlRefused(None, f"not valid YAML ({exc})") from None
    return node, data


def scalar(node: yaml.ScalarNode) -> Any:
    """One scalar's value as the safe loader builds it (text, number, bool, null, date)."""
    return yaml.constructor.SafeConstructor().construct_object(node)


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and scalar(node) is None


def shown(value: object) -> str:
    """A value for a problem's text; a list or mapping is named, not dumped."""
    return "a list or mapping" if isinstance(value, yaml.Node) else repr(value)


class NodeReader:
    """Reads values out of a node tree, collecting each problem with its line instead of stopping at
    the first, so one message can list them all. `noun` names what a key is ("a desk setting")."""

    def __init__(self, source: str, noun: str):
        self.source = source
        self.noun = noun
        self._found: list[tuple[int, str]] = []

    @property
    def problems(self) -> list[str]:
        """Every problem found, in the order of the file's lines."""
        return [text for _, text in sorted(self._found, key=lambda found: found[0])]

    def add(self, node: yaml.Node | None, where: str, problem: str) -> None:
        """A problem at `node`'s line, or about the whole file when `node` is None."""
        if node is None:
            self._found.append((0, f"{self.source}: {where} {problem}"))
        else:
            line = node.start_mark.line + 1
            self._found.append((line, f"{self.source} line {line}: {where} {problem}"))

    def mapping(self, node: yaml.Node, where: str, keys: tuple[str, ...]) -> dict[str, tuple]:
        """The known keys of a mapping, each with its (key, value) nodes; unknown keys (with the
        closest known one) and repeated keys, which YAML would silently collapse, are reported."""
        if not isinstance(node, yaml.MappingNode):
            self.add(node, where, f"should be a mapping with {', '.join(keys)}")
            return {}
        found: dict[str, tuple] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "a list or mapping"
            label = name if where == "the file" else f"{where}.{name}"
            if name not in keys:
                close = difflib.get_close_matches(name, keys, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                self.add(key, label, f"is not {self.noun}{hint} (known: {', '.join(keys)})")
            elif name in found:
                first = found[name][0].start_mark.line + 1
                self.add(key, label, f"is given twice (first on line {first}); YAML would keep only the last")
            else:
                found[name] = (key, value)
        return found

    @staticmethod
    def value(fields: dict, key: str) -> tuple[yaml.Node | None, Any]:
        """(node, value) of a key from `mapping`; (None, None) when absent. A list or mapping comes
        back as its node, for the caller to say what fits there."""
        if key not in fields:
            return None, None
        node = fields[key][1]
        return node, scalar(node) if isinstance(node, yaml.ScalarNode) else node

    def flag(self, fields: dict, key: str, where: str, *, default: bool) -> bool:
        node, value = self.value(fields, key)
        if node is None or value is None:
            return default
        if not isinstance(value, bool):
            self.add(node, f"{where}.{key}", f"should be true or false, not {shown(value)}")
            return default
        return value

    def number(
        self, fields: dict, key: str, where: str, *, low: int, high: int | None = None, why: str = ""
    ) -> int | None:
        """A whole number from `low` to `high`; `why` follows the range in the problem's text."""
        node, value = self.value(fields, key)
        if node is None or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(node, f"{where}.{key}", f"should be a whole number, not {shown(value)}")
            return None
        if value < low or (high is not None and value > high):
            span = f"at least {low}" if high is None else f"between {low} and {high}"
            self.add(node, f"{where}.{key}", f"should be {span}{why}, not {value}")
            return None
        return value
