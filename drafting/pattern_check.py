"""Refuses persona guardrail patterns that could take minutes to match (catastrophic backtracking)."""

from __future__ import annotations

import json
import queue
import re
import re._parser as sre_parse  # the stdlib's own parser: the same tree `re` compiles
import subprocess
import sys
import threading
from typing import IO

# Guardrails match persona patterns against the normalised text with this flag (drafting/guardrails.py).
FLAGS = re.IGNORECASE
MAX_PATTERN_CHARS = 300
# The longest text a guardrail checks: an edit (Slack caps the input at 3000) or a draft (DRAFT_MAX_CHARS).
PROBE_CHARS = 3000
# A pattern may take this much CPU time for all its probes; the built-in rules take milliseconds. CPU time,
# not the clock, so a busy machine does not refuse an ordinary pattern.
PROBE_SECONDS = 1.0
# However busy the machine, a pattern still running after this long on the clock is taken as too slow.
PROBE_WALL_SECONDS = 5 * PROBE_SECONDS
# Starting a bare interpreter for the probes and handing it the patterns; not counted as any pattern's time.
START_SECONDS = 10.0

_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, sre_parse.POSSESSIVE_REPEAT}
_REFS = {sre_parse.GROUPREF, sre_parse.GROUPREF_EXISTS}
_CATEGORY_SAMPLES = {
    sre_parse.CATEGORY_DIGIT: "0",
    sre_parse.CATEGORY_NOT_DIGIT: "a",
    sre_parse.CATEGORY_SPACE: " ",
    sre_parse.CATEGORY_NOT_SPACE: "a",
    sre_parse.CATEGORY_WORD: "a",
    sre_parse.CATEGORY_NOT_WORD: " ",
}

# Runs in a child interpreter (-I -S: no site, no environment), so a pattern that never finishes is
# stopped by killing the child: Python cannot interrupt a running match in a thread.
_CHILD = r"""
import json, re, sys, time
job = json.load(sys.stdin)
print("ready", flush=True)
for pattern, probes in job["patterns"]:
    started = time.process_time()
    compiled = re.compile(pattern, job["flags"])
    for probe in probes:
        compiled.search(probe)
    print(time.process_time() - started, flush=True)
"""


def static_problem(pattern: str) -> str | None:
    """Why `pattern` may not be a guardrail, from its shape alone; None when its shape is fine.

    Refused: back-references (matching them is NP-hard), a repeated part that itself varies in length
    (`(a+)+`, `(a?){30}`, `(\\w+\\s?)*`: exponential), and a repeated alternation (`(a|ab)*`)."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"is longer than {MAX_PATTERN_CHARS} characters"
    try:
        tree = sre_parse.parse(pattern, FLAGS)
    except re.error as exc:
        return f"is not a valid regular expression ({exc})"
    return _shape(tree, repeated=False)


def _shape(items, *, repeated: bool) -> str | None:
    for op, av in items:
        if op in _REFS:
            return "refers back to a group (\\1, (?P=name), (?(1)…)), which can take minutes to check"
        if op in _REPEATS:
            low, high, body = av
            if repeated and low != high:
                return _NESTED
            varies = high > 1 and _varies(body)
            if varies:
                return _NESTED
            if high > 1 and _has_branch(body):
                return (
                    "repeats a choice (like (a|ab)+), which can take minutes to check; list the words instead"
                )
            problem = _shape(body, repeated=repeated or high > 1)
        elif op == sre_parse.SUBPATTERN:
            problem = _shape(av[-1], repeated=repeated)
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            problem = _shape(av[1], repeated=repeated)
        elif op == sre_parse.ATOMIC_GROUP:
            problem = _shape(av, repeated=repeated)
        elif op == sre_parse.BRANCH:
            problem = next((p for b in av[1] if (p := _shape(b, repeated=repeated))), None)
        else:
            problem = None
        if problem:
            return problem
    return None


_NESTED = "repeats a part that itself repeats (like (a+)+ or (a?){20}), which can take minutes to check"


def _varies(items) -> bool:
    """Whether the sub-pattern can match texts of different lengths."""
    low, high = sre_parse.SubPattern(sre_parse.State(), list(items)).getwidth()
    return low != high


def _has_branch(items) -> bool:
    for op, av in items:
        if op == sre_parse.BRANCH:
            return True
        if op == sre_parse.SUBPATTERN and _has_branch(av[-1]):
            return True
    return False


def _samples(items, found: set[str]) -> set[str]:
    """One character for each literal and class in the pattern: the material of its worst texts."""
    for op, av in items:
        if op == sre_parse.LITERAL:
            found.add(chr(av))
        elif op == sre_parse.ANY:
            found.add("a")
        elif op == sre_parse.IN:
            for kind, value in av:
                if kind == sre_parse.LITERAL:
                    found.add(chr(value))
                elif kind == sre_parse.RANGE:
                    found.add(chr(value[0]))
                elif kind == sre_parse.CATEGORY:
                    found.add(_CATEGORY_SAMPLES.get(value, "a"))
        elif op in _REPEATS:
            _samples(av[2], found)
        elif op == sre_parse.SUBPATTERN:
            _samples(av[-1], found)
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            _samples(av[1], found)
        elif op == sre_parse.ATOMIC_GROUP:
            _samples(av, found)
        elif op == sre_parse.BRANCH:
            for branch in av[1]:
                _samples(branch, found)
    return found


# Short texts too: a pattern like a?a?…aa… backtracks most on a text just short of what it needs.
_PROBE_LENGTHS = (8, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024, PROBE_CHARS)


def probes(pattern: str) -> list[str]:
    """Texts up to PROBE_CHARS characters that make a backtracking pattern work hardest: one character
    of the pattern repeated, and the pattern's characters in turn, each ending in one nothing expects."""
    chars = sorted(_samples(sre_parse.parse(pattern, FLAGS), {"a", " "}))[:24]
    mixed = "".join(chars) * (PROBE_CHARS // len(chars) + 1)
    return [
        text[: length - 1] + "\x00"
        for length in _PROBE_LENGTHS
        for text in (*(c * length for c in chars), mixed)
    ]


_verdicts: dict[str, str | None] = {}
_verdicts_lock = threading.Lock()


def slow_patterns(patterns: list[str]) -> dict[str, str]:
    """The patterns (of those given) that take longer than PROBE_SECONDS on their worst probes, each with
    why. They run in a child process that is killed at the limit; the verdicts are kept for this process."""
    with _verdicts_lock:
        todo = [p for p in dict.fromkeys(patterns) if p not in _verdicts]
    while todo:
        checked = _probe(todo)
        with _verdicts_lock:
            _verdicts.update(checked)
        todo = [p for p in todo if p not in checked]
    with _verdicts_lock:
        return {p: v for p in patterns if (v := _verdicts.get(p))}


def _probe(patterns: list[str]) -> dict[str, str | None]:
    """Verdicts for a prefix of `patterns`: all of them, or those before and including the first slow one."""
    job = {"flags": int(FLAGS), "patterns": [(p, probes(p)) for p in patterns]}
    try:
        child = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError as exc:
        return {
            p: f"could not be checked (Python could not be started to check it: {exc.strerror})"
            for p in patterns
        }
    assert child.stdin is not None and child.stdout is not None  # both were asked for as pipes above
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(child.stdout, lines), daemon=True)
    verdicts: dict[str, str | None] = {}
    try:
        reader.start()
        try:
            child.stdin.write(json.dumps(job))
            child.stdin.close()
        except OSError:
            pass  # the child is gone; the missing answer below says so
        try:
            started = lines.get(timeout=START_SECONDS)
        except queue.Empty:
            started = None
        slow = (
            f"takes longer than {PROBE_SECONDS:g} s to check texts of up to {PROBE_CHARS} characters "
            "(catastrophic backtracking); simplify it or list the words instead"
        )
        for pattern in patterns:
            try:
                line = lines.get(timeout=PROBE_WALL_SECONDS) if started else None
            except queue.Empty:
                verdicts[pattern] = slow
                return verdicts
            if line is None:
                verdicts[pattern] = "could not be checked (the checking process stopped); simplify it"
                return verdicts
            if float(line) > PROBE_SECONDS:
                verdicts[pattern] = slow
                return verdicts
            verdicts[pattern] = None
        return verdicts
    finally:
        child.kill()
        child.wait()
        reader.join(1)


def _read_lines(stdout: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stdout:
        lines.put(line)
    lines.put(None)
