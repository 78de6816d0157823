"""The schema, as numbered migrations applied at start."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("fanvue-slack")


@migrations()
def m001_create_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            creator_uuid TEXT NOT NULL,
            fan_uuid TEXT NOT NULL,
            fan_handle TEXT NOT NULL,
            fan_name TEXT NOT NULL,
            fan_message_uuid TEXT NOT NULL,
            fan_message_at TEXT NOT NULL,
            waiting_since TEXT NOT NULL,
            unread_count INTEGER NOT NULL DEFAULT 0,
            context TEXT NOT NULL DEFAULT '[]',
            draft_text TEXT NOT NULL,
            drafted_by TEXT NOT NULL DEFAULT 'template',
            version INTEGER NOT NULL DEFAULT 1,
            final_text TEXT,
            status TEXT NOT NULL DEFAULT 'pending',
            channel TEXT,
            ts TEXT,
            card_rev INTEGER NOT NULL DEFAULT 1,
            card_synced_rev INTEGER NOT NULL DEFAULT 0,
            fanvue_message_uuid TEXT,
            decided_by TEXT,
            decided_at TEXT,
            error TEXT,
            notice TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (fan_uuid, fan_message_uuid)
        )
        """
    )
    db.execute("CREATE INDEX idx_drafts_status ON drafts (status, waiting_since)")
    db.execute("CREATE INDEX idx_drafts_fan ON drafts (fan_uuid, status)")
    db.execute("CREATE INDEX idx_drafts_card ON drafts (waiting_since) WHERE card_rev > card_synced_rev")
    db.execute(
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            draft_id INTEGER REFERENCES drafts(id),
            fan_uuid TEXT,
            fan_handle TEXT,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    db.execute("CREATE INDEX idx_audit_at ON audit (at)")
    db.execute("CREATE INDEX idx_audit_actor_at ON audit (actor, at)")
    db.execute("CREATE INDEX idx_audit_fan_at ON audit (fan_handle, at)")
    db.execute("CREATE INDEX idx_audit_fan_uuid_at ON audit (fan_uuid, at)")
    db.execute("CREATE INDEX idx_audit_action_at ON audit (action, at)")
    db.execute("CREATE INDEX idx_audit_draft ON audit (draft_id)")
    # The audit log is append-only: the database itself refuses edits and deletions.
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )


@migrations()
def m002_tokens(db: sqlite_utils.Database) -> None:
    # One row: the creator's Fanvue login. Refresh tokens rotate, so the pair is always replaced together.
    db.execute(
        """
        CREATE TABLE fanvue_login (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            access_token TEXT NOT NULL,
            refresh_token TEXT,
            expires_at TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        )
        """
    )


@migrations()
def m003_drafting_metadata(db: sqlite_utils.Database) -> None:
    # How each draft was made (model, time, tokens, why the template stood in) and the guardrails it broke.
    for column, kind in (
        ("model", "TEXT"),
        ("latency_ms", "INTEGER"),
        ("prompt_tokens", "INTEGER"),
        ("completion_tokens", "INTEGER"),
        ("fallback_reason", "TEXT"),
        ("flags", "TEXT NOT NULL DEFAULT '[]'"),
    ):
        db.execute(f"ALTER TABLE drafts ADD COLUMN {column} {kind}")


@migrations()
def m004_audit_actor_action_index(db: sqlite_utils.Database) -> None:
    # "What did this teammate skip": without it a rare pairing walks every row of the action.
    db.execute("CREATE INDEX IF NOT EXISTS idx_audit_actor_action_at ON audit (actor, action, at)")


@migrations()
def m005_chat_marks(db: sqlite_utils.Database) -> None:
    # The chat-list message each chat was last handled at: an unchanged chat is skipped without reading
    # its history, also when that message is not a fan's (a broadcast) or never shows in the history.
    db.execute(
        "CREATE TABLE chat_marks (fan_uuid TEXT PRIMARY KEY, last_message_uuid TEXT NOT NULL, at TEXT NOT NULL)"
    )


@migrations()
def m006_seen_requests(db: sqlite_utils.Database) -> None:
    # Slack requests already acted on, kept a few minutes: a replayed or retried copy is acknowledged only.
    db.execute("CREATE TABLE seen_requests (key TEXT PRIMARY KEY, at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_seen_requests_at ON seen_requests (at)")


@migrations()
def m007_webhook_events(db: sqlite_utils.Database) -> None:
    # Fanvue's signed webhook deliveries, stored before they are answered. Fanvue may deliver one event
    # several times and in any order: `event_key` (the message uuid for a new message) recognises a repeat.
    db.execute(
        """
        CREATE TABLE webhook_events (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            event_key TEXT NOT NULL,
            recipient_uuid TEXT NOT NULL,
            fan_uuid TEXT NOT NULL,
            message_uuid TEXT,
            message_at TEXT,
            event_at TEXT,
            received_at TEXT NOT NULL,
            deliveries INTEGER NOT NULL DEFAULT 1,
            handled_at TEXT,
            UNIQUE (kind, event_key)
        )
        """
    )
    db.execute(
        "CREATE INDEX idx_webhook_events_unhandled ON webhook_events (received_at) WHERE handled_at IS NULL"
    )


@migrations()
def m008_fan_context(db: sqlite_utils.Database) -> None:
    # Who each fan is to each creator (status, spending, subscription, presence), cached between reads.
    # `unavailable` says why insights are missing (the fan is not the creator's, or hidden from the login).
    db.execute(
        """
        CREATE TABLE fan_context (
            creator_uuid TEXT NOT NULL,
            fan_uuid TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            status TEXT,
            total_spend_cents INTEGER,
            biggest_payment_cents INTEGER,
            last_purchase_at TEXT,
            subscribed_at TEXT,
            renews_at TEXT,
            auto_renew INTEGER,
            unavailable TEXT,
            online INTEGER,
            last_seen_at TEXT,
            PRIMARY KEY (creator_uuid, fan_uuid)
        )
        """
    )


@migrations()
def m009_creators(db: sqlite_utils.Database) -> None:
    # Creator is a dimension of every row: one app may serve several creators (agency mode). Rows written
    # before belong to the creator the single login served: drafts always stored its uuid and audit rows
    # take their draft's. Chat marks of a database without drafts get '' and are claimed by the creator the
    # app reads from GET /users/me at its next start (store.accounts.claim_unowned): that same login.
    db.execute("PRAGMA defer_foreign_keys = ON")  # drafts is rebuilt under the audit rows that point at it
    schema = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'drafts'").fetchone()[
        0
    ]
    old_key = "UNIQUE (fan_uuid, fan_message_uuid)"
    if old_key not in schema:
        raise RuntimeError("the drafts table does not have the expected unique key; refusing to rebuild it")
    columns = [row[1] for row in db.execute("PRAGMA table_info(drafts)").fetchall()]
    rebuilt = schema.replace(old_key, "UNIQUE (creator_uuid, fan_uuid, fan_message_uuid)")
    names = ", ".join(columns)
    # Copied aside and back into a table of the same name: the audit rows' references resolve again by
    # the time the transaction commits (a table renamed into place would leave them counted as broken).
    db.execute(f"CREATE TEMP TABLE drafts_before AS SELECT {names} FROM drafts")
    db.execute("DROP TABLE drafts")
    db.execute(rebuilt)
    db.execute(f"INSERT INTO drafts ({names}) SELECT {names} FROM drafts_before")
    db.execute("DROP TABLE drafts_before")
    db.execute("ALTER TABLE drafts ADD COLUMN creator_handle TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX idx_drafts_status ON drafts (status, waiting_since)")
    db.execute("CREATE INDEX idx_drafts_fan ON drafts (creator_uuid, fan_uuid, status)")
    db.execute("CREATE INDEX idx_drafts_card ON drafts (waiting_since) WHERE card_rev > card_synced_rev")
    db.execute("CREATE INDEX idx_drafts_creator ON drafts (creator_uuid, status)")
    db.execute("CREATE INDEX idx_drafts_creator_handle ON drafts (creator_handle, creator_uuid)")

    db.execute("ALTER TABLE audit ADD COLUMN creator_uuid TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE audit ADD COLUMN creator_handle TEXT NOT NULL DEFAULT ''")
    # Every audit row names its draft, and so its creator. The append-only trigger would refuse this one
    # backfill; it is put back right after it.
    db.execute("DROP TRIGGER audit_no_update")
    db.execute(
        "UPDATE audit SET creator_uuid = (SELECT creator_uuid FROM drafts WHERE drafts.id = audit.draft_id) "
        "WHERE draft_id IS NOT NULL"
    )
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )
    db.execute("CREATE INDEX idx_audit_creator_at ON audit (creator_uuid, at)")

    db.execute(
        "CREATE TABLE chat_marks_by_creator (creator_uuid TEXT NOT NULL, fan_uuid TEXT NOT NULL, "
        "last_message_uuid TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (creator_uuid, fan_uuid))"
    )
    # The single login's creator is the one its drafts name; with none yet, the first start claims them.
    owner = [row[0] for row in db.execute("SELECT DISTINCT creator_uuid FROM drafts").fetchall()]
    db.execute(
        "INSERT INTO chat_marks_by_creator SELECT ?, fan_uuid, last_message_uuid, at FROM chat_marks",
        [owner[0] if len(owner) == 1 else ""],
    )
    db.execute("DROP TABLE chat_marks")
    db.execute("ALTER TABLE chat_marks_by_creator RENAME TO chat_marks")

    # Stored logins become accounts: several creator logins and agency logins, each renewed on its own.
    db.execute(
        """
        CREATE TABLE fanvue_accounts (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL DEFAULT 'creator',
            user_uuid TEXT UNIQUE,
            handle TEXT,
            display_name TEXT,
            access_token TEXT NOT NULL,
            refresh_token TEXT,
            expires_at TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            watermark TEXT
        )
        """
    )
    db.execute(
        "INSERT INTO fanvue_accounts (id, mode, access_token, refresh_token, expires_at, scope, updated_at) "
        "SELECT 1, 'creator', access_token, refresh_token, expires_at, scope, updated_at FROM fanvue_login"
    )
    db.execute("DROP TABLE fanvue_login")


@migrations()
def m010_revenue_credit(db: sqlite_utils.Database) -> None:
    # Fanvue's earnings lines, each stored once (a line delivered twice is the same key), and credited
    # through its messageUuid to the draft whose send produced that message.
    db.execute(
        """
        CREATE TABLE earnings (
            id INTEGER PRIMARY KEY,
            creator_uuid TEXT NOT NULL,
            line_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            gross_cents INTEGER NOT NULL,
            net_cents INTEGER NOT NULL,
            at TEXT NOT NULL,
            fan_uuid TEXT,
            message_uuid TEXT,
            order_id TEXT,
            received_at TEXT NOT NULL,
            UNIQUE (creator_uuid, line_key)
        )
        """
    )
    db.execute("CREATE INDEX idx_earnings_message ON earnings (message_uuid) WHERE message_uuid IS NOT NULL")
    db.execute("CREATE INDEX idx_earnings_creator_at ON earnings (creator_uuid, at)")
    # Where an interrupted read of a creator's earnings goes on: Fanvue's cursor and the start date it
    # belongs to. Between reads it is empty and the next read starts from the newest line stored.
    db.execute(
        "CREATE TABLE earnings_reads (creator_uuid TEXT PRIMARY KEY, cursor TEXT, cursor_since TEXT, "
        "read_at TEXT NOT NULL)"
    )
    # A draft sent as a paid message: its price and media, sent with its text.
    db.execute(
        """
        CREATE TABLE paid_offers (
            draft_id INTEGER PRIMARY KEY REFERENCES drafts(id),
            price_cents INTEGER NOT NULL,
            media_uuids TEXT NOT NULL DEFAULT '[]',
            template_uuid TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        "CREATE INDEX idx_drafts_fanvue_message ON drafts (creator_uuid, fanvue_message_uuid) "
        "WHERE fanvue_message_uuid IS NOT NULL"
    )


@migrations()
def m011_card_takes(db: sqlite_utils.Database) -> None:
    # Who has a card (Take): when they took it, and their last action on it, after which the take lapses.
    db.execute("ALTER TABLE drafts ADD COLUMN taker TEXT")
    db.execute("ALTER TABLE drafts ADD COLUMN taken_at TEXT")
    db.execute("ALTER TABLE drafts ADD COLUMN take_active_at TEXT")
    db.execute("CREATE INDEX idx_drafts_taker ON drafts (taker) WHERE taker IS NOT NULL")


@migrations()
def m012_fan_notes(db: sqlite_utils.Database) -> None:
    # The chat row's top-spender flag, kept with the draft: the card shows it even without fan insights.
    db.execute("ALTER TABLE drafts ADD COLUMN is_top_spender INTEGER NOT NULL DEFAULT 0")
    # What the team knows about a fan of a creator (likes, boundaries, promises), written by teammates.
    db.execute(
        """
        CREATE TABLE fan_notes (
            id INTEGER PRIMARY KEY,
            creator_uuid TEXT NOT NULL,
            creator_handle TEXT NOT NULL DEFAULT '',
            fan_uuid TEXT NOT NULL,
            fan_handle TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX idx_fan_notes_fan ON fan_notes (creator_uuid, fan_uuid, created_at)")
    # Creators whose login cannot read fan insights, and when the team was told (once per creator).
    db.execute(
        "CREATE TABLE fan_context_notices (creator_uuid TEXT PRIMARY KEY, reason TEXT NOT NULL, "
        "told_at TEXT, checked_at TEXT NOT NULL)"
    )


@migrations()
def m013_offer_items(db: sqlite_utils.Database) -> None:
    # What a paid offer's media are called and what kind they are, as the card shows them: read from Fanvue
    # when the items were attached (names and types only; no URL is ever kept).
    db.execute(
        "CREATE TABLE paid_offer_items (draft_id INTEGER NOT NULL REFERENCES drafts(id), position INTEGER NOT "
        "NULL, media_uuid TEXT NOT NULL, name TEXT, media_type TEXT, PRIMARY KEY (draft_id, position))"
    )


@migrations()
def m014_sla_marks(db: sqlite_utils.Database) -> None:
    # A waiting card's SLA (minutes, kept for the SLA hit rate in stats) and state as its card last showed
    # it, and the nudges sent about it (1: at the SLA, 2: at twice it), so the cycle updates a card only
    # when its state changes and a restart never nudges twice.
    db.execute(
        "CREATE TABLE sla_marks (draft_id INTEGER PRIMARY KEY REFERENCES drafts(id), minutes INTEGER, "
        "state TEXT, nudges INTEGER NOT NULL DEFAULT 0, nudged_at TEXT)"
    )
