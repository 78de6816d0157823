"""The database file holds tokens: it and its folder are private to their owner, and a database from a
newer version of the app is refused rather than misread."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from store import audit
from store.db import DatabaseTooNew, Store


@pytest.fixture
def usual_umask():
    """The umask most hosts and images run with: it leaves new files readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_database_and_its_wal_and_shm_files_are_readable_by_their_owner_only(tmp_path, usual_umask):
    path = tmp_path / "new" / "data" / "bridge.db"
    store = Store(path)
    try:
        audit.record(store.db, actor="U1", action="denied", fan_handle="@fan")  # a write: the WAL fills
        assert (tmp_path / "new" / "data" / "bridge.db-wal").exists()
        for name in ("bridge.db", "bridge.db-wal", "bridge.db-shm"):
            assert mode(path.parent / name) == 0o600, name
        assert mode(tmp_path / "new") == 0o700 and mode(tmp_path / "new" / "data") == 0o700
    finally:
        store.close()


def test_an_existing_folder_keeps_its_permissions(tmp_path, usual_umask):
    os.chmod(tmp_path, 0o755)
    Store(tmp_path / "bridge.db").close()
    assert mode(tmp_path) == 0o755 and mode(tmp_path / "bridge.db") == 0o600


def test_an_existing_database_readable_by_others_is_left_but_named_in_a_warning(tmp_path, caplog):
    path = tmp_path / "bridge.db"
    Store(path).close()
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="store.db"):
        Store(path).close()
    assert mode(path) == 0o644
    assert any(str(path) in r.getMessage() and "chmod 600" in r.getMessage() for r in caplog.records)


def test_a_database_migrated_by_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "bridge.db"
    store = Store(path)
    store.db["_sqlite_migrations"].insert(
        {"migration_set": "fanvue-slack", "name": "m999_from_the_future", "applied_at": "2027-01-01"}
    )
    store.close()
    with pytest.raises(DatabaseTooNew) as caught:
        Store(path)
    assert str(path) in str(caught.value) and "m999_from_the_future" in str(caught.value)
    assert "restore the backup" in str(caught.value)


def test_a_backup_taken_while_the_app_writes_holds_what_the_wal_holds(tmp_path):
    # README: Upgrades and backups. The write stays in the -wal file (no checkpoint yet); a `cp` of the
    # database file alone would miss it, SQLite's own copy does not.
    path = tmp_path / "bridge.db"
    store = Store(path)
    try:
        audit.record(store.db, actor="U1", action="denied", fan_handle="@fan")
        store.db.execute(f"VACUUM INTO '{tmp_path / 'backup.db'}'")
    finally:
        store.close()
    restored = Store(tmp_path / "backup.db")  # opens, migrations known: restoring is copying it back
    try:
        assert [row["fan_handle"] for row in restored.db.query("SELECT fan_handle FROM audit")] == ["@fan"]
    finally:
        restored.close()
