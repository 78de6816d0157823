"""The many-creators benchmark runs end to end at a tiny size and counts right (timings are not checked)."""

from __future__ import annotations

import math

from bench import many_creators
from standins.slack_api import SlackStandin


def test_request_counts_per_kind_of_login_and_the_429_case(tmp_path):
    sandbox = many_creators.many_unread(creators=3, chats=60, latency_ms=0)
    try:
        with SlackStandin(bot_token=many_creators.BOT_TOKEN) as slack:
            counts = many_creators.request_counts(sandbox, slack, tmp_path / "counts")
            storms = many_creators.rate_limited_creator(sandbox, slack, tmp_path / "storms")
            cards = {c for c in slack.state.posted}
    finally:
        sandbox.stop()
    by = {(m.scenario, m.kind): m for m in counts}
    pages = math.ceil(60 / 50)
    steady = by["creator logins, concurrent", "steady"]
    assert (steady.logins, steady.requests) == (3, 3 * pages) and steady.target.endswith("✓")
    assert by["creator logins, one after another (baseline)", "steady"].requests == 3 * pages
    assert by["creator logins, concurrent", "cold"].requests > steady.requests
    admin = by["agency admin", "steady"]
    assert (admin.logins, admin.requests) == (1, 1) and admin.target.endswith("✓")
    member = by["agency team member (not admin)", "steady"]
    assert member.logins == 1 and member.requests >= 3 * pages  # every creator's chat rows, page by page
    # Every creator's cards went to its own channel.
    assert {channel for channel, _ in cards} == {f"C0BENCH{i:03d}" for i in range(3)}
    assert [s.approach for s in storms] == ["concurrent", "one after another (baseline)"]
    assert all(s.alone > 0 and s.with_it > 0 for s in storms)
    text = many_creators.report(counts, storms, None)
    assert "| creator logins, concurrent | steady | 3 | 6 |" in text and "others' cycle alone" in text


def test_the_quick_run_prints_its_tables(capsys):
    assert many_creators.main(["--quick", "--no-rss"]) in (0, 1)  # 1 only if a target was missed
    out = capsys.readouterr().out
    assert out.startswith("## Many creators") and "| agency admin | steady | 1 | 1 | 1 |" in out


def test_peak_rss_reads_a_real_run_process_serving_every_creator():
    sandbox = many_creators.many_unread(creators=2, chats=3, latency_ms=0)
    try:
        with SlackStandin(bot_token=many_creators.BOT_TOKEN) as slack:
            peak, took, summary = many_creators.peak_rss(sandbox, slack, timeout=120)
            channels = {channel for channel, _ in slack.state.posted}
    finally:
        sandbox.stop()
    assert peak > 10_000 and took > 0
    assert summary.startswith("6 unread chats: 6 new drafts")
    assert channels == {"C0BENCH000", "C0BENCH001"}  # the desk file gave each creator its channel
