"""`app.py notes export|import`: the team's notes about fans as JSON, to move them between installations."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import safe_text
import settings as settings_module
from commands import stops_on_store_errors
from store import notes
from store.clock import from_iso, to_iso
from store.db import Store
from store.notes import NoteError

FORMAT = "fanvue-slack-notes"
VERSION = 1
FIELDS = ("creator_uuid", "creator_handle", "fan_uuid", "fan_handle", "text", "author", "created_at")
REQUIRED = ("creator_uuid", "fan_uuid", "text", "author", "created_at")
BAD_SHOWN = 20  # bad rows listed one by one; the rest are counted


def usage(args: argparse.Namespace) -> int:
    """`app.py notes` alone: which of its commands to give."""
    print(
        "Say what to do: `app.py notes export [--creator HANDLE] > notes.json` or `app.py notes import notes.json`",
        file=sys.stderr,
    )
    return 2


@stops_on_store_errors
def export(args: argparse.Namespace) -> int:
    """Every note (or one creator's) as JSON on stdout, oldest first."""
    database = settings_module.load_database_path(args.env_file)
    if not database.is_file():
        print(f"No database at {database}; set DATABASE_PATH (environment or .env)", file=sys.stderr)
        return 2
    store = Store(database, writes=False)
    try:
        kept = notes.all_notes(store.db, args.creator.lstrip("@") if args.creator else None)
    finally:
        store.close()
    rows = [{name: getattr(note, name) for name in FIELDS} for note in kept]
    json.dump({"format": FORMAT, "version": VERSION, "notes": rows}, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    print(f"{len(rows)} notes exported", file=sys.stderr)
    return 0


@stops_on_store_errors
def import_(args: argparse.Namespace) -> int:
    """Add the file's notes; the same note already kept is skipped, a bad row is reported by its index and
    left out (the good ones are still added). 1 when any row was bad, 2 when the file cannot be read."""
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"Cannot read {args.file}: {safe_text.terminal(str(exc))}", file=sys.stderr)
        return 2
    rows = data.get("notes") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        print(f'{args.file} is not a notes export: expected a list of notes under "notes"', file=sys.stderr)
        return 2
    bad: list[str] = []
    added = skipped = 0
    store = Store(settings_module.load_database_path(args.env_file))
    try:
        for index, row in enumerate(rows):
            problem = _problem(row)
            if problem is None:
                try:
                    kept = notes.add(store.db, **_fields(row), skip_duplicate=True)
                except NoteError as exc:
                    problem = str(exc)
                else:
                    added, skipped = added + (kept is not None), skipped + (kept is None)
            if problem is not None:
                bad.append(f"  row {index}: {safe_text.terminal(problem)}")
    finally:
        store.close()
    print(f"{added} notes added, {skipped} already there, {len(bad)} bad", file=sys.stderr)
    for line in bad[:BAD_SHOWN]:
        print(line, file=sys.stderr)
    if len(bad) > BAD_SHOWN:
        print(f"  ... and {len(bad) - BAD_SHOWN} more bad rows", file=sys.stderr)
    return 1 if bad else 0


def _problem(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "not an object"
    for name in FIELDS:
        value = row.get(name)
        if name in REQUIRED and (not isinstance(value, str) or not value.strip()):
            return f"{name} is missing or not text"
        if value is not None and not isinstance(value, str):
            return f"{name} is not text"
    try:
        moment = from_iso(row["created_at"])
    except ValueError:
        return f"created_at is not a time: {row['created_at'][:40]!r}"
    if moment.tzinfo is None:
        return "created_at has no time zone"
    return None


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "creator_uuid": row["creator_uuid"],
        "creator_handle": (row.get("creator_handle") or "").lower(),
        "fan_uuid": row["fan_uuid"],
        "fan_handle": row.get("fan_handle") or "",
        "text": row["text"],
        "author": row["author"],
        "created_at": to_iso(from_iso(row["created_at"])),
    }
