"""The creator's voice from PERSONA_FILE (YAML): how they write, what they offer, their own rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import safe_yaml
from drafting import pattern_check
from fanvue.message_text import MAX_TEXT as MAX_TEXT_LENGTH

EMOJI_LEVELS = ("none", "few", "some", "lots")
LENGTHS = ("short", "medium", "long")
# Every draft ends with the sign-off: it leaves this much of Fanvue's message length for the reply itself.
REPLY_ROOM = 200
SIGN_OFF_MAX = MAX_TEXT_LENGTH - REPLY_ROOM
# A persona is a few KiB; the caps refuse a hostile or mistaken file before it costs time or memory.
MAX_PERSONA_BYTES = 256 * 1024
_TYPICAL_SIZE = "a persona needs a few KiB"
MAX_DEPTH = 10  # the persona's own structure is 5 deep (guardrails, a rule, its patterns, one pattern)


class PersonaError(Exception):
    """The persona file is missing or malformed; the message names the file and the line."""


@dataclass(frozen=True)
class Offer:
    """Something the creator really sells; drafts may promise only these, at these prices."""

    name: str
    price: str | None = None


@dataclass(frozen=True)
class Example:
    """A fan message and the reply the creator would write."""

    fan: str
    reply: str


@dataclass(frozen=True)
class CustomRule:
    """A guardrail the team adds: words or regular expressions that flag a draft."""

    name: str
    message: str
    words: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Persona:
    """How the creator writes; every field but the name is optional."""

    name: str | None = None
    tone: str = "warm, friendly and playful"
    length: str = "short"
    emoji: str = "some"
    favourite_emoji: tuple[str, ...] = ("💕", "😊", "🥰")
    pet_names: tuple[str, ...] = ()
    language: str | None = None
    do: tuple[str, ...] = ()
    dont: tuple[str, ...] = ()
    sign_off: str | None = None
    offers: tuple[Offer, ...] = ()
    examples: tuple[Example, ...] = ()
    rules: tuple[CustomRule, ...] = field(default_factory=tuple)

    def display_name(self, fallback: str) -> str:
        return self.name or fallback


def load_persona(path: str | Path | None) -> Persona:
    """The persona in `path`, or the default voice when no file is configured."""
    if path is None:
        return Persona()
    path = Path(path)
    try:
        text = safe_yaml.read_text(path, MAX_PERSONA_BYTES)  # never more: the cap holds before parsing
    except FileNotFoundError:
        raise PersonaError(
            f"PERSONA_FILE {path} does not exist (copy persona.example.yml to start)"
        ) from None
    except OSError as exc:
        raise PersonaError(f"PERSONA_FILE {path} cannot be read: {exc.strerror}") from None
    except safe_yaml.YamlRefused as exc:
        raise PersonaError(_refusal(str(path), exc)) from None
    return parse_persona(text, str(path))


def parse_persona(text: str, source: str = "persona") -> Persona:
    try:
        safe_yaml.check_size(text.encode("utf-8", "surrogatepass"), MAX_PERSONA_BYTES)
        node, data = safe_yaml.load(text, MAX_DEPTH)
    except safe_yaml.YamlRefused as exc:
        raise PersonaError(_refusal(source, exc)) from None
    if node is None:
        raise PersonaError(f"{source}: the file is empty; it needs at least `name:`")
    return _Reader(source, safe_yaml.lines(node)).persona(data)


def _refusal(source: str, exc: safe_yaml.YamlRefused) -> str:
    line = f" line {exc.line}" if exc.line else ""
    problem = exc.problem.replace("KiB;", f"KiB ({_TYPICAL_SIZE});", 1)
    return f"{source}{line}: {problem}"


_TOP_KEYS = {
    "name",
    "tone",
    "length",
    "emoji",
    "favourite_emoji",
    "pet_names",
    "language",
    "do",
    "dont",
    "sign_off",
    "offers",
    "examples",
    "guardrails",
}


class _Reader:
    def __init__(self, source: str, lines: dict[tuple, int]):
        self.source = source
        self.lines = lines
        self.patterns: dict[str, tuple] = {}  # each pattern and where it first appears, for the probe

    def fail(self, path: tuple, problem: str) -> PersonaError:
        line = self.lines.get(path) or self.lines.get(path[:-1]) or 1
        where = ".".join(str(p) for p in path) or "the file"
        return PersonaError(f"{self.source} line {line}: {where} {problem}")

    def persona(self, data: Any) -> Persona:
        if not isinstance(data, dict):
            raise self.fail((), "should be a mapping of settings such as `name: Mia`")
        for key in data:
            if key not in _TOP_KEYS:
                raise self.fail((key,), f"is not a persona setting (known: {', '.join(sorted(_TOP_KEYS))})")
        name = self.required_text(data, ("name",))
        persona = Persona(
            name=name,
            tone=self.text(data, ("tone",)) or Persona.tone,
            length=self.choice(data, ("length",), LENGTHS, Persona.length),
            emoji=self.choice(data, ("emoji",), EMOJI_LEVELS, Persona.emoji),
            favourite_emoji=self.texts(data, ("favourite_emoji",)) or Persona.favourite_emoji,
            pet_names=self.texts(data, ("pet_names",)),
            language=self.text(data, ("language",)),
            do=self.texts(data, ("do",)),
            dont=self.texts(data, ("dont",)),
            sign_off=self.sign_off(data),
            offers=tuple(
                self.offer(item, ("offers", i)) for i, item in enumerate(self.items(data, "offers"))
            ),
            examples=tuple(
                self.example(item, ("examples", i)) for i, item in enumerate(self.items(data, "examples"))
            ),
            rules=tuple(
                self.rule(item, ("guardrails", i)) for i, item in enumerate(self.items(data, "guardrails"))
            ),
        )
        self.probe_patterns()
        return persona

    def probe_patterns(self) -> None:
        """Patterns that pass the shape check still run against their worst texts, with a time limit."""
        slow = pattern_check.slow_patterns(list(self.patterns))
        for pattern, path in self.patterns.items():
            if pattern in slow:
                raise self.fail(path, slow[pattern])

    def text(self, data: dict, path: tuple) -> str | None:
        value = data.get(path[-1])
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(path, "should be text")
        return str(value).strip() or None

    def required_text(self, data: dict, path: tuple) -> str:
        if data.get(path[-1]) is None:
            raise self.fail(path, "is missing")
        value = self.text(data, path)
        if value is None:
            raise self.fail(path, "is empty")
        return value

    def sign_off(self, data: dict) -> str | None:
        value = self.text(data, ("sign_off",))
        if value is not None and len(value) > SIGN_OFF_MAX:
            raise self.fail(
                ("sign_off",),
                f"is {len(value)} characters: every draft ends with it and Fanvue takes at most "
                f"{MAX_TEXT_LENGTH} characters a message, so it may have at most {SIGN_OFF_MAX}",
            )
        return value

    def texts(self, data: dict, path: tuple) -> tuple[str, ...]:
        value = data.get(path[-1])
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(path, "should be a list")
        out = []
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self.fail((*path, index), "should be text")
            if str(item).strip():
                out.append(str(item).strip())
        return tuple(out)

    def choice(self, data: dict, path: tuple, options: tuple[str, ...], default: str) -> str:
        value = self.text(data, path)
        if value is None:
            return default
        if value.lower() not in options:
            raise self.fail(path, f"should be one of {', '.join(options)}, not {value!r}")
        return value.lower()

    def items(self, data: dict, key: str) -> list:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail((key,), "should be a list")
        return value

    def mapping(self, item: Any, path: tuple, keys: set[str]) -> dict:
        if not isinstance(item, dict):
            raise self.fail(path, f"should be a mapping with {', '.join(sorted(keys))}")
        for key in item:
            if key not in keys:
                raise self.fail((*path, key), f"is not expected here (known: {', '.join(sorted(keys))})")
        return item

    def offer(self, item: Any, path: tuple) -> Offer:
        if isinstance(item, str):
            return Offer(name=item.strip())
        item = self.mapping(item, path, {"name", "price"})
        return Offer(name=self.required_text(item, (*path, "name")), price=self.text(item, (*path, "price")))

    def example(self, item: Any, path: tuple) -> Example:
        item = self.mapping(item, path, {"fan", "reply"})
        return Example(
            fan=self.required_text(item, (*path, "fan")),
            reply=self.required_text(item, (*path, "reply")),
        )

    def rule(self, item: Any, path: tuple) -> CustomRule:
        item = self.mapping(item, path, {"name", "message", "words", "patterns"})
        name = self.required_text(item, (*path, "name"))
        words = self.texts(item, (*path, "words"))
        patterns = self.texts(item, (*path, "patterns"))
        for index, pattern in enumerate(patterns):
            try:
                re.compile(pattern, pattern_check.FLAGS)
            except re.error as exc:
                raise self.fail(
                    (*path, "patterns", index), f"is not a valid regular expression ({exc})"
                ) from None
            problem = pattern_check.static_problem(pattern)
            if problem:
                raise self.fail((*path, "patterns", index), problem)
            self.patterns.setdefault(pattern, (*path, "patterns", index))
        if not words and not patterns:
            raise self.fail(path, "needs `words` or `patterns`")
        return CustomRule(
            name=name,
            message=self.text(item, (*path, "message")) or f"matches the rule {name}",
            words=words,
            patterns=patterns,
        )
