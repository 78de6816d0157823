"""The creator's Fanvue login: one access/refresh token pair, replaced as a whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from fanvue.tokens import TokenPair
from store.clock import from_iso, to_iso, utcnow_iso
from store.db import translated


def save(db: sqlite_utils.Database, pair: TokenPair) -> TokenPair:
    """Replace the stored login with `pair`; call inside the transaction that decided to replace it."""
    updated_at, expires_at = utcnow_iso(), to_iso(pair.expires_at)
    db.execute(
        "INSERT INTO fanvue_login (id, access_token, refresh_token, expires_at, scope, updated_at) "
        "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET access_token = excluded.access_token, "
        "refresh_token = excluded.refresh_token, expires_at = excluded.expires_at, scope = excluded.scope, "
        "updated_at = excluded.updated_at",
        [pair.access_token, pair.refresh_token, expires_at, pair.scope, updated_at],
    )
    return TokenPair(pair.access_token, pair.refresh_token, from_iso(expires_at), pair.scope, updated_at)


def load(db: sqlite_utils.Database) -> TokenPair | None:
    """The stored login, or None when nobody has logged in (or the login was dropped as dead)."""
    rows = list(db.query("SELECT * FROM fanvue_login WHERE id = 1"))
    if not rows:
        return None
    row = rows[0]
    return TokenPair(
        row["access_token"],
        row["refresh_token"],
        from_iso(row["expires_at"]),
        row["scope"],
        row["updated_at"],
    )


def forget(db: sqlite_utils.Database, pair: TokenPair) -> bool:
    """Drop the stored login if it is still `pair` (a newer login is kept); True when it was dropped."""
    cursor = db.execute("DELETE FROM fanvue_login WHERE id = 1 AND access_token = ?", [pair.access_token])
    return cursor.rowcount == 1


def stored_at(path: str | Path) -> bool:
    """Whether the database file at `path` holds a login, without creating or migrating anything."""
    if not Path(path).is_file():
        return False
    with translated(path, opening=True):  # a damaged or unreadable file: StoreError, as when opening it
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=rw", uri=True)
        try:
            return conn.execute("SELECT 1 FROM fanvue_login WHERE id = 1").fetchone() is not None
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            return False  # an older database without the table yet: no login
        finally:
            conn.close()
