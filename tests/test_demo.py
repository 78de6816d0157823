"""The offline demo: it runs end to end, in-process and as `python app.py demo`, and fails loudly."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

import demo
from demo import story
from demo.render import mrkdwn_text, render_blocks, without_history

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_tmp(tmp_path, monkeypatch):
    """The demo's temporary database directory goes under tmp_path, so a test can see it was removed."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_demo_walks_every_step_and_cleans_up(capsys, demo_tmp):
    threads_before = set(threading.enumerate())

    assert demo.main() == 0

    out = capsys.readouterr().out
    for number in range(1, 8):
        assert f"== Step {number}:" in out
    assert "Team notes" in out and story.NOTE_TEXT in out and "spent $" in out  # step 7, and fan context
    assert "[Send] [Edit] [Regenerate] [Skip]" in out
    assert "Sent by @Alice" in out
    assert out.count("Fanvue got, for @") == 4
    # Step 9: a priced item attached and confirmed, bought by the fan, credited to Bob.
    assert (
        "Slack asks Bob: 'Charge $7.50 for 1 item" in out
        and "Stats: Bob: 1 paid sent, 1 bought, $7.50" in out
    )
    assert any(
        line.startswith("  Fanvue got, for @") and line.endswith(repr(story.EDITED_TEXT))
        for line in out.splitlines()
    )
    assert "Skipped by @Carol" in out
    # Two creators, each in its own channel, and every card names the creator it answers for.
    assert "cards went to its own channel C0DEMO2, not C0DEMO" in out and "💬 to *@" in out
    assert "Only Dana sees: Fanvue refused the message" in out
    assert "wrote again since this draft, so nothing was sent" in out
    assert "(v2)" in out
    assert "Audit log (oldest first)" in out and "edited-and-sent" in out
    assert "Summary: 4 messages reached Fanvue (expected 4)" in out
    assert out.rstrip().endswith("Every step behaved as expected.")
    # Six moments, a note, a webhook's card, a sale, and two creators' audit rows.
    assert len(out.splitlines()) < 270
    assert list(demo_tmp.iterdir()) == []
    left = [t.name for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert left == []


def test_demo_fails_when_the_blocked_fan_receives_a_message(capsys, demo_tmp, monkeypatch):
    real = story._blocked_fan_waiting

    def contactable_after_all(st):
        fan = real(st)
        st.sandbox.world.set_contactable(fan["uuid"], True)
        return fan

    monkeypatch.setattr(story, "_blocked_fan_waiting", contactable_after_all)

    assert demo.main() == 1

    out = capsys.readouterr().out
    assert "DEMO FAILED: step 5: 1 messages reached Fanvue, expected 0" in out
    assert "Audit log (oldest first)" in out
    assert list(demo_tmp.iterdir()) == []


def test_python_app_py_demo_exits_zero():
    result = subprocess.run(
        [sys.executable, "app.py", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        encoding="utf-8",
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Every step behaved as expected." in result.stdout
    assert result.stderr == ""


def _comparable(out: str) -> list[str]:
    """The demo's lines with what differs from run to run in either mode masked: the drafts' wording (the
    sandbox's ids seed the template), clock times and durations, and which of Alice and Bob wins their race in step 4."""
    masks = [
        (r"^(\s*> ).*$", r"\1…"),
        (r"(Fanvue got, for @\S+:) .*$", r"\1 …"),
        (r"\b\d\d:\d\d(:\d\d)?\b", "hh:mm"),
        (r"\b\d+\.\d\d s after\b", "n s after"),  # how fast a webhook's card came
        (r"(text: ).*$", r"\1…"),
        (r"Only (Alice|Bob) sees: .*$", "Only Alice or Bob sees: …"),
        (r"\b(Alice|Bob)\b( +)?", lambda m: "Alice or Bob" + (" " if m.group(2) else "")),  # and padding
    ]
    lines = []
    for line in out.splitlines():
        for pattern, replacement in masks:
            line = re.sub(pattern, replacement, line)
        lines.append(line)
    # Two creators are polled at once, so the order of their rows in the audit log varies from run to run.
    start = next((i for i, line in enumerate(lines) if line.startswith("== Audit log")), len(lines))
    end = next((i for i, line in enumerate(lines) if line.startswith("Summary:")), len(lines))
    return lines[: start + 1] + sorted(lines[start + 1 : end]) + lines[end:]


def test_demo_in_socket_mode_prints_what_the_http_run_prints_but_the_mode(capsys, demo_tmp):
    threads_before = set(threading.enumerate())

    assert demo.main(socket_mode=False) == 0
    over_http = capsys.readouterr().out
    assert demo.main(socket_mode=True) == 0
    over_socket = capsys.readouterr().out

    assert demo.MODE_LINES[False] in over_http.splitlines()
    assert demo.MODE_LINES[True] in over_socket.splitlines()
    differ = [(a, b) for a, b in zip(_comparable(over_http), _comparable(over_socket), strict=True) if a != b]
    assert differ == [(demo.MODE_LINES[False], demo.MODE_LINES[True])]
    assert "Summary: 4 messages reached Fanvue (expected 4)" in over_socket
    assert over_socket.rstrip().endswith("Every step behaved as expected.")
    assert list(demo_tmp.iterdir()) == []
    left = [t.name for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert left == []


def test_python_app_py_demo_socket_mode_exits_zero():
    result = subprocess.run(
        [sys.executable, "app.py", "demo", "--socket-mode"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        encoding="utf-8",
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert demo.MODE_LINES[True] in result.stdout.splitlines()
    assert "Every step behaved as expected." in result.stdout
    assert result.stderr == ""


def test_render_blocks_reads_like_the_card():
    card = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "💬 *Ana* (@ana) · 1 unread"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Ana:* &lt;3 you &amp; me\n*You:* hi"}},
        {"type": "divider"},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "✅ *Sent by <@U0ALICE> at <!date^1700000000^{time}|22:13 UTC>*",
            },
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "note one"},
                {"type": "image", "image_url": "x", "alt_text": "avatar"},
            ],
        },
        {
            "type": "actions",
            "block_id": "decide",
            "elements": [
                {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Send"}},
                {"type": "button", "action_id": "b", "text": {"type": "plain_text", "text": "Skip"}},
            ],
        },
    ]

    assert render_blocks(card, {"U0ALICE": "Alice"}) == [
        "💬 *Ana* (@ana) · 1 unread",
        "*Ana:* <3 you & me",
        "*You:* hi",
        "────────",
        "✅ *Sent by @Alice at 22:13 UTC*",
        "  note one · avatar",
        "[Send] [Skip]",
    ]
    assert render_blocks(without_history(card), {}) == [
        "💬 *Ana* (@ana) · 1 unread",
        "✅ *Sent by @U0ALICE at 22:13 UTC*",
        "  note one · avatar",
        "[Send] [Skip]",
    ]


def test_mrkdwn_text_links_channels_and_broadcasts():
    assert mrkdwn_text("see <https://fanvue.com|Fanvue> in <#C1|general>, <!here>, <https://x.io>") == (
        "see Fanvue in #general, @here, https://x.io"
    )
    assert mrkdwn_text("&amp;lt; stays escaped once") == "&lt; stays escaped once"
