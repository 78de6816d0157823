"""The team's notes about a fan of a creator (likes, boundaries, promises): kept with author and time, audited."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

from store.clock import utcnow_iso
from store.db import write

NOTE_MIN, NOTE_MAX = 1, 500  # characters of a note's text
SHOWN_ON_CARD = 3  # the newest notes a card (and the drafter) gets
ADDED, REMOVED = "note-added", "note-removed"
NOTE_REFUSED = "note-remove-refused"


class NoteError(ValueError):
    """A note that cannot be kept as given; the message says why, for the teammate."""


@dataclass(frozen=True)
class Note:
    id: int
    creator_uuid: str
    creator_handle: str
    fan_uuid: str
    fan_handle: str
    text: str
    author: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_text(text: str) -> str:
    """The note's text, trimmed; NoteError when it is empty or longer than NOTE_MAX characters."""
    if not isinstance(text, str):
        raise NoteError("a note's text must be text")
    text = text.strip()
    if len(text) < NOTE_MIN:
        raise NoteError("the note is empty: write what the team should know about the fan")
    if len(text) > NOTE_MAX:
        raise NoteError(f"the note has {len(text)} characters; at most {NOTE_MAX} are kept")
    return text


def add(
    db: sqlite_utils.Database,
    *,
    creator_uuid: str,
    creator_handle: str,
    fan_uuid: str,
    fan_handle: str,
    text: str,
    author: str,
    created_at: str | None = None,
    skip_duplicate: bool = False,
) -> Note | None:
    """Keep a note and audit it in one transaction. With `skip_duplicate`, None when the same note (creator,
    fan, author, time and text) is already kept."""
    text = check_text(text)
    at = created_at or utcnow_iso()
    with write(db):
        if skip_duplicate:
            same = db.execute(
                "SELECT 1 FROM fan_notes WHERE creator_uuid = ? AND fan_uuid = ? AND author = ? "
                "AND created_at = ? AND text = ?",
                [creator_uuid, fan_uuid, author, at, text],
            ).fetchone()
            if same is not None:
                return None
        cursor = db.execute(
            "INSERT INTO fan_notes (creator_uuid, creator_handle, fan_uuid, fan_handle, text, author, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [creator_uuid, creator_handle, fan_uuid, fan_handle, text, author, at],
        )
        note_id = cursor.lastrowid
        assert note_id is not None  # set by every INSERT
        note = Note(note_id, creator_uuid, creator_handle, fan_uuid, fan_handle, text, author, at)
        _audit(db, note, ADDED, author, {"note_id": note_id, "text": text})
    return note


def get(db: sqlite_utils.Database, note_id: int) -> Note | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM fan_notes WHERE id = ?", [note_id]).fetchone()
    return None if row is None else Note(*row)


def for_fan(
    db: sqlite_utils.Database, creator_uuid: str, fan_uuid: str, limit: int | None = None
) -> list[Note]:
    """This creator's notes about the fan, newest first; `limit` of them when given."""
    sql = f"SELECT {_COLUMNS} FROM fan_notes WHERE creator_uuid = ? AND fan_uuid = ? ORDER BY created_at DESC, id DESC"
    params: list[Any] = [creator_uuid, fan_uuid]
    if limit is not None:
        sql, params = sql + " LIMIT ?", [*params, limit]
    return [Note(*row) for row in db.execute(sql, params).fetchall()]


def all_notes(db: sqlite_utils.Database, creator_handle: str | None = None) -> list[Note]:
    """Every note (of one creator, by handle), oldest first."""
    sql, params = f"SELECT {_COLUMNS} FROM fan_notes", []
    if creator_handle is not None:
        sql, params = sql + " WHERE lower(creator_handle) = lower(?)", [creator_handle]
    return [Note(*row) for row in db.execute(sql + " ORDER BY created_at, id", params).fetchall()]


def remove(db: sqlite_utils.Database, note: Note, actor: str) -> bool:
    """Delete the note and audit it; False when it was already gone."""
    with write(db):
        gone = db.execute("DELETE FROM fan_notes WHERE id = ?", [note.id]).rowcount == 1
        if gone:
            _audit(db, note, REMOVED, actor, {"note_id": note.id, "text": note.text, "author": note.author})
    return gone


def refused(db: sqlite_utils.Database, note: Note, actor: str) -> None:
    """Someone who may not remove the note tried: audited, nothing removed."""
    with write(db):
        _audit(db, note, NOTE_REFUSED, actor, {"note_id": note.id, "author": note.author})


def _audit(db: sqlite_utils.Database, note: Note, action: str, actor: str, details: dict[str, Any]) -> None:
    # A note belongs to a creator and fan, not to a draft: the audit row names them itself.
    db.execute(
        "INSERT INTO audit (at, draft_id, fan_uuid, fan_handle, actor, action, details, creator_uuid, "
        "creator_handle) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?)",
        [
            utcnow_iso(),
            note.fan_uuid,
            note.fan_handle,
            actor,
            action,
            json.dumps(details, ensure_ascii=False, sort_keys=True),
            note.creator_uuid,
            note.creator_handle,
        ],
    )


_COLUMNS = "id, creator_uuid, creator_handle, fan_uuid, fan_handle, text, author, created_at"
