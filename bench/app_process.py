"""The app's HTTP side in a process of its own, as in production: `app.py run`, or a baseline server module."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from bench.rig import BOT_TOKEN, CHANNEL

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"


class AppProcess:
    """`design` "ours" runs `app.py run`; anything else runs `python -m baseline` with the same settings."""

    def __init__(self, design: str, sandbox, slack, db_path: Path, *, baseline: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        self.db_path = db_path
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_CHANNEL_ID": CHANNEL,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "FANVUE_API_BASE": sandbox.url,
            "FANVUE_ACCESS_TOKEN": sandbox.token,
            "DATABASE_PATH": str(db_path),
            "PORT": str(self.port),
            "POLL_INTERVAL_SECONDS": "3600",
            "LOG_LEVEL": "WARNING",
        }
        command = (
            ["app.py", "run", "--env-file", "/nonexistent.env"] if design == "ours" else ["-m", baseline]
        )
        self.proc = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not self._healthy():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"the app did not start: {self.stop()}")
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple]:
        """What the app's database says now, read without taking part in its writes."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as conn:
            return conn.execute(sql, params).fetchall()

    def stop(self) -> str:
        """Its stderr, once it has stopped."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err or ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
