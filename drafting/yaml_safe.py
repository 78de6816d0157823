"""YAML files we are given, read with limits: size, UTF-8, no aliases, bounded nesting; errors name the line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


class YamlError(Exception):
    """The text is not YAML these limits accept; the message names the source and, where known, the line."""


@dataclass(frozen=True)
class Document:
    """The parsed data, and where each key and list item starts (a path of keys and indexes to a line)."""

    data: Any
    lines: dict[tuple, int]


def check_size(raw: bytes, source: str, max_bytes: int, typical: str) -> None:
    """Refuse more than `max_bytes`, naming the line that holds the last byte allowed; `typical` says
    what size such a file usually has."""
    if len(raw) > max_bytes:
        line = raw[:max_bytes].count(b"\n") + 1
        raise YamlError(
            f"{source} line {line}: the file is larger than {max_bytes // 1024} KiB "
            f"({typical}); nothing after this line was read"
        )


def decode(raw: bytes, source: str, max_bytes: int, typical: str) -> str:
    """The file's bytes as text, once they are within `max_bytes` and valid UTF-8."""
    check_size(raw, source, max_bytes, typical)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError(f"{source} line {line}: not UTF-8 text; save the file as UTF-8") from None


def parse(text: str, source: str, *, max_depth: int) -> Document | None:
    """The single document in `text`, nested at most `max_depth` levels, or None when it holds none (an
    empty file)."""
    try:
        loader = _Loader(text, max_depth)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except _Refused as exc:
        raise YamlError(f"{source} line {exc.mark.line + 1}: {exc.problem}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" line {mark.line + 1}" if mark else ""
        raise YamlError(f"{source}{line}: not valid YAML ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"{source}: not valid YAML ({exc})") from None
    if node is None:
        return None
    return Document(data, _lines(node))


class _Refused(Exception):
    def __init__(self, mark: yaml.Mark, problem: str):
        self.mark = mark
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
            raise _Refused(self.peek_event().start_mark, "uses an alias (*name); write the value out instead")
        self._depth += 1
        try:
            if self._depth > self._max_depth:
                raise _Refused(
                    self.peek_event().start_mark, f"is nested more than {self._max_depth} levels deep"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _lines(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    """Where each key and list item starts, so an error can name its line."""
    found = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(_lines(value, (*path, key.value)))
            found[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.update(_lines(item, (*path, index)))
    return found
