"""The nudges benchmark at a small size: one list per pass and no 429, where one reply per card is throttled."""

from __future__ import annotations

from bench import nudges


def test_many_overdue_cards_cost_one_message_and_no_429(tmp_path, capsys):
    ours_sla, ours_twice, naive = nudges.run(12, tmp_path)
    for ours in (ours_sla, ours_twice):
        assert (ours.cards, ours.messages, ours.rate_limited) == (12, 1, 0)
        assert ours.permalinks == 12  # each card linked in the list
    assert ours_sla.updates == 12 and ours_twice.updates == 0  # each card shown overdue, once
    assert naive.messages + naive.rate_limited == 12 and naive.rate_limited > 0
    print(nudges.report([ours_sla, ours_twice, naive]))
    assert "| ours, at twice the SLA | 12 | 1 | 0 |" in capsys.readouterr().out
