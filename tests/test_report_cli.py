"""`app.py audit` and `app.py stats` as processes and in-process, needing nothing but the database."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import app
from store import audit
from store.clock import utcnow
from store.db import Store, write
from tests import team_data
from tests.team_data import write_team_history

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "bridge.db"
    store = Store(path)
    write_team_history(store.db, utcnow())
    store.close()
    return path


def cli(db_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The app as a teammate runs it: from the repository root, with only DATABASE_PATH set."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_PATH": str(db_path),
    }
    return subprocess.run(
        [sys.executable, "app.py", *args, "--env-file", str(db_path.parent / "no.env")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_audit_table(db_path):
    done = cli(db_path, "audit", "--action", "edited")
    assert done.returncode == 0, done.stderr
    header, rule, *rows = done.stdout.splitlines()
    assert header.split() == ["at", "actor", "action", "fan_handle", "fan_uuid", "draft_id", "text"]
    assert set(rule) == {"-", " "}
    assert [row.split()[3] for row in rows] == ["jon", "dan", "ivy"]
    assert "Reply to Jon by U0CAROL" in rows[0]


def test_audit_json_with_filters_combined(db_path):
    done = cli(
        db_path, "audit", "--user", "U0BOB", "--action", "skipped", "--since", "24h", "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert sorted(e["fan_handle"] for e in found) == ["max", "ned"]
    assert {(e["actor"], e["action"]) for e in found} == {("U0BOB", "skipped")}
    assert found[0]["at"] >= found[1]["at"] and isinstance(found[0]["draft_id"], int)


def test_audit_csv_by_fan_with_a_limit(db_path):
    done = cli(db_path, "audit", "--fan", "amy", "--format", "csv", "--limit", "1")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 1 and rows[0]["fan_handle"] == "amy" and rows[0]["action"] == "drafted"
    store = Store(db_path)
    with write(store.db):
        for i in range(120):
            audit.record(store.db, action="posted", actor="scheduler", fan_handle=f"fan{i}", details={})
    total = store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    store.close()
    everything = list(
        csv.DictReader(io.StringIO(cli(db_path, "audit", "--format", "csv", "--limit", "500").stdout))
    )
    assert len(everything) == total > 100  # no Slack message to fit here, so no cap at 100


def test_stats_in_each_format(db_path):
    table = cli(db_path, "stats")
    assert table.returncode == 0, table.stderr
    first, header, _rule, *rows = table.stdout.splitlines()
    sla_at = next(i for i, row in enumerate(rows) if row.split()[:1] == ["sla"])
    rows, sla_rows = rows[:sla_at], [row.split() for row in rows[sla_at + 2 :]]
    # Every reply of this history was sent within the default 15 min SLA of the fan's wait.
    assert ["teammate", "U0ALICE", "4", "4", "100%"] in sla_rows
    assert first.endswith("10 replies; fan's wait for a reply: median 330 s, 90th percentile 540 s")
    assert header.split() == [
        "actor",
        "sent",
        "edited",
        "skipped",
        "median_to_take_s",
        "median_take_to_decision_s",
    ]
    assert [row.split() for row in rows] == [  # nobody took a card in this history: no take medians
        ["U0ALICE", "3", "1", "1", "-", "-"],
        ["U0BOB", "3", "0", "2", "-", "-"],
        ["U0CAROL", "1", "2", "0", "-", "-"],
    ]
    month = json.loads(cli(db_path, "stats", "--since", "30d", "--format", "json").stdout)
    assert (month["replies"], month["median_reply_seconds"], month["p90_reply_seconds"]) == (
        11,
        team_data.MEDIAN_30D,
        team_data.P90_30D,
    )
    assert month["teammates"][0] == {
        "actor": "U0ALICE",
        "sent": 4,
        "edited": 1,
        "skipped": 1,
        "median_to_take_s": None,
        "median_take_to_decision_s": None,
    }
    rows = list(csv.DictReader(io.StringIO(cli(db_path, "stats", "--format", "csv").stdout)))
    assert rows[2] == {
        "actor": "U0CAROL",
        "sent": "1",
        "edited": "2",
        "skipped": "0",
        "median_to_take_s": "",
        "median_take_to_decision_s": "",
        "sla_on_time": "2",
        "sla_replies": "3",
    }


def test_bad_options_say_what_is_wrong(db_path):
    for args, problem in [
        (["audit", "--since", "yesterday"], "'yesterday' is not a period"),
        (["audit", "--user", "@alice"], "needs to be a mention"),
        (["audit", "--action", "deleted"], "'deleted' is not an action"),
        (["stats", "--since", "2026-13-01"], "is not a date"),
    ]:
        done = cli(db_path, *args)
        assert done.returncode == 2 and problem in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_missing_database_is_named_and_not_created(tmp_path):
    missing = tmp_path / "elsewhere" / "bridge.db"
    done = cli(missing, "audit")
    assert done.returncode == 2 and f"No database at {missing}" in done.stderr
    assert not missing.parent.exists()


def test_in_process_without_slack_or_fanvue_settings(db_path, tmp_path, monkeypatch, capsys):
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_CHANNEL_ID",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "FANVUE_ACCESS_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    none = str(tmp_path / "no.env")
    assert app.main(["audit", "--fan", "jon", "--format", "json", "--env-file", none]) == 0
    assert [e["action"] for e in json.loads(capsys.readouterr().out)] == ["drafted", "edited-and-sent"]
    assert app.main(["--env-file", none, "stats", "--since", "7d", "--format", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["median_reply_seconds"], stats["p90_reply_seconds"]) == (
        team_data.MEDIAN_7D,
        team_data.P90_7D,
    )
    assert app.main(["audit", "--limit", "0", "--env-file", none]) == 2
    assert "limit should be at least 1" in capsys.readouterr().err
    # The commands that talk to Slack and Fanvue still insist on their settings.
    assert app.main(["once", "--env-file", none]) == 2
    assert "SLACK_BOT_TOKEN is missing" in capsys.readouterr().err


def test_the_database_path_comes_from_the_env_file_too(db_path, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_PATH", raising=False)
    env_file = tmp_path / "reports.env"
    env_file.write_text(f"DATABASE_PATH={db_path}\n")
    assert app.main(["stats", "--format", "csv", "--env-file", str(env_file)]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("actor,sent,edited,skipped,")


def test_every_command_and_option_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    [commands] = [a for a in app.parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert {"run", "once", "demo", "audit", "stats"} <= set(commands.choices)
    for name, sub in commands.choices.items():
        assert f"app.py {name}" in readme, f"README.md does not show `app.py {name}`"
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag not in ("--help", "--env-file"):
                    assert flag in readme, f"README.md does not mention {flag} of `app.py {name}`"
    assert "--env-file" in readme and "datasette data/bridge.db" in readme


HOSTILE_TEXT = "\x1b[2J\x1b]0;pwned\x07 hi\rFAKE ROW\n2026 U0BOSS sent \u202eevil\x9b31m"


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_fan_data_never_reaches_the_terminal_as_control_characters(db_path, fmt):
    store = Store(db_path)
    with write(store.db):
        audit.record(
            store.db,
            action="sent",
            actor="U0ALICE",
            fan_handle='=HYPERLINK("http://evil")\x07',
            details={"text": HOSTILE_TEXT},
        )
    store.close()
    done = cli(db_path, "audit", "--action", "sent", "--limit", "1", "--format", fmt)
    assert done.returncode == 0, done.stderr
    for raw in ("\x1b", "\x07", "\r", "\u202e", "\x9b"):
        assert raw not in done.stdout
    if fmt == "table":
        assert len(done.stdout.splitlines()) == 3  # header, rule, one row: no forged row
        assert "\\x1b[2J" in done.stdout
    if fmt == "csv":
        [row] = list(csv.DictReader(io.StringIO(done.stdout)))
        assert row["fan_handle"] == '\'=HYPERLINK("http://evil")\\x07'  # shown, never run as a formula
        assert row["text"].startswith("\\x1b[2J") and "\n" not in row["text"]
    if fmt == "json":
        [entry] = json.loads(done.stdout)
        assert entry["text"] == HOSTILE_TEXT  # the same data, only written with escapes
