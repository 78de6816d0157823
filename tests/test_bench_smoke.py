"""Each benchmark runs end to end at a tiny size: the machinery works and counts right (timings are not checked)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from bench import audit_queries, card_latency, clicks, fanvue_requests, memory
from store import queries
from store.db import Store


def test_fanvue_requests_meets_its_request_targets_and_the_baseline_reads_every_chat(tmp_path, capsys):
    results = fanvue_requests.run([3, 60], latency_ms=0, directory=tmp_path)
    by_key = {(r.approach, r.chats, r.kind): r for r in results}
    assert len(by_key) == 8
    for chats in (3, 60):
        pages = math.ceil(chats / 50)
        cold, steady = by_key["ours", chats, "cold"], by_key["ours", chats, "steady"]
        assert cold.requests <= 2 * pages + 1 and steady.requests <= pages + 1
        assert steady.by_endpoint == {"list": pages}  # nothing new: no history is read
        assert by_key["naive", chats, "steady"].by_endpoint == {"list": pages, "history": chats}
    assert fanvue_requests.main(["--sizes", "4", "--latency-ms", "0"]) == 0
    out = capsys.readouterr().out
    assert "| unread chats | cycle | approach | requests |" in out and "| 4 | steady | naive | 5 |" in out


def test_card_latency_cards_every_message_paced_and_unpaced_and_drains_the_backlog(tmp_path, capsys):
    runs = card_latency.run([2], backlog=5, latency_ms=0, directory=tmp_path)
    assert [(r.label, len(r.latencies)) for r in runs] == [
        ("2 pace off", 2),
        ("2 pace on", 2),
        ("backlog 5", 5),
    ]
    assert all(r.cycles >= 1 and r.fanvue_requests >= 2 for r in runs)
    print(card_latency.report(runs, 0))
    assert "(backlog, 200/min budget)" in capsys.readouterr().out


def test_clicks_sends_each_card_once_through_the_app_process(tmp_path, capsys):
    bursts = clicks.run([3], latency_ms=0, directory=tmp_path, repeat=1)
    assert [b.design for b in bursts] == ["ours", "ack after the work"]
    for burst in bursts:
        assert burst.statuses == [200, 200, 200]
        assert (burst.sent_once, burst.sent_twice, burst.not_sent, burst.locked) == (3, 0, 0, 0)
        assert len(burst.to_sent) == 3 and len(burst.to_card) == 3
    print(clicks.report(bursts, 0))
    assert "| 3 | ours |" in capsys.readouterr().out


def test_audit_queries_find_the_same_rows_with_and_without_the_indexes(tmp_path):
    store = Store(tmp_path / "audit.db")
    try:
        picks = audit_queries.populate(store, 5000)
        assert store.db["audit"].count == 5000
        for name, audit_filter in audit_queries.filters(picks, datetime.now(UTC)):
            sql, args = queries.audit_sql(audit_filter)
            indexed = [row[0] for row in store.db.execute(sql, args).fetchall()]
            scanned = [
                row[0]
                for row in store.db.execute(
                    sql.replace("FROM audit", "FROM audit NOT INDEXED", 1), args
                ).fetchall()
            ]
            assert indexed == scanned, name
            assert [e.id for e in queries.audit_entries(store.db, audit_filter)] == indexed
    finally:
        store.close()
    timings, _ = audit_queries.run(3000, tmp_path / "run", repeat=2)
    assert len(timings) == len(audit_queries.filters(picks, datetime.now(UTC)))
    assert all(len(t.ours) == 2 and t.scan for t in timings)


def test_memory_reads_the_peak_of_a_real_run_process():
    usage = memory.measure(3, posts=3, timeout=60)
    assert usage.peak_kib > 10_000 and usage.after_kib <= usage.peak_kib
    assert usage.summary.startswith("3 unread chats: 3 new drafts") and "3 posted" in usage.summary
