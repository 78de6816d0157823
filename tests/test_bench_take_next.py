"""The Take next benchmark at a tiny size: every card is taken once, by one teammate (timings not checked)."""

from __future__ import annotations

from bench import take_next


def test_take_next_bench_gives_every_card_to_exactly_one_teammate(tmp_path, capsys):
    results = take_next.run(3, 5, latency_ms=0, directory=tmp_path)
    assert [r.design for r in results] == list(take_next.DESIGNS)
    for r in results:
        assert (r.taken_once, r.taken_twice, r.not_taken, r.same_card_twice) == (5, 0, 0, 0)
        assert r.rounds == 2 and sum(r.statuses.values()) == len(r.acks) == 6
        assert set(r.statuses) == {200}
    print(take_next.report(results, 0))
    assert "| 3 × 5 | ours | 2 |" in capsys.readouterr().out
