"""The application runs from the repository root: its packages, not installed look-alikes, are imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_slack_is_our_package_not_slack_sdks_legacy_one():
    import slack

    assert Path(slack.__file__).resolve().parent == ROOT / "slack"


def test_import_slack_from_the_repository_root_in_a_fresh_interpreter():
    done = subprocess.run([sys.executable, "-c", "import slack, fanvue, store, inbox; print(slack.__file__)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve().parent == ROOT / "slack"


def test_runtime_requirements_are_pinned():
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines and all("==" in line for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"slack-bolt", "slack-sdk", "requests", "apscheduler", "sqlite-utils"} <= names
