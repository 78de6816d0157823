"""An existing single-creator database upgraded to creators as a dimension keeps every row with its creator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from store import accounts, audit, chats, drafts, tokens
from store.db import Store, connect
from store.migrations import migrations

ROOT = Path(__file__).resolve().parents[1]
CREATOR = "creator-0001"


def single_creator_database(path: Path) -> None:
    """A database as the app left it before creators were told apart: a login, drafts, audit rows, marks."""
    db = connect(path)
    db.enable_wal()
    migrations.apply(db, stop_before="m009_creators")
    now = "2026-11-01T10:00:00.000Z"
    for n in (1, 2):
        db.execute(
            "INSERT INTO drafts (creator_uuid, fan_uuid, fan_handle, fan_name, fan_message_uuid, fan_message_at, "
            "waiting_since, draft_text, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [CREATOR, f"fan-{n}", f"fan{n}", f"Fan {n}", f"msg-{n}", now, now, f"hi {n}", "sent", now, now],
        )
        db.execute(
            "INSERT INTO audit (at, draft_id, fan_uuid, fan_handle, actor, action, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [now, n, f"fan-{n}", f"fan{n}", "U0ALICE", "sent", json.dumps({"text": f"hi {n}"})],
        )
    db.execute("INSERT INTO chat_marks (fan_uuid, last_message_uuid, at) VALUES ('fan-9', 'msg-9', ?)", [now])
    db.execute(
        "INSERT INTO fanvue_login (id, access_token, refresh_token, expires_at, scope, updated_at) "
        "VALUES (1, 'access', 'refresh', '2030-01-01T00:00:00.000Z', 'read:self read:chat write:chat', ?)",
        [now],
    )
    db.conn.commit()
    db.close()


def test_the_upgrade_keeps_drafts_audit_rows_marks_and_the_login_with_their_creator(tmp_path):
    path = tmp_path / "bridge.db"
    single_creator_database(path)
    assert tokens.stored_at(path) is True  # read before the upgrade, as the start does
    store = Store(path)
    try:
        db = store.db
        kept = drafts.with_status(db, drafts.SENT)
        assert [(d.creator_uuid, d.fan_uuid, d.draft_text) for d in kept] == [
            (CREATOR, "fan-1", "hi 1"),
            (CREATOR, "fan-2", "hi 2"),
        ]
        rows = audit.recent(db)
        assert {(r["creator_uuid"], r["draft_id"]) for r in rows} == {(CREATOR, 1), (CREATOR, 2)}
        (account,) = accounts.all_accounts(db)
        assert (account.id, account.mode, account.logged_in, account.user_uuid) == (1, "creator", True, None)
        assert tokens.load(db).refresh_token == "refresh"
        # The same fan message of another creator is another draft now.
        assert drafts.find(db, "fan-1", "msg-1", "creator-0002") is None
        # The marks had no creator yet; the drafts name only one, that login's: they are its own.
        assert chats.last_handled(db, "fan-9", CREATOR) == "msg-9"
        accounts.claim_unowned(db, CREATOR, "Luna")  # the first start, once /users/me named the creator
        with pytest.raises(Exception, match="append-only"):
            db.execute("UPDATE audit SET actor = 'x' WHERE id = 1")
        with pytest.raises(Exception, match="FOREIGN KEY"):
            db.execute("DELETE FROM drafts WHERE id = 1")
        assert [d.creator_handle for d in drafts.with_status(db, drafts.SENT)] == ["luna", "luna"]
    finally:
        store.close()


def test_marks_of_a_database_without_drafts_go_to_the_creator_read_at_the_first_start(
    tmp_path, sandbox, slack
):
    from tests.harness import Harness

    path = tmp_path / "bridge.db"
    db = connect(path)
    db.enable_wal()
    migrations.apply(db, stop_before="m009_creators")
    fan = sandbox.world.fans()[0]
    last = sandbox.world.chat(fan["uuid"])["lastMessage"]["uuid"]
    db.execute(
        "INSERT INTO chat_marks (fan_uuid, last_message_uuid, at) VALUES (?, ?, '2026-11-01T10:00:00.000Z')",
        [fan["uuid"], last],
    )
    db.conn.commit()
    db.close()
    h = Harness(path, sandbox, slack)
    try:
        h.cycle()
        creator = sandbox.world.creator["uuid"]
        assert chats.last_handled(h.store.db, fan["uuid"], creator) == last
        assert chats.last_handled(h.store.db, fan["uuid"], "") is None
        assert drafts.open_for_fan(h.store.db, fan["uuid"], creator) is None  # handled: no card for it
    finally:
        h.close()


def test_accounts_lists_and_removes_stored_logins(tmp_path):
    path = tmp_path / "bridge.db"
    from tests.harness import store_logins

    first, second, third = store_logins(path, [("creator", "a"), ("creator", "b"), ("agency", "c")])
    store = Store(path)
    try:
        accounts.identify(store.db, first, user_uuid="u-1", handle="Luna", display_name="Luna Park")
        accounts.identify(store.db, third, user_uuid="u-3", handle="agency-admin", display_name="Admin")
        tokens.forget(store.db, tokens.load(store.db, second), second)
    finally:
        store.close()
    env = {"DATABASE_PATH": str(path), "PATH": "/usr/bin:/bin"}

    def app(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "app.py", *args, "--env-file", str(tmp_path / "none")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = app("accounts")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("1  @luna  Luna Park  creator  logged in")
    assert "account 2" in lines[1] and "needs login" in lines[1]
    assert "@agency-admin" in lines[2] and "agency" in lines[2]
    removed = app("accounts", "remove", "@luna")
    assert removed.returncode == 0 and "Removed the Fanvue login @luna" in removed.stdout
    assert app("accounts", "remove", "nobody").returncode == 1
    assert app("accounts", "remove", "2").returncode == 0
    again = app("accounts").stdout.splitlines()
    assert len(again) == 1 and "@agency-admin" in again[0]


def test_two_logins_of_one_user_become_one_account_with_the_newer_tokens(tmp_path):
    from tests.harness import store_logins

    path = tmp_path / "bridge.db"
    old, new = store_logins(path, [("creator", "old-token"), ("creator", "new-token")])
    store = Store(path)
    try:
        db = store.db
        db.execute("UPDATE fanvue_accounts SET updated_at = '2026-01-01T00:00:00.000Z' WHERE id = ?", [old])
        assert accounts.identify(db, new, user_uuid="u-1", handle="Luna") == new
        # The older row, read later (after an upgrade, say), folds into the account that holds the user.
        assert accounts.identify(db, old, user_uuid="u-1", handle="Luna") == new
        assert [a.id for a in accounts.all_accounts(db)] == [new]
        assert tokens.load(db, new).access_token == "new-token"
        # A login made after it (app.py login again) gives the account its tokens, keeping the account.
        newest = store_logins(path, [("creator", "newest-token")])[0]
        assert accounts.identify(db, newest, user_uuid="u-1", handle="luna") == new
        assert tokens.load(db, new).access_token == "newest-token"
        assert [a.id for a in accounts.all_accounts(db)] == [new]
    finally:
        store.close()
