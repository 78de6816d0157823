"""The webhook benchmark runs end to end at a tiny size: every chat gets its card and the counts add up
(timings are not checked)."""

from __future__ import annotations

from bench import webhooks


def test_webhook_benchmark_cards_every_chat_with_one_read_per_message_and_the_cycle_catches_drops(
    tmp_path, capsys
):
    spread = webhooks.spread(4, 0.5, tmp_path / "spread")
    assert spread.carded == spread.chats == 4 and len(spread.latencies) == 4
    assert spread.fanvue_requests == 4  # one read of that chat per message, nothing else
    burst = webhooks.bursts(2, 3, 1.0, tmp_path / "bursts", burst=2.0)
    assert burst.carded == 2 and burst.messages == 6 and all(1 <= n <= 2 for n in burst.drafts_per_chat)
    polled = webhooks.polling(4, 0.5, tmp_path / "polling")
    assert polled.carded == 4 and all(latency >= 0 for latency in polled.latencies)
    dropped = webhooks.spread(5, 0.5, tmp_path / "dropped", drop_share=0.4)
    assert dropped.carded == dropped.chats == 5 and "2 events dropped; 1 cycle(s)" in dropped.note
    assert "counting 2 as not announced" in dropped.note
    print(webhooks.report([spread, burst, polled, dropped]))
    assert "| run | messages | chats carded |" in capsys.readouterr().out
