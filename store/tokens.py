"""Stored Fanvue logins: one access/refresh token pair per account, each replaced as a whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from fanvue.tokens import TokenPair
from store.clock import from_iso, to_iso, utcnow_iso
from store.db import translated


def _first(db: sqlite_utils.Database) -> int | None:
    # Without an account named, the first one: the single login of an app serving one creator.
    row = db.execute("SELECT MIN(id) FROM fanvue_accounts").fetchone()
    return row[0] if row else None


def save(
    db: sqlite_utils.Database, pair: TokenPair, account_id: int | None = None, *, mode: str = "creator"
) -> TokenPair:
    """Replace an account's stored pair (the first account's, creating it, when none is named); call
    inside the transaction that decided to replace it. `mode` applies to a new account only."""
    updated_at, expires_at = utcnow_iso(), to_iso(pair.expires_at)
    account_id = account_id if account_id is not None else _first(db)
    values = [pair.access_token, pair.refresh_token, expires_at, pair.scope, updated_at]
    if account_id is None:
        db.execute(
            "INSERT INTO fanvue_accounts (mode, access_token, refresh_token, expires_at, scope, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [mode, *values],
        )
    else:
        db.execute(
            "UPDATE fanvue_accounts SET access_token = ?, refresh_token = ?, expires_at = ?, scope = ?, "
            "updated_at = ? WHERE id = ?",
            [*values, account_id],
        )
    return TokenPair(pair.access_token, pair.refresh_token, from_iso(expires_at), pair.scope, updated_at)


def add(db: sqlite_utils.Database, pair: TokenPair, *, mode: str) -> int:
    """Store a new login as a new account; its id. Who it is (uuid, handle) is set once read from Fanvue."""
    cursor = db.execute(
        "INSERT INTO fanvue_accounts (mode, access_token, refresh_token, expires_at, scope, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [mode, pair.access_token, pair.refresh_token, to_iso(pair.expires_at), pair.scope, utcnow_iso()],
    )
    assert cursor.lastrowid is not None  # set by the INSERT that just added the row
    return cursor.lastrowid


def load(db: sqlite_utils.Database, account_id: int | None = None) -> TokenPair | None:
    """An account's stored login (the first account's when none is named), or None when there is none
    (nobody logged in, or the login was dropped as dead)."""
    account_id = account_id if account_id is not None else _first(db)
    rows = list(db.query("SELECT * FROM fanvue_accounts WHERE id = ?", [account_id]))
    if not rows or not rows[0]["access_token"]:
        return None
    row = rows[0]
    return TokenPair(
        row["access_token"],
        row["refresh_token"],
        from_iso(row["expires_at"]),
        row["scope"],
        row["updated_at"],
    )


def forget(db: sqlite_utils.Database, pair: TokenPair, account_id: int | None = None) -> bool:
    """Drop an account's login if it is still `pair` (a newer login is kept); True when it was dropped.

    The account itself stays, without tokens, so `accounts` can say it needs a new login."""
    account_id = account_id if account_id is not None else _first(db)
    cursor = db.execute(
        "UPDATE fanvue_accounts SET access_token = '', refresh_token = NULL WHERE id = ? AND access_token = ?",
        [account_id, pair.access_token],
    )
    return cursor.rowcount == 1


def stored_at(path: str | Path) -> bool:
    """Whether the database file at `path` holds a login, without creating or migrating anything."""
    if not Path(path).is_file():
        return False
    with translated(path, opening=True):  # a damaged or unreadable file: StoreError, as when opening it
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=rw", uri=True)
        try:
            for query in (
                "SELECT 1 FROM fanvue_accounts WHERE access_token != '' LIMIT 1",
                "SELECT 1 FROM fanvue_login WHERE id = 1",  # a database not yet migrated to accounts
            ):
                try:
                    return conn.execute(query).fetchone() is not None
                except sqlite3.OperationalError:
                    continue
            return False  # an older database without either table yet: no login
        finally:
            conn.close()
