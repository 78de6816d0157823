"""Block Kit for the /fanvue command's answers: pure functions from query results to Slack messages."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from fanvue.models import UnreadCounts
from safe_text import cut, mention, mrkdwn, one_line, slack_name
from slack.layout import pack, section
from slack.limits import MESSAGE_BLOCKS_JSON_MAX
from store.clock import from_iso
from store.earnings import OUTSIDE, CreditRow, RevenueCredit, is_empty
from store.filters import DEFAULT_STATS_PERIOD, MAX_LIMIT, SCHEDULER
from store.queries import AuditEntry, Backlog, TeammateStats, TeamStats
from store.sla import HitRate

# A permalink as Slack gives it: nothing in it may close the `<url|label>` link or start another.
_LINK = re.compile(r"https://[^\s<>|]{1,300}")

MESSAGE_BUDGET = MESSAGE_BLOCKS_JSON_MAX - 1000  # list lines in one answer; the rest for its head
AUDIT_TEXT_MAX = 80
NAME_MAX = 40  # a fan's name or handle in a list line
PROBLEM_MAX = 300

USAGE = (
    "*/fanvue* — the inbox at a glance (same as `/fanvue unread`): Fanvue's unread counts, the cards "
    "waiting for a decision and the oldest of them.\n"
    "*/fanvue audit* `[@teammate] [fan-handle] [action] [period] [limit N]` — the audit log, newest first, "
    "filters in any order. Actions: `sent` (as drafted), `edited` (edited and sent), `skipped`, `failed`, "
    "`superseded` (answered in Fanvue), `denied`, `drafted`, `posted`, `updated`. Periods: `30m`, `24h`, "
    f"`7d`, `2w` or a date like `2026-11-01` (since then). `limit` is 20 unless given, at most {MAX_LIMIT}.\n"
    f"*/fanvue stats* `[period]` — sent, edited and skipped per teammate and how long fans waited for a "
    f"reply (median and 90th percentile); the last {DEFAULT_STATS_PERIOD} unless given.\n"
    "*/fanvue mine* — the cards you have taken.\n"
    "*/fanvue next* — take the most urgent card nobody has, and get its link.\n"
    "*/fanvue note* `FAN-HANDLE TEXT` — keep a note about a fan for the team (likes, boundaries, promises); "
    "without TEXT a box opens. *`/fanvue notes`* `FAN-HANDLE` lists them with ids; *`/fanvue note remove`* `ID` "
    "removes one (its author or an approver).\n"
    "*/fanvue help* — this message.\n"
    "Serving several creators, add `creator:HANDLE` to any of them for one creator's cards (in a creator's "
    "own channel they are that creator's unless another is named)."
)


def _webhook_line(health: dict | None, now: datetime) -> list[dict[str, Any]]:
    if health is None:
        return []
    last = health.get("last_received_at")
    when = f"the last arrived {duration((now - from_iso(last)).total_seconds())} ago" if last else "none yet"
    refused = health.get("refused", 0)
    warn = "⚠️ " if refused else ""
    return [
        section(
            f"{warn}*Webhooks*: {when}; {_plural(refused, 'delivery', 'deliveries')} refused since the start."
        )
    ]


def usage(problem: str | None = None) -> dict[str, Any]:
    """How to use the command, after what was wrong with the last try when there was something."""
    said = mrkdwn(one_line(cut(problem, PROBLEM_MAX))) if problem else None
    blocks = [section(f"⚠️ {said}")] if said else []
    blocks.append(section(USAGE))
    return {"text": f"/fanvue: {said}" if said else "How to use /fanvue", "blocks": blocks}


def unread(
    counts: UnreadCounts | None,
    fanvue_problem: str | None,
    backlog: Backlog,
    links: dict[int, str],
    now: datetime,
    *,
    webhooks: dict | None = None,
    overdue: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Fanvue's unread counts (or why they are missing) and the cards waiting longest, linked; with
    `webhooks` (the intake's health), when the last webhook arrived and how many were refused; with
    `overdue` (cards past their SLA, and past twice it), that first."""
    if counts is not None:
        fanvue = (
            f"*Fanvue*: {_plural(counts.chats, 'unread chat')}, {_plural(counts.messages, 'unread message')}."
        )
    else:
        fanvue = (
            f"⚠️ *Fanvue is unreachable* right now ({mrkdwn(one_line(cut(fanvue_problem or 'no answer', PROBLEM_MAX)))}); "
            "the cards below are from this app's own records."
        )
    if backlog.pending and backlog.longest_waiting_since is not None:
        waited = duration((now - from_iso(backlog.longest_waiting_since)).total_seconds())
        cards = (
            f"*{_plural(backlog.pending, 'card')}* waiting for a decision; the longest has waited {waited}."
        )
    else:
        cards = "No cards are waiting for a decision."
    lines = [_waiting_line(card, links.get(card.draft_id), now) for card in backlog.oldest]
    if backlog.pending > len(backlog.oldest):
        lines.append(f"…and {backlog.pending - len(backlog.oldest)} more.")
    blocks = [section(fanvue), section(cards), *_sections(lines), *_webhook_line(webhooks, now)]
    fallback = f"{fanvue} {cards}" if counts is not None else f"Fanvue is unreachable. {cards}"
    if overdue is not None:
        late = overdue_line(*overdue)
        blocks, fallback = [section(late), *blocks], f"{late} {fallback}"
    return {"text": _plain(fallback), "blocks": blocks}


def overdue_line(overdue: int, twice: int) -> str:
    """The first line of /fanvue: how many cards are past their SLA."""
    if not overdue:
        return "🟢 *No card is overdue.*"
    louder = f" ({twice} past twice the SLA)" if twice else ""
    return f"🔴 *{_plural(overdue, 'card')} overdue*{louder}: the oldest are listed below."


def audit_list(entries: list[AuditEntry], described: str) -> dict[str, Any]:
    """Audit entries as lines, newest first; the filter is repeated so the reader knows what was asked."""
    if not entries:
        text = f"No audit entries match ({mrkdwn(one_line(described))})."
        return {"text": text, "blocks": [section(text)]}
    head = f"*Audit log* ({mrkdwn(one_line(described))}): {_plural(len(entries), 'entry', 'entries')}, newest first."
    lines: list[str] = []
    used = 0
    for entry in entries:
        line = _audit_line(entry)
        size = len(json.dumps(line, ensure_ascii=False))  # as Slack receives it: `"` and `\\` count twice
        if used + size > MESSAGE_BUDGET:
            lines.append(
                f"…{len(entries) - len(lines)} more not shown here; `python app.py audit` lists them all."
            )
            break
        lines.append(line)
        used += size
    return {"text": _plain(head), "blocks": [section(head), *_sections(lines)]}


def stats(team: TeamStats, period: str, credit: RevenueCredit | None = None) -> dict[str, Any]:
    """Per teammate decisions and the team's reply times over `period`; with `credit`, the revenue of the
    paid messages sent."""
    period = mrkdwn(one_line(cut(period, PROBLEM_MAX)))
    head = f"*The last {period}* (since {_when(team.since)})"
    if team.replies:
        waits = (
            f"{_plural(team.replies, 'reply', 'replies')} sent; a fan waited "
            f"{duration(team.median_reply_seconds)} for a reply (median), "
            f"{duration(team.p90_reply_seconds)} at the 90th percentile."
        )
    else:
        waits = "No replies were sent in this period."
    lines = [
        f"• {_who(t.actor)}: {t.sent} sent, {t.edited} edited and sent, {t.skipped} skipped{_take_times(t)}"
        f"{sla_rate(team.sla_teammates.get(t.actor))}"
        for t in team.teammates
    ]
    lines += [
        f"• creator @{slack_name(c.actor, NAME_MAX)}: {c.sent} sent, {c.edited} edited and sent, "
        f"{c.skipped} skipped{sla_rate(team.sla_creators.get(c.actor))}"
        for c in team.creators
    ]
    blocks = [section(f"{head}\n{waits}"), *_sections(lines or ["No decisions in this period."])]
    if credit is not None and not is_empty(credit):
        blocks += _sections(revenue_lines(credit))
    return {"text": _plain(f"The last {period}: {waits}"), "blocks": blocks}


def sla_rate(rate: HitRate | None) -> str:
    """`; 8 of 10 replies within the SLA (80%)`, or nothing without replies."""
    if rate is None or not rate.replies:
        return ""
    return f"; {rate.on_time} of {_plural(rate.replies, 'reply', 'replies')} within the SLA ({rate.percent:.0f}%)"


def _take_times(t: TeammateStats) -> str:
    """Medians of how soon the teammate took a posted card, and decided after taking it (when known)."""
    parts = []
    if t.median_to_take_seconds is not None:
        parts.append(f"took cards {duration(t.median_to_take_seconds)} after they were posted")
    if t.median_take_to_decision_seconds is not None:
        parts.append(f"decided {duration(t.median_take_to_decision_seconds)} after taking")
    return f"; {' and '.join(parts)} (medians)" if parts else ""


def _waiting_line(card, link: str | None, now: datetime) -> str:
    waited = duration((now - from_iso(card.waiting_since)).total_seconds())
    where = f"<{link}|open card>" if link and _LINK.fullmatch(link) else "_card not posted yet_"
    name, handle = slack_name(card.fan_name, NAME_MAX), slack_name(card.fan_handle, NAME_MAX)
    return f"• *{name}* (@{handle}) · waiting {waited} · {where}"


def _audit_line(entry: AuditEntry) -> str:
    fan = f"@{slack_name(entry.fan_handle, NAME_MAX)}" if entry.fan_handle else "—"
    text = f" · “{slack_name(' '.join(entry.text.split()), AUDIT_TEXT_MAX)}”" if entry.text else ""
    return f"• {_when(entry.at)} · {_who(entry.actor)} · {fan} · *{slack_name(entry.action)}*{text}"


def _who(actor: str) -> str:
    if actor == SCHEDULER:
        return "the app"
    return mention(actor)


def _when(iso: str) -> str:
    """Date and time in each reader's own time zone, with a UTC fallback."""
    moment = from_iso(iso)
    return f"<!date^{int(moment.timestamp())}^{{date_short}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def duration(seconds: float | None) -> str:
    """A wait as people say it: `42 s`, `4 min 10 s`, `2 h 5 min`, `3 days 4 h`."""
    total = max(0, int(round(seconds or 0)))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    """Lines packed into as few sections as fit Slack's 3000 characters each."""
    return [section(chunk) for chunk in pack(lines)] if lines else []


def _plain(text: str) -> str:
    return text.replace("*", "")


def revenue_lines(credit: RevenueCredit) -> list[str]:
    """The revenue credit, said plainly to come from Fanvue's earnings matched by message."""
    lines = [
        "*Paid messages* — from Fanvue's earnings, matched by message to the teammate who approved the "
        "send; refunds and chargebacks count against it."
    ]
    lines += [f"• {_who(r.name)}: {_credit(r)}" for r in credit.teammates]
    lines += [f"• creator @{slack_name(r.name, NAME_MAX)}: {_credit(r)}" for r in credit.creators]
    lines.append(
        f"• {OUTSIDE}: {_plural(credit.outside_lines, 'earnings line')}, {_money(credit.outside_gross_cents)} "
        f"gross, {_money(credit.outside_net_cents)} net"
    )
    return lines


def _credit(row: CreditRow) -> str:
    conversion = "" if row.conversion is None else f" ({row.conversion:.0%})"
    return (
        f"{row.paid_sent} paid sent, {row.bought} bought{conversion}, {_money(row.gross_cents)} gross, "
        f"{_money(row.net_cents)} net, {row.not_bought_48h} not bought within 48 h"
    )


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"
