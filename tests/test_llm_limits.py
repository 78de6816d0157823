"""An LLM endpoint that answers slowly byte by byte, or far too much, cannot hold or flood a draft: the
timeout bounds the whole draft and the answer is cut while it is read."""

from __future__ import annotations

import pytest

from drafting.llm import MAX_ANSWER_BYTES
from drafting.template import TemplateDrafter
from standins.llm import LlmStandin, Reply
from tests.test_llm_drafter import CHAT, PERSONA, drafter_for

# On code that reads without these limits a trickle takes its full time: stop it rather than wait.
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def llm():
    with LlmStandin() as standin:
        yield standin


def finished(standin: LlmStandin):
    (delivery,) = standin.deliveries
    assert delivery.finished.wait(30), "the stand-in is still sending"
    return delivery


def test_an_answer_trickled_byte_by_byte_falls_back_within_the_timeout(llm):
    # Each byte comes long before requests' per-read timeout; the whole body would take over 5 s.
    llm.script(Reply(text="slow but steady " * 10, kind="trickle", interval=0.02))
    drafted = drafter_for(llm, timeout=1.0).draft(CHAT)
    assert drafted.drafted_by == "template" and drafted.text == TemplateDrafter(PERSONA).draft(CHAT).text
    assert "no answer within 1 s" in drafted.fallback_reason
    delivery = finished(llm)
    assert delivery.closed_early and delivery.served < delivery.total
    assert len(llm.requests) == 1  # the deadline is spent: no second try


def test_a_trickle_that_ends_within_the_timeout_is_a_draft(llm):
    llm.script(Reply(text="worth the wait", kind="trickle", interval=0.001))
    drafted = drafter_for(llm, timeout=20.0).draft(CHAT)
    assert drafted.drafted_by == "openai" and drafted.text == "worth the wait"
    delivery = finished(llm)
    assert delivery.served == delivery.total and not delivery.closed_early


def test_a_huge_answer_is_cut_while_it_is_read(llm):
    llm.script(Reply(kind="huge", size=32 * 1024 * 1024))
    drafted = drafter_for(llm, timeout=20.0).draft(CHAT)
    assert drafted.drafted_by == "template"
    assert f"larger than {MAX_ANSWER_BYTES // 1024} KiB" in drafted.fallback_reason
    delivery = finished(llm)
    # The client hung up: what went out is what it read plus what the sockets buffered, far from all.
    assert delivery.closed_early and delivery.served < delivery.total // 2


def test_a_huge_answer_announced_by_its_length_is_not_read_at_all(llm):
    llm.script(Reply(kind="huge", size=32 * 1024 * 1024, declare_size=True))
    drafted = drafter_for(llm, timeout=20.0).draft(CHAT)
    assert f"larger than {MAX_ANSWER_BYTES // 1024} KiB" in drafted.fallback_reason
    delivery = finished(llm)
    assert delivery.closed_early and delivery.served < delivery.total // 2


def test_a_large_but_allowed_answer_is_read_whole(llm):
    text = "ok " * 1000
    llm.script(Reply(text=text))
    drafted = drafter_for(llm, max_chars=3000).draft(CHAT)
    assert drafted.drafted_by == "openai" and drafted.text == text.strip()


def test_retries_stop_at_the_deadline(llm):
    # 500s that each take 0.4 s: within a 1 s timeout there is room for three tries, not five.
    llm.script(*[Reply(kind="error", status=500, delay=0.4)] * 5)
    drafted = drafter_for(llm, timeout=1.0, retries=4).draft(CHAT)
    assert drafted.drafted_by == "template"
    assert len(llm.requests) <= 3


def test_headers_trickled_byte_by_byte_fall_back_within_the_timeout(llm):
    # Over 2000 bytes of headers at 50 a second: reading them all would take 40 s.
    llm.script(Reply(text="slow from the first byte", kind="trickle", interval=0.02, trickle_headers=True))
    drafted = drafter_for(llm, timeout=1.0).draft(CHAT)
    assert drafted.drafted_by == "template" and "no answer within 1 s" in drafted.fallback_reason
    delivery = finished(llm)
    assert delivery.closed_early and delivery.served < delivery.head  # cut while the headers came
