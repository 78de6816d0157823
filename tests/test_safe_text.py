"""safe_text: fan-controlled text shown, never acted on, in Slack and in a terminal or a log."""

from __future__ import annotations

import io
import logging

import pytest

import safe_text
from drafting.persona import SIGN_OFF_MAX, PersonaError, parse_persona
from fanvue.message_text import MAX_TEXT as MAX_TEXT_LENGTH

ATTACK = "\x1b[31mred\x1b[0m\x07\r2026-01-01 INFO app: fake line\n\u202eevil\x9b2J"


def test_names_are_one_escaped_line_cut_before_escaping():
    assert safe_text.slack_name("Amy\n*You:* <!channel>\u2028& co") == "Amy *You:* &lt;!channel&gt; &amp; co"
    assert safe_text.slack_name("<" * 100, 10) == "&lt;" * 9 + "…"


def test_visible_marks_what_a_reader_could_not_see_and_keeps_line_breaks():
    assert safe_text.visible("a\r\nb\tc\x07\u202e\u2028") == "a\nb\tc⟨U+0007⟩⟨U+202E⟩⟨U+2028⟩"


@pytest.mark.parametrize(
    "message, shown",
    [
        ("Already sent by <@U0ALICE>.", "Already sent by <@U0ALICE>."),
        ("<!channel> wrote again", "&lt;!channel&gt; wrote again"),
        ("Mia <http://evil|bank.com> & co", "Mia &lt;http://evil|bank.com&gt; &amp; co"),
        ("at <!date^1700000000^{time}|10:00 UTC>", "at <!date^1700000000^{time}|10:00 UTC>"),
        ("already &lt;b&gt; &amp; escaped", "already &lt;b&gt; &amp; escaped"),
        (
            "<!subteam^S1> <@U0ALICE|alice> <#C1|x>",
            "&lt;!subteam^S1&gt; &lt;@U0ALICE|alice&gt; &lt;#C1|x&gt;",
        ),
        ("\x00 0\x00 <@U0ALICE>", "  0  <@U0ALICE>"),
    ],
)
def test_a_finished_message_keeps_only_the_apps_own_tokens(message, shown):
    assert safe_text.neutralised(message) == shown


def test_mentions_only_for_user_ids():
    assert safe_text.mention("U0ALICE") == "<@U0ALICE>"
    assert safe_text.mention("!channel") == "!channel"
    assert safe_text.mention("U1>\n<!here") == "U1&gt; &lt;!here"


def test_terminal_text_has_no_control_character_left():
    shown = safe_text.terminal(ATTACK)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in shown)
    assert "\u202e" not in shown and "\\x1b[31m" in shown and "\\r" in shown and "\\n" in shown


@pytest.mark.parametrize(
    "cell, written",
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), (7, 7), ("ok", "ok")],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_shown_instead(cell, written):
    assert safe_text.csv_cell(cell) == written


def test_the_log_formatter_writes_each_record_as_one_visible_line():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(safe_text.SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("tests.safe_text")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("Could not tell %s: %s", "U0ALICE", ATTACK)
        try:
            raise ValueError(ATTACK)
        except ValueError:
            logger.exception("draft %s failed", 7)
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    for raw in ("\x1b", "\x07", "\r", "\u202e", "\x9b"):
        assert raw not in written
    first, second, *trace = written.splitlines()
    assert first.startswith("WARNING tests.safe_text: Could not tell U0ALICE: \\x1b[31mred")
    assert "fake line\\n" in first  # the fan's line break cannot start a record of its own
    assert second == "ERROR tests.safe_text: draft 7 failed"
    assert trace[0] == "Traceback (most recent call last):"  # the traceback keeps its own lines


def test_a_sign_off_that_leaves_no_room_for_a_reply_is_refused_with_the_reason():
    assert SIGN_OFF_MAX < MAX_TEXT_LENGTH
    parse_persona(f"name: Mia\nsign_off: {'x' * SIGN_OFF_MAX}")
    with pytest.raises(PersonaError) as refused:
        parse_persona(f"name: Mia\nsign_off: {'x' * (MAX_TEXT_LENGTH + 1)}")
    assert "line 2: sign_off is 5001 characters" in str(refused.value)
    assert f"Fanvue takes at most {MAX_TEXT_LENGTH}" in str(refused.value)
