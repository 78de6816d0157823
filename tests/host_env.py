"""Running `app.py` as a process the way an operator's own (non-root) user would, against the stand-ins."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET = "host-signing-secret"


def env(sandbox, slack, db_path: Path, **extra: str) -> dict[str, str]:
    values = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_CHANNEL_ID": "C0HOST",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "FANVUE_API_BASE": sandbox.url,
        "FANVUE_ACCESS_TOKEN": sandbox.token,
        "DATABASE_PATH": str(db_path),
        "LOG_LEVEL": "WARNING",
    }
    values.update(extra)
    return values


def as_operator() -> list[str]:
    """The command prefix that makes file permissions hold. Root passes them by its capabilities
    (CAP_DAC_OVERRIDE): without those, root is refused a read-only file like any other owner."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: read-only files cannot be made to hold")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


def app_command(*args: str, env_file: Path) -> list[str]:
    return [*as_operator(), sys.executable, "app.py", *args, "--env-file", str(env_file)]


def run_app(
    *args: str, env: dict[str, str], env_file: Path, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        app_command(*args, env_file=env_file),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_app(*args: str, env: dict[str, str], env_file: Path) -> subprocess.Popen:
    return subprocess.Popen(
        app_command(*args, env_file=env_file),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
