"""A database the host spoiled (not SQLite, damaged, read-only, full, from a newer version): each command
stops with one line that names the file and what to do, and a click that cannot be recorded sends nothing."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

import store.db as store_db
from slack import blocks
from store import audit, drafts
from store.db import Store, StoreError
from tests.host_env import env, run_app, start_app
from tests.pending_card import PendingCard
from tests.procs import free_port


def _filled(path: Path) -> None:
    """A database of this version with some rows, its WAL folded into the file (as after a clean stop)."""
    store = Store(path)
    try:
        for n in range(200):
            audit.record(
                store.db, actor="U1", action="denied", fan_handle=f"@fan{n}", details={"n": "x" * 200}
            )
        store.db.conn.commit()
    finally:
        store.close()


def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(64 * 1024))


def truncated(path: Path) -> None:
    _filled(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 100])


def read_only_file(path: Path) -> None:
    _filled(path)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists():
            os.chmod(name, 0o400)


def read_only_folder(path: Path) -> None:
    _filled(path)
    os.chmod(path.parent, 0o500)


def newer_version(path: Path) -> None:
    _filled(path)
    store = Store(path)
    store.db["_sqlite_migrations"].insert(
        {"migration_set": "fanvue-slack", "name": "m999_from_the_future", "applied_at": "2027-01-01"}
    )
    store.close()


SPOILED: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage": (garbage, "not a SQLite database"),
    "truncated": (truncated, "damaged"),
    "read-only-file": (read_only_file, "cannot be written"),
    "read-only-folder": (read_only_folder, "cannot be written"),
    "newer-version": (newer_version, "newer version"),
}


@pytest.fixture
def folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    yield data
    os.chmod(data, 0o700)  # so pytest can remove it


def _one_clear_line(stderr: str, path: Path, says: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if str(path) in line]
    assert len(lines) == 1, stderr
    assert says in lines[0] and "database" in lines[0].lower(), lines[0]


@pytest.mark.parametrize("case", list(SPOILED))
@pytest.mark.parametrize("command", ["once", "audit", "stats"])
def test_a_spoiled_database_stops_the_command_with_one_line(case, command, folder, sandbox, slack):
    spoil, says = SPOILED[case]
    path = folder / "bridge.db"
    spoil(path)
    done = run_app(command, env=env(sandbox, slack, path), env_file=folder / "none")
    if command != "once" and case == "read-only-file":
        # Reports only read: a read-only copy is still reported on.
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        assert ("@fan" if command == "audit" else "no replies sent") in done.stdout
        return
    assert done.returncode == 2, (done.returncode, done.stderr)
    _one_clear_line(done.stderr, path, says)
    assert sandbox.world.request_count() == 0 and slack.messages("C0HOST") == []


@pytest.mark.parametrize("case", ["garbage", "read-only-file", "newer-version"])
def test_run_with_a_spoiled_database_stops_at_start_with_one_line(case, folder, sandbox, slack):
    spoil, says = SPOILED[case]
    path = folder / "bridge.db"
    spoil(path)
    port = free_port()
    proc = start_app(
        "run", env=env(sandbox, slack, path, PORT=str(port), HOST="127.0.0.1"), env_file=folder / "x"
    )
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    assert proc.returncode == 2
    _one_clear_line(err, path, says)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


def test_a_full_disk_is_one_store_error_naming_the_file(tmp_path):
    path = tmp_path / "bridge.db"
    store = Store(path)
    try:
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")  # as if the disk had no room left
        with pytest.raises(StoreError) as caught:
            for n in range(100):
                drafts.create(store.db, _new_draft(n))
        assert caught.value.reason == "the disk is full"
        assert str(path) in str(caught.value) and "free space" in str(caught.value)
        assert not store.db.conn.in_transaction
    finally:
        store.close()


def _new_draft(n: int) -> drafts.NewDraft:
    return drafts.NewDraft(
        creator_uuid="c",
        fan_uuid=f"fan-{n}",
        fan_handle=f"fan{n}",
        fan_name="Fan",
        fan_message_uuid=f"m-{n}",
        fan_message_at="2026-01-01T00:00:00Z",
        waiting_since="2026-01-01T00:00:00Z",
        unread_count=1,
        draft_text="x" * 2000,
    )


# --- a click while the database cannot be written


@pytest.fixture
def read_only_app(pending_card: PendingCard, monkeypatch):
    """The card is posted; then the app's database stops taking writes (as when its disk is remounted
    read-only): every connection, those already open and those the click threads open next."""
    harness = pending_card.harness
    for db in harness.store._all:
        db.execute("PRAGMA query_only = ON")
    real_connect = store_db.connect

    def read_only_connect(path):
        db = real_connect(path)
        db.execute("PRAGMA query_only = ON")
        return db

    monkeypatch.setattr(store_db, "connect", read_only_connect)
    return pending_card


def test_a_send_that_cannot_be_claimed_is_not_sent_and_the_clicker_is_told(read_only_app: PendingCard):
    harness, fan, draft = read_only_app
    assert harness.click(draft, blocks.SEND).status_code == 200
    assert harness.sandbox.world.sent_messages() == []
    told = [r.get("text", "") for r in harness.slack.responses()]
    assert len(told) == 1 and "Could not record this send" in told[0] and "nothing was sent" in told[0], told
    assert "cannot be written" in told[0]
    assert drafts.get(harness.store.db, draft.id).status == drafts.PENDING


def test_a_skip_that_cannot_be_recorded_tells_the_clicker_nothing_was_done(read_only_app: PendingCard):
    harness, fan, draft = read_only_app
    assert harness.click(draft, blocks.SKIP).status_code == 200
    told = [r.get("text", "") for r in harness.slack.responses()]
    assert len(told) == 1 and "Could not record this" in told[0] and "nothing was done" in told[0], told
    assert drafts.get(harness.store.db, draft.id).status == drafts.PENDING
    assert harness.sandbox.world.sent_messages() == []
