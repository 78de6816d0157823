"""Fanvue accounts the app holds a login for: creators' own logins and agency members' logins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from store.db import write

CREATOR, AGENCY = "creator", "agency"


@dataclass(frozen=True)
class Account:
    """One stored login; `user_uuid` and `handle` are the Fanvue user it belongs to, once read."""

    id: int
    mode: str
    user_uuid: str | None
    handle: str | None
    display_name: str | None
    scope: str
    logged_in: bool  # False once Fanvue refused its refresh token: it needs a new login
    watermark: str | None  # agency admins: the newest chat activity a cycle has seen

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Account:
        return cls(
            id=row["id"],
            mode=row["mode"],
            user_uuid=row["user_uuid"],
            handle=row["handle"],
            display_name=row["display_name"],
            scope=row["scope"],
            logged_in=bool(row["access_token"]),
            watermark=row["watermark"],
        )

    @property
    def label(self) -> str:
        return f"@{self.handle}" if self.handle else f"account {self.id} (not read from Fanvue yet)"


def all_accounts(db: sqlite_utils.Database) -> list[Account]:
    return [Account.from_row(row) for row in db.query("SELECT * FROM fanvue_accounts ORDER BY id")]


def get(db: sqlite_utils.Database, account_id: int) -> Account | None:
    rows = list(db.query("SELECT * FROM fanvue_accounts WHERE id = ?", [account_id]))
    return Account.from_row(rows[0]) if rows else None


def identify(
    db: sqlite_utils.Database, account_id: int, *, user_uuid: str, handle: str, display_name: str = ""
) -> int:
    """Name the Fanvue user behind an account. When another account already holds that user, the two
    become one: the older row keeps its id and takes the more recently stored tokens. Returns the id."""
    with write(db):
        older = db.execute(
            "SELECT id, updated_at FROM fanvue_accounts WHERE user_uuid = ? AND id != ?",
            [user_uuid, account_id],
        ).fetchone()
        if older is not None:
            mine = db.execute("SELECT updated_at FROM fanvue_accounts WHERE id = ?", [account_id]).fetchone()
            if mine is not None and mine[0] >= older[1]:
                db.execute(
                    "UPDATE fanvue_accounts SET (mode, access_token, refresh_token, expires_at, scope, "
                    "updated_at) = (SELECT mode, access_token, refresh_token, expires_at, scope, updated_at "
                    "FROM fanvue_accounts WHERE id = ?) WHERE id = ?",
                    [account_id, older[0]],
                )
            db.execute("DELETE FROM fanvue_accounts WHERE id = ?", [account_id])
            account_id = older[0]
        db.execute(
            "UPDATE fanvue_accounts SET user_uuid = ?, handle = ?, display_name = ? WHERE id = ?",
            [user_uuid, handle.lower(), display_name, account_id],
        )
    return account_id


def find_by_handle(db: sqlite_utils.Database, handle: str) -> Account | None:
    wanted = handle.lstrip("@").lower()
    rows = list(db.query("SELECT * FROM fanvue_accounts WHERE handle = ? ORDER BY id LIMIT 1", [wanted]))
    return Account.from_row(rows[0]) if rows else None


def remove(db: sqlite_utils.Database, account_id: int) -> bool:
    """Forget an account and its tokens; its drafts and audit rows stay."""
    with write(db):
        return db.execute("DELETE FROM fanvue_accounts WHERE id = ?", [account_id]).rowcount == 1


def set_watermark(db: sqlite_utils.Database, account_id: int, watermark: str) -> None:
    db.execute("UPDATE fanvue_accounts SET watermark = ? WHERE id = ?", [watermark, account_id])


def claim_unowned(db: sqlite_utils.Database, creator_uuid: str, creator_handle: str) -> None:
    """Rows written before the app kept creators apart belong to the creator read at start: chat marks
    without a creator, and that creator's drafts without a handle."""
    with write(db):
        db.execute("UPDATE chat_marks SET creator_uuid = ? WHERE creator_uuid = ''", [creator_uuid])
        db.execute(
            "UPDATE drafts SET creator_handle = ? WHERE creator_uuid = ? AND creator_handle = ''",
            [creator_handle.lower(), creator_uuid],
        )
