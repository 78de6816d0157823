"""A hostile or mistaken persona file is refused at load, naming the file and the line, before it costs
time or memory: alias bombs, deep nesting, huge files, and guardrail patterns that backtrack for ever."""

from __future__ import annotations

import pytest

from drafting import pattern_check
from drafting.guardrails import Guardrails
from drafting.persona import MAX_DEPTH, MAX_PERSONA_BYTES, PersonaError, load_persona

# On code without these limits, several of these files hang instead of failing: stop them.
pytestmark = pytest.mark.timeout(60)


def refused(tmp_path, content: str | bytes) -> str:
    path = tmp_path / "persona.yml"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    message = str(caught.value)
    assert message.startswith(f"{path} line "), message
    return message


def test_an_alias_is_refused_with_its_line(tmp_path):
    message = refused(tmp_path, "name: Mia\ndo: &same [ask back, be kind]\ndont: *same\n")
    assert message.startswith(f"{tmp_path / 'persona.yml'} line 3: uses an alias")


def test_a_billion_laughs_file_is_refused_at_its_first_alias(tmp_path):
    lines = ["name: Mia", 'lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        lines.append(f"lol{level}: &lol{level} [{', '.join([f'*lol{level - 1}'] * 10)}]")
    lines.append("do: *lol9")
    message = refused(tmp_path, "\n".join(lines) + "\n")
    assert " line 3: uses an alias" in message


@pytest.mark.parametrize(
    ("nested", "line"),
    [
        ("do: " + "[" * 5000 + "x" + "]" * 5000, 2),
        ("guardrails: " + "{a: " * 3000 + "b" + "}" * 3000, 2),
        # one level a line from line 3 (level 2, under the root mapping): level 11 is on line 12
        ("do:\n" + "".join("  " * level + "-\n" for level in range(60)), 12),
    ],
)
def test_deep_nesting_is_refused_without_recursing(tmp_path, nested, line):
    message = refused(tmp_path, "name: Mia\n" + nested + "\n")
    assert f" line {line}: is nested more than {MAX_DEPTH} levels deep" in message


def test_a_huge_file_is_refused_naming_the_line_where_the_limit_is_passed(tmp_path):
    line = "  - " + "be kind " * 10 + "\n"
    count = MAX_PERSONA_BYTES // len(line) + 100
    head = "name: Mia\ndo:\n"
    message = refused(tmp_path, head + line * count)
    expected = 3 + (MAX_PERSONA_BYTES - len(head)) // len(line)  # the line holding the last byte allowed
    assert f" line {expected}: the file is larger than {MAX_PERSONA_BYTES // 1024} KiB" in message


def test_a_file_just_under_the_limit_loads(tmp_path):
    line = "  - be kind\n"
    path = tmp_path / "persona.yml"
    path.write_text("name: Mia\ndo:\n" + line * ((MAX_PERSONA_BYTES - 100) // len(line)), encoding="utf-8")
    assert load_persona(path).do[0] == "be kind"


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    message = refused(tmp_path, b"name: Mia\ntone: caf\xe9\n")
    assert " line 2: not UTF-8 text" in message


def persona_with(pattern: str) -> str:
    return f"name: Mia\nguardrails:\n  - name: mine\n    patterns:\n      - 'ok'\n      - '{pattern}'\n"


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(a+)+$", "repeats a part that itself repeats"),
        ("(\\w+\\s?)*!", "repeats a part that itself repeats"),
        ("(a?){25}a{25}", "repeats a part that itself repeats"),
        ("(?:a|ab)*c", "repeats"),
        ("(?:ab|cd)+x", "repeats a choice"),
        ("(x+)y\\1", "refers back to a group"),
        ("a" * (pattern_check.MAX_PATTERN_CHARS + 1), "longer than"),
    ],
)
def test_patterns_shaped_to_backtrack_are_refused_with_their_line(tmp_path, pattern, why):
    message = refused(tmp_path, persona_with(pattern))
    assert " line 6: guardrails.0.patterns.1 " in message and why in message


@pytest.mark.parametrize(
    "pattern",
    [
        "\\w*\\w*\\w*\\w*x",  # no nesting, yet polynomial of the fifth degree
        "a?" * 30 + "a" * 30,  # no nesting, yet 2**30 ways to try
    ],
)
def test_patterns_that_pass_the_shape_check_but_backtrack_are_caught_by_the_probe(tmp_path, pattern):
    assert pattern_check.static_problem(pattern) is None  # the probe is what catches these
    message = refused(tmp_path, persona_with(pattern))
    assert " line 6: guardrails.0.patterns.1 takes longer than" in message
    assert "catastrophic backtracking" in message


@pytest.mark.parametrize(
    "pattern",
    [
        "\\bcash\\s*app\\b",
        "[\\w.+-]+@[\\w-]+\\.[\\w.-]+",
        "\\bmy\\s+(?:real|actual)\\s+name\\b",
        "(?:ha){2,}",
        "\\b(?:only|just)\\s?fans?\\b",
        "\\d{3}[ -]?\\d{4}",
    ],
)
def test_ordinary_patterns_load_and_flag(tmp_path, pattern):
    path = tmp_path / "persona.yml"
    path.write_text(persona_with(pattern.replace("'", "''")), encoding="utf-8")
    persona = load_persona(path)
    assert persona.rules[0].patterns == ("ok", pattern)
    assert [f.rule for f in Guardrails.for_persona(persona).check("it is ok")] == ["mine"]


def test_the_probe_texts_are_made_of_the_patterns_own_characters():
    texts = pattern_check.probes("(?:x|y)z\\d")
    assert max(len(t) for t in texts) == pattern_check.PROBE_CHARS
    assert {t[0] for t in texts} >= {"x", "y", "z", "0"}
