"""Opening the SQLite database: WAL, a busy timeout, migrations and one connection per thread."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from store.migrations import migrations

logger = logging.getLogger(__name__)

# Longer than any single write transaction can take, a token renewal included (its HTTP call is capped).
BUSY_TIMEOUT_MS = 30_000


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open one connection with the settings every connection of this app uses."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    db = sqlite_utils.Database(conn, execute_plugins=False)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def migrate(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date; safe to call at every start."""
    if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        db.enable_wal()
    migrations.apply(db)


@contextlib.contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the lock up front, so concurrent writers queue instead of failing."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


class Store:
    """The database file, handing each thread its own connection (sqlite3 connections are not shared)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite_utils.Database] = []
        migrate(self.db)

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()
        self._local = threading.local()
