"""Opening the SQLite database: WAL, a busy timeout, migrations and one connection per thread."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from store.migrations import migrations

logger = logging.getLogger(__name__)

# Longer than any single write transaction can take, a token renewal included (its HTTP call is capped).
BUSY_TIMEOUT_MS = 30_000
# The database holds Fanvue tokens: only its owner may read it, or the folder the app creates for it.
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class StoreError(Exception):
    """The database file cannot be used (damaged, not SQLite, read-only, full, locked, out of reach); the
    message says what is wrong, which file, and what to do, on one line. `reason` is the short part."""

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason or message


class DatabaseTooNew(StoreError):
    """The database was migrated by a newer version of the app; this one does not know its schema."""


# What SQLite's error names (sqlite3's `sqlite_errorname`) say about the file: the reason and what to do.
_PROBLEMS = {
    "SQLITE_NOTADB": (
        "it is not a SQLite database",
        "point DATABASE_PATH at the app's database, or move this file away to start an empty one",
    ),
    "SQLITE_CORRUPT": ("it is damaged", "restore it from a backup (README: Upgrades and backups)"),
    "SQLITE_READONLY": (
        "it cannot be written",
        "let the app's user write the file, its -wal and -shm files and their folder",
    ),
    "SQLITE_PERM": ("it cannot be written", "let the app's user write the file and its folder"),
    "SQLITE_FULL": ("the disk is full", "free space on the disk that holds it"),
    "SQLITE_CANTOPEN": (
        "it cannot be opened",
        "check that its folder exists and that the app's user may read and write the file and the folder",
    ),
    "SQLITE_IOERR": ("reading or writing it failed", "check the disk that holds it"),
    "SQLITE_BUSY": (
        "another process kept it locked",
        "look for a process that holds it (a backup, a stuck `app.py`) and try again",
    ),
}


def store_error(
    exc: sqlite3.Error | OSError, path: str | Path, *, opening: bool = False
) -> StoreError | None:
    """`exc` as a StoreError when it is about the file itself; None for any other error (a bug's, say),
    except while `opening`, when every error means the file cannot be used."""
    if isinstance(exc, OSError):
        reason, todo = "its folder or file cannot be made or opened", _PROBLEMS["SQLITE_CANTOPEN"][1]
    else:
        name = getattr(exc, "sqlite_errorname", "") or ""
        found = next((v for k, v in _PROBLEMS.items() if name == k or name.startswith(k + "_")), None)
        if found is None and not opening:
            return None
        reason, todo = found or ("SQLite refused it", "check the file, or restore it from a backup")
    detail = " ".join(str(exc).split())
    return StoreError(f"The database {path} cannot be used: {reason} ({detail}). To fix: {todo}.", reason)


@contextlib.contextmanager
def translated(path: str | Path | Callable[[], str], *, opening: bool = False) -> Iterator[None]:
    """Inside: sqlite3's errors about the file `path` names come out as one StoreError (while `opening`,
    also every sqlite3 error and the OSError of making its folder or file)."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        if isinstance(exc, OSError) and not opening:
            raise  # a network error inside a transaction (a token renewal's) is not the file's
        error = store_error(exc, path() if callable(path) else path, opening=opening)
        if error is None:
            raise
        raise error from exc


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open one connection with the settings every connection of this app uses."""
    path = Path(path)
    if str(path) != ":memory:":
        _create_private(path)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    db = sqlite_utils.Database(conn, execute_plugins=False)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def _create_private(path: Path) -> None:
    """The missing folders (0700) and an empty database file (0600), made before SQLite opens it: SQLite
    gives the -wal and -shm files the permissions of the database file. Existing ones are left as they are."""
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # another process or thread made it first
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode passes through the umask
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.fchmod(fd, FILE_MODE)
    os.close(fd)  # SQLite takes an empty file for a new database


def _warn_if_readable_by_others(path: Path) -> None:
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return
    if mode & 0o077:
        logger.warning(
            "The database %s holds Fanvue tokens and can be read by other users (mode %o); "
            "`chmod 600` it and its -wal and -shm files",
            path,
            mode,
        )


def migrate(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date; safe to call at every start. A database migrated by a newer version
    is refused: this version would misread it."""
    # The names this version registers (sqlite-utils keeps them in its Migrations object).
    known = {migration.name for migration in migrations._migrations}
    newer = [m.name for m in migrations.applied(db) if m.name not in known]
    if newer:
        raise DatabaseTooNew(
            f"The database {_file_of(db)} was migrated by a newer version of this app ({', '.join(newer)}). "
            "Run that version, or restore the backup taken before upgrading (README: Upgrades and backups)."
        )
    if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        db.enable_wal()
    migrations.apply(db)


def _file_of(db: sqlite_utils.Database) -> str:
    return next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "") or "?"


@contextlib.contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the lock up front, so concurrent writers queue instead of failing.

    A file that cannot take the write (read-only, full, damaged, locked too long) raises StoreError."""
    with translated(lambda: _file_of(db)):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:  # SQLite may have rolled back already (a full disk, say)
                db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")


def _check_writable(db: sqlite_utils.Database) -> None:
    """A write that changes nothing: SQLite refuses it when the file is read-only (BEGIN alone passes)."""
    with write(db):
        db.execute("UPDATE _sqlite_migrations SET name = name WHERE 0")


class Store:
    """The database file, handing each thread its own connection (sqlite3 connections are not shared)."""

    def __init__(self, path: str | Path, *, writes: bool = True):
        """Open and migrate the database; StoreError when the file cannot be used, or (with `writes`)
        cannot be written: the app finds that out at start rather than at a teammate's click."""
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite_utils.Database] = []
        try:
            with translated(self.path, opening=True):
                migrate(self.db)
                if writes:
                    _check_writable(self.db)
        except StoreError:
            self.close()
            raise
        _warn_if_readable_by_others(self.path)

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
