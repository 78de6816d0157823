"""The card latency benchmark with fan context on and off runs end to end and counts right (no timings)."""

from __future__ import annotations

from bench import card_context


def test_cards_get_context_for_two_requests_and_none_without_it(tmp_path, capsys):
    off, on = card_context.run([3], latency_ms=0, directory=tmp_path)
    assert (off.context, on.context) == ("off", "on")
    assert len(off.latencies) == len(on.latencies) == 3
    assert off.context_requests == 0 and off.with_context == 0
    assert on.context_requests == 2 and on.with_context == 3  # one insights batch, one statuses read
    assert card_context.main(["--sizes", "2", "--latency-ms", "0"]) == 0
    assert "| 2 | on |" in capsys.readouterr().out
