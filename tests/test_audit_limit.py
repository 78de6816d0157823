"""`app.py audit --limit` and `/fanvue audit limit`: any number a person can type gets one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from store import filters
from store.clock import utcnow
from store.db import Store
from store.filters import FilterError
from tests.team_data import write_team_history

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audit") / "bridge.db"
    store = Store(path)
    write_team_history(store.db, utcnow())
    store.close()
    return path


def audit(db_path: Path, limit: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_PATH": str(db_path),
    }
    return subprocess.run(
        [sys.executable, "app.py", "audit", "--limit", limit, "--env-file", str(db_path.parent / "no.env")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "limit, says",
    [
        ("-5", "limit should be at least 1"),
        ("0", "limit should be at least 1"),
        (str(10**30), f"limit should be between 1 and {filters.MAX_REPORT_LIMIT}"),
        (str(filters.MAX_REPORT_LIMIT + 1), f"limit should be between 1 and {filters.MAX_REPORT_LIMIT}"),
        ("many", "invalid int value"),  # argparse's own usage error
        ("1e3", "invalid int value"),
    ],
)
def test_an_absurd_limit_is_one_clear_line_and_exit_code_2(db_path, limit, says):
    done = audit(db_path, limit)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("app.py")]
    assert len(lines) == 1 and done.stdout == ""


@pytest.mark.parametrize("limit", ["1", str(filters.MAX_REPORT_LIMIT)])
def test_limits_in_range_list_the_log(db_path, limit):
    done = audit(db_path, limit)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") >= 1


@pytest.mark.parametrize(
    "text", ["0", "-1", "101", "9" * 31, "9" * 5000, "-" + "9" * 5000, "ten", "", "1.5", "٣"]
)
def test_the_slash_command_limit_is_checked_the_same_way(text):
    with pytest.raises(FilterError, match="limit"):
        filters.from_words(["limit", text] if text else ["limit"], utcnow())
    assert filters.from_words(["limit", "100"], utcnow()).limit == 100
