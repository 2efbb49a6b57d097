"""Versioned schema: migrations applied on open, tracked in PRAGMA user_version.

Each migration runs in its own BEGIN IMMEDIATE transaction and re-reads user_version after taking
the write lock, so two processes opening the same file at once migrate it once.

History (never edit a released step; append a new one):
  v1  reports, summaries (history kept), users, chat scopes, subscriptions.
  v2  search: FTS5 index over a folded copy of title/text/summary items (external content: the
      original text is not stored twice; snippets are cut from it by token position), kept in
      step by triggers that call the `fold` SQL function; a prefix index for 1-2 letters and the
      table of index terms (search_terms) for longer prefixes; indexes for unit/period lookups;
      deliveries (exactly-once
      digests); subscriptions.skip_empty. Existing reports are backfilled into the index.
  v3  the insert and update triggers are dropped: the repository writes those index rows itself
      (`fts_row`), in one executemany per batch. A trigger made every INSERT/UPDATE of a report
      a statement with a savepoint, and FTS5 flushes its pending terms to a new segment at each
      savepoint: one tiny segment per report, merged again and again (add_reports spent ~0.35 of
      ~1.0 ms/report on it, save_summaries more). The delete trigger stays (one row, rare).
      FTS5 'hashsize' 16 MB (fewer, larger segments from bulk inserts).
      Whoever changes a report's scope, title, summary_title, text or items_text must therefore
      delete the old index row and insert the new one (see Repository.save_summaries).
  v4  corrections (what an official fixed in a summary: an item moved to another section or
      dropped, the unit/date/period set, two reports merged; each with who and when, and the
      item's section, index and text at the time, so it can be applied again to a later
      summary), feedback (one 👍/👎 per user and report, changeable), and reports.merged_into
      (a report merged into another is kept for the record, pointing at the one that holds it).
  v5  inbox: every incoming report message (text or file reference, sender, forward origin, date,
      and the raw update to replay it) written before the next getUpdates confirms it to Telegram,
      so a crash loses nothing; rows left 'new' are processed again at start-up.
  v6  deliveries gain the state 'sending' (a request for the chat's digest was written: it may
      have gone out, so it is never resent) next to 'claimed' (taken by a worker, nothing sent
      yet: resent after a crash), the claim's `owner` (the digest service that holds it) and a
      `note` on why a send is in doubt; rows v2-v5 left 'claimed' become 'sending' (then the claim
      was taken right before sending). refusals: when a pending or blocked user (or a group not
      let in) was last told so, for at most one such reply per 10 minutes across restarts.
  v7  replies: a report whose reply (its brief) reached the chat. A crash between saving a summary
      and sending it left a summarised report nobody was told about; at start-up the summarised
      reports of the last days without a row here are sent. Every report already summarised when
      this step runs counts as answered (it was, or long ago).
  v8  replies record each attempt: 'sending' (with its time) is written right before the request,
      'sent' (with Telegram's message_id) after; a definite refusal goes back to 'unsent' (sent
      again at start-up). The Bot API has no idempotency key, so a kill between Telegram taking a
      reply and our record of it sent the brief twice: a 'sending' row found at start-up may have
      gone out and is not resent (at most once), its `note` saying so. Rows of v7 are 'sent'.
  v9  replicas that agree: each process start is a replica with a lease in `replicas`; an inbox
      row belongs to its `owner` until that lease runs out; `send_slots` share the 30 msg/s
      budget; `searches` hold the page buttons' keys (any replica answers them).
  v10 PostgreSQL only (SQLite: nothing): report_fts.keys, GIN-indexed instead of `doc`: the terms,
      the runs of 2 and 3 adjacent terms (a phrase of two or three words is one exact lookup; they
      were pairs inside `doc`) and the report's slice of ids (the index finds the newest matches
      in the newest slices); see storage.pg.tsvector, storage.search_pg. Rows already there get
      theirs from `doc`'s positions.
  v11 sender_tails: each sender's last text report (what bot.ingest joins a continuation to), in
      the database instead of one process's memory: the next piece of a split paste may reach
      another replica. Rows older than a minute past the merge window are pruned on each write.
      A partial index finds a sender's 'new' inbox rows (a piece another replica has not handled).

The index holds `storage.folding.fold` of each text: if `fold` ever changes, add a migration
that drops and recreates `report_fts` and reindexes every report.

PostgreSQL (BOT_DATABASE=postgresql://...) has the same versions, from this module too:
`PG_MIGRATIONS[i]` is the twin of `MIGRATIONS[i]`, tracked in table `schema_version`. Plain DDL
is translated (`pg_ddl`: 64-bit integers, identity keys); what is FTS5 has its own text: the
index is table `report_fts` (one tsvector per report, GIN-indexed, built by `storage.pg.tsvector`
from the same folded text). A new step needs both halves (checked at import).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

from storage.folding import fold, fold_cached, scope_tag, vocabulary

V1_DDL = """
CREATE TABLE reports (
    id              INTEGER PRIMARY KEY,
    scope           INTEGER NOT NULL,
    chat_id         INTEGER NOT NULL,
    user_id         INTEGER,
    sha256          TEXT    NOT NULL,
    received_at     TEXT    NOT NULL,  -- UTC, 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (sorts as text)
    source_kind     TEXT    NOT NULL CHECK (source_kind IN ('text', 'forward', 'document', 'url')),
    forward_origin  TEXT,
    file_name       TEXT,
    url             TEXT,
    title           TEXT,
    text            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'received'
                            CHECK (state IN ('received', 'summarised', 'failed')),
    error           TEXT,
    -- denormalised from the newest summary, for queries
    summary_id      INTEGER,
    unit            TEXT,
    unit_key        TEXT,    -- storage.folding.lookup_key(unit)
    meeting_date    TEXT,    -- 'YYYY-MM-DD'
    period          TEXT,
    period_key      TEXT,
    UNIQUE (scope, sha256)
);
CREATE INDEX reports_scope_received ON reports (scope, received_at);
CREATE INDEX reports_scope_meeting ON reports (scope, meeting_date);
CREATE INDEX reports_pending ON reports (state) WHERE state = 'received';

CREATE TABLE summaries (
    id              INTEGER PRIMARY KEY,
    report_id       INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    engine          TEXT    NOT NULL,
    engine_version  TEXT    NOT NULL,
    summary_json    TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
);
CREATE INDEX summaries_report ON summaries (report_id, id);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    role            TEXT    NOT NULL CHECK (role IN ('admin', 'member', 'pending', 'blocked')),
    display_name    TEXT,
    default_unit    TEXT,
    language        TEXT    NOT NULL DEFAULT 'vi',
    created_at      TEXT    NOT NULL
);

CREATE TABLE chat_scopes (
    chat_id         INTEGER PRIMARY KEY,
    scope           INTEGER NOT NULL
);

CREATE TABLE subscriptions (
    chat_id         INTEGER PRIMARY KEY,
    cadence         TEXT    NOT NULL CHECK (cadence IN ('weekly', 'daily')),
    weekday         INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    time_of_day     TEXT    NOT NULL,
    timezone        TEXT    NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT    NOT NULL
);
"""

# The scope token of a report in the index; must agree with storage.folding.scope_tag.
_TAG = "'s' || CASE WHEN {s} < 0 THEN 'm' || (-{s}) ELSE {s} END"
_TITLE = "COALESCE({r}.title, {r}.summary_title)"


def _fts_row(r: str) -> str:
    """VALUES of the index row for `r` (new/old) as the triggers write it (`fts_row` in Python)."""
    return (
        f"{r}.id, {_TAG.format(s=r + '.scope')}, fold({_TITLE.format(r=r)}), "
        f"fold({r}.text), fold({r}.items_text)"
    )


V2_DDL = f"""
ALTER TABLE reports ADD COLUMN summary_title TEXT;
ALTER TABLE reports ADD COLUMN items_text TEXT;  -- newest summary's items, one per line
ALTER TABLE subscriptions ADD COLUMN skip_empty INTEGER NOT NULL DEFAULT 0;

-- Rows hold the report text before these columns, so reading them row by row walks overflow
-- pages: unit and period lookups and unit counts read these indexes instead.
CREATE INDEX reports_scope_unit ON reports (scope, unit_key, meeting_date, received_at, unit);
CREATE INDEX reports_scope_period ON reports (scope, period_key, meeting_date, received_at);

CREATE TABLE deliveries (
    chat_id         INTEGER NOT NULL,
    period_key      TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('claimed', 'sent')),
    claimed_at      TEXT    NOT NULL,
    sent_at         TEXT,
    PRIMARY KEY (chat_id, period_key)
);

-- What snippet() reads: the original text (marker bytes blanked so they cannot fake a match).
CREATE VIEW report_fts_content AS
SELECT id,
       '' AS scope_tag,
       {_TITLE.format(r="reports")} AS title,
       replace(replace(text, char(2), ' '), char(3), ' ') AS body,
       items_text AS items
FROM reports;

CREATE VIRTUAL TABLE report_fts USING fts5(
    scope_tag, title, body, items,
    content = 'report_fts_content', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2'
);
-- Every term of the index (storage.folding.vocabulary), to expand a long last query word into
-- exact terms (see storage.search). Never pruned: a stale term just matches nothing.
CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
-- bm25 weights: scope tag 0 (it matches every row of the scope), title 4, body 1, items 2.
INSERT INTO report_fts (report_fts, rank) VALUES ('rank', 'bm25(0.0, 4.0, 1.0, 2.0)');

CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports BEGIN
    INSERT INTO report_fts (rowid, scope_tag, title, body, items) VALUES ({_fts_row("new")});
END;
CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports BEGIN
    INSERT INTO report_fts (report_fts, rowid, scope_tag, title, body, items)
    VALUES ('delete', {_fts_row("old")});
END;
CREATE TRIGGER reports_fts_update
AFTER UPDATE OF scope, title, summary_title, text, items_text ON reports BEGIN
    INSERT INTO report_fts (report_fts, rowid, scope_tag, title, body, items)
    VALUES ('delete', {_fts_row("old")});
    INSERT INTO report_fts (rowid, scope_tag, title, body, items) VALUES ({_fts_row("new")});
END;
"""


V3_DDL = """
DROP TRIGGER IF EXISTS reports_fts_insert;
DROP TRIGGER IF EXISTS reports_fts_update;
-- Pending index terms kept in memory before FTS5 writes a segment: 16 MB instead of 1 MB, so a
-- batch of 1,000 reports makes one or two segments, not ~15 that are merged again at once.
-- Only a transaction's own terms are held (FTS5 writes them out at commit).
INSERT INTO report_fts (report_fts, rank) VALUES ('hashsize', 16777216);
"""

V4_DDL = """
ALTER TABLE reports ADD COLUMN merged_into INTEGER REFERENCES reports (id) ON DELETE SET NULL;

CREATE TABLE corrections (
    id              INTEGER PRIMARY KEY,
    report_id       INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    scope           INTEGER NOT NULL,
    user_id         INTEGER,
    created_at      TEXT    NOT NULL,  -- UTC, as reports.received_at
    kind            TEXT    NOT NULL
                            CHECK (kind IN ('move', 'drop', 'set_unit', 'set_date', 'set_period', 'merge')),
    -- the item (move/drop): its section, index and text in the summary the official saw
    section         TEXT    CHECK (section IN ('results', 'shortcomings', 'tasks')),
    item_index      INTEGER,
    item_text       TEXT,
    -- move: the new section; set_unit/set_period: the text; set_date: 'YYYY-MM-DD';
    -- merge: the id of the report merged into this one; NULL clears a unit/date/period
    value           TEXT
);
CREATE INDEX corrections_report ON corrections (report_id, id);

CREATE TABLE feedback (
    report_id       INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    vote            INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    created_at      TEXT    NOT NULL,  -- when the vote was last cast or changed
    PRIMARY KEY (report_id, user_id)
) WITHOUT ROWID;
"""

V5_DDL = """
CREATE TABLE inbox (
    id              INTEGER PRIMARY KEY,
    update_id       INTEGER NOT NULL,
    chat_id         INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    user_id         INTEGER,
    kind            TEXT    NOT NULL CHECK (kind IN ('text', 'document', 'photo')),
    text            TEXT,    -- the text, or the caption of a file
    file_id         TEXT,
    file_name       TEXT,
    file_size       INTEGER,
    forward_origin  TEXT,
    sent_at         TEXT    NOT NULL,  -- the message's date, UTC as reports.received_at
    received_at     TEXT    NOT NULL,
    update_json     TEXT    NOT NULL,  -- the update as Telegram sent it, replayed after a crash
    state           TEXT    NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'done')),
    report_id       INTEGER,
    done_at         TEXT,
    UNIQUE (chat_id, message_id)
);
CREATE INDEX inbox_new ON inbox (id) WHERE state = 'new';
"""

V6_DDL = """
CREATE TABLE deliveries_v6 (
    chat_id         INTEGER NOT NULL,
    period_key      TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('claimed', 'sending', 'sent')),
    claimed_at      TEXT    NOT NULL,
    sent_at         TEXT,
    owner           TEXT,    -- the DigestService instance that claimed the row
    note            TEXT,    -- why a 'sending' row is in doubt
    PRIMARY KEY (chat_id, period_key)
);
INSERT INTO deliveries_v6 (chat_id, period_key, state, claimed_at, sent_at, note)
SELECT chat_id, period_key, CASE state WHEN 'claimed' THEN 'sending' ELSE state END, claimed_at, sent_at,
       CASE state WHEN 'claimed' THEN 'claimed before schema v6: may have been sent' END
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v6 RENAME TO deliveries;

CREATE TABLE refusals (
    target_id       INTEGER PRIMARY KEY,  -- the user told (private chat) or the group told
    replied_at      TEXT    NOT NULL       -- UTC, as reports.received_at
);
"""

V7_DDL = """
CREATE TABLE replies (
    report_id       INTEGER PRIMARY KEY,
    replied_at      TEXT    NOT NULL       -- UTC, as reports.received_at
);
INSERT INTO replies (report_id, replied_at)
SELECT id, received_at FROM reports WHERE state = 'summarised';
"""

REPLY_ATTEMPTS_DDL = """
CREATE TABLE replies_attempts (
    report_id       INTEGER NOT NULL PRIMARY KEY,
    state           TEXT    NOT NULL CHECK (state IN ('unsent', 'sending', 'sent')),
    attempted_at    TEXT    NOT NULL,  -- UTC, as reports.received_at: when the last send started
    replied_at      TEXT,              -- when Telegram's answer was recorded ('sent')
    message_id      INTEGER,           -- Telegram's id of the brief ('sent'; NULL for rows of v7)
    note            TEXT               -- why a 'sending' row is in doubt, or why a send was refused
);
INSERT INTO replies_attempts (report_id, state, attempted_at, replied_at)
SELECT report_id, 'sent', replied_at, replied_at FROM replies;
DROP TABLE replies;
ALTER TABLE replies_attempts RENAME TO replies;
CREATE INDEX replies_open ON replies (report_id) WHERE state <> 'sent';
"""

# v9: replicas that agree. Each process start is a replica with a lease it renews (seconds since
# the epoch on the database's clock, so replicas on hosts whose clocks differ still agree); an
# inbox row belongs to the replica that wrote it, or took it over once its owner's lease ran out.
# send_slots: the 30 msg/s budget shared by every replica, one row per message of the last second.
# searches: the page buttons' keys, which lived in one process's memory.
REPLICAS_DDL = """
CREATE TABLE replicas (
    id              TEXT    PRIMARY KEY,   -- one process start (Repository.replica_id)
    name            TEXT,                  -- BOT_REPLICA_NAME: the same replica started again
    started_at      REAL    NOT NULL,
    lease_until     REAL    NOT NULL       -- its rows are anyone's after this
);
ALTER TABLE inbox ADD COLUMN owner TEXT;
CREATE INDEX inbox_owner ON inbox (owner, id) WHERE state = 'new';
CREATE TABLE send_slots (
    slot            INTEGER PRIMARY KEY,
    granted_at      REAL    NOT NULL
);
-- what a search's or a list's page buttons stand for (callback data holds 64 bytes, a key of 10):
-- any replica answers the next-page button, not only the one that sent the first page
CREATE TABLE searches (
    key             TEXT    PRIMARY KEY,
    scope           INTEGER NOT NULL,
    query           TEXT    NOT NULL,
    used_at         TEXT    NOT NULL
);
CREATE INDEX searches_used ON searches (used_at);
"""

FTS_INSERT = "INSERT INTO report_fts (rowid, scope_tag, title, body, items) VALUES (?, ?, ?, ?, ?)"
FTS_DELETE = (
    "INSERT INTO report_fts (report_fts, rowid, scope_tag, title, body, items) "
    "VALUES ('delete', ?, ?, ?, ?, ?)"
)


def fts_row(
    report_id: int,
    scope: int,
    title: str | None,
    summary_title: str | None,
    folded_text: str,
    items: str | None,
) -> tuple[int, str, str | None, str, str | None]:
    """Parameters of FTS_INSERT / FTS_DELETE for a report: what `_fts_row` computes in SQL. A
    'delete' must give exactly the values that were inserted, so both go through here. The text
    comes folded (the caller has folded it already, for the hash or for both old and new row).
    Titles and items are short: folding them uncached leaves the fold cache to report texts."""
    return (
        report_id,
        scope_tag(scope),
        fold(title if title is not None else summary_title),
        folded_text,
        fold(items),
    )


def items_text(summary_json: str) -> tuple[str | None, str]:
    """(title, items one per line) of a stored Summary JSON; tolerant of older shapes."""
    data = json.loads(summary_json)
    lines = [
        item["text"]
        for section in ("results", "shortcomings", "tasks")
        for item in data.get(section) or []
        if isinstance(item, dict) and item.get("text")
    ]
    return data.get("title"), "\n".join(lines)


async def _v1(conn: aiosqlite.Connection) -> None:
    for statement in _statements(V1_DDL):
        await conn.execute(statement)


async def _v2(conn: aiosqlite.Connection) -> None:
    statements = _statements(V2_DDL)
    # Columns first, backfill them, then create the index and triggers and fill the index.
    for statement in statements[:3]:
        await conn.execute(statement)
    rows = await conn.execute_fetchall(
        "SELECT r.id, s.summary_json FROM reports r JOIN summaries s ON s.id = r.summary_id"
    )
    for report_id, summary_json in rows:
        title, items = items_text(summary_json)
        await conn.execute(
            "UPDATE reports SET summary_title = ?, items_text = ? WHERE id = ?", (title, items, report_id)
        )
    for statement in statements[3:]:
        await conn.execute(statement)
    await conn.execute(
        "INSERT INTO report_fts (rowid, scope_tag, title, body, items) "
        f"SELECT {_fts_row('reports')} FROM reports"
    )
    terms: set[str] = set()
    async with conn.execute("SELECT title, summary_title, text, items_text FROM reports") as cursor:
        async for row in cursor:
            for text in row:
                terms |= vocabulary(text)
    await conn.executemany("INSERT OR IGNORE INTO search_terms (term) VALUES (?)", [(t,) for t in terms])


async def _v3(conn: aiosqlite.Connection) -> None:
    for statement in _statements(V3_DDL):
        await conn.execute(statement)


async def _v4(conn: aiosqlite.Connection) -> None:
    for statement in _statements(V4_DDL):
        await conn.execute(statement)


async def _v5(conn: aiosqlite.Connection) -> None:
    for statement in _statements(V5_DDL):
        await conn.execute(statement)


def _statements(script: str) -> list[str]:
    """Split a DDL script into statements (trigger bodies contain ';')."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete statement: {buf!r}")
    return out


async def _v6(conn: aiosqlite.Connection) -> None:
    for statement in _statements(V6_DDL):
        await conn.execute(statement)


async def _v7(conn: aiosqlite.Connection) -> None:
    for statement in _statements(V7_DDL):
        await conn.execute(statement)


async def _reply_attempts(conn: aiosqlite.Connection) -> None:
    for statement in _statements(REPLY_ATTEMPTS_DDL):
        await conn.execute(statement)


async def _replicas(conn: aiosqlite.Connection) -> None:
    for statement in _statements(REPLICAS_DDL):
        await conn.execute(statement)


async def _search_keys(conn: aiosqlite.Connection) -> None:
    """Nothing on SQLite: FTS5 compares positions in its own index (see PG_SEARCH_KEYS_DDL)."""


# continuations joined across replicas: the sender's tail (storage.models.SenderTail) by sender key
SENDER_TAILS_DDL = """
CREATE TABLE IF NOT EXISTS sender_tails (
    sender          TEXT    PRIMARY KEY,   -- bot.ingest's sender key ("sender:chat:user")
    report_id       INTEGER,               -- NULL: a long first piece refused on its own
    origin          TEXT,
    texts           TEXT    NOT NULL,      -- JSON list: the last piece (every piece while report_id is NULL)
    message_id      INTEGER NOT NULL,
    sent_at         REAL    NOT NULL,      -- Telegram's date of the last piece
    chars           INTEGER NOT NULL,
    reply           TEXT    NOT NULL,      -- JSON list: message ids of the answer to overwrite
    pieces          INTEGER NOT NULL,
    saved_at        TEXT    NOT NULL       -- UTC, as reports.received_at: pruning
);
CREATE INDEX IF NOT EXISTS sender_tails_saved ON sender_tails (saved_at);
CREATE INDEX IF NOT EXISTS inbox_new_sender ON inbox (chat_id, user_id, message_id) WHERE state = 'new';
"""


async def _sender_tails(conn: aiosqlite.Connection) -> None:
    for statement in _statements(SENDER_TAILS_DDL):
        await conn.execute(statement)


Migration = Callable[[aiosqlite.Connection], Awaitable[None]]
MIGRATIONS: list[Migration] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _reply_attempts, _replicas, _search_keys,
                               _sender_tails]
SCHEMA_VERSION = len(MIGRATIONS)


def pg_ddl(script: str) -> str:
    """SQLite DDL of this module in PostgreSQL's spelling: SQLite's INTEGER is 64-bit (chat ids
    need it), an INTEGER PRIMARY KEY is an identity column that still takes explicit ids (the
    import keeps them), and PostgreSQL has no WITHOUT ROWID."""
    script = re.sub(r"\bINTEGER\s+PRIMARY\s+KEY\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", script)
    script = re.sub(r"\bINTEGER\b", "BIGINT", script)
    return re.sub(r"\)\s*WITHOUT\s+ROWID", ")", script)


# v2 on PostgreSQL: the same columns and tables; the FTS5 index is a table of tsvectors. Its
# `truncated` flag marks a report whose tsvector lost positions (PostgreSQL keeps 16,383
# positions and 256 per term): storage.search_pg checks phrases in those in Python.
PG_V2_DDL = pg_ddl(
    V2_DDL.split("-- What snippet()")[0]  # the ALTERs, the lookup indexes and deliveries
) + """
CREATE TABLE report_fts (
    rowid           BIGINT  PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    scope_tag       TEXT    NOT NULL,
    doc             TSVECTOR NOT NULL,
    truncated       BOOLEAN NOT NULL DEFAULT FALSE
);
-- Most lexemes are common in a large corpus (pairs of words too): the default statistics keep
-- the 1,000 most common, and a pair in a quarter of the reports was then estimated rare.
ALTER TABLE report_fts ALTER COLUMN doc SET STATISTICS 10000;
CREATE INDEX report_fts_doc ON report_fts USING gin (doc);
CREATE INDEX report_fts_scope ON report_fts (scope_tag, rowid);
CREATE INDEX report_fts_truncated ON report_fts (rowid) WHERE truncated;
CREATE TABLE search_terms (term TEXT PRIMARY KEY);
"""

# (REAL is 4 bytes on PostgreSQL: epoch seconds need a double)
PG_REPLICAS_DDL = pg_ddl(REPLICAS_DDL.replace(" REAL ", " DOUBLE PRECISION "))
# v10 on PostgreSQL: `keys`, what the GIN index answers (storage.pg.tsvector): the terms, the grams
# of 2 and 3 adjacent terms ('~' first) and the slice of report ids, '#' || rowid / storage.pg.BUCKET;
# `doc` keeps the terms at their positions, unindexed. Rows already there get their grams from
# `doc`'s positions (adjacent positions are adjacent terms of one column; a report's truncated
# positions give it fewer grams, and its phrases are checked on the text anyway) and from the
# pairs `doc` held, which it loses. Statistics of `keys` at 1,000 (~7,000 lexemes kept, the rarest
# in 1.3% of the reports at 100k): search_pg.plan reads them, and the planner's estimate of every
# `keys @@` costs ~0.3 ms of planning (at 10,000, 18,700 lexemes: ~1 ms).
PG_SEARCH_KEYS_DDL = """
ALTER TABLE report_fts ADD COLUMN keys TSVECTOR NOT NULL DEFAULT '';
UPDATE report_fts SET
    keys = array_to_tsvector(
        ARRAY['#' || rowid / 1024]
        || ARRAY(SELECT CASE WHEN strpos(l, ' ') > 0 THEN '~' || l ELSE l END FROM unnest(tsvector_to_array(doc)) AS l)
        || ARRAY(
            SELECT '~' || g
            FROM (
                SELECT CASE WHEN lead(p) OVER w = p + 1 THEN l || ' ' || lead(l) OVER w END AS g2,
                       CASE WHEN lead(p, 2) OVER w = p + 2 THEN l || ' ' || lead(l) OVER w || ' ' || lead(l, 2) OVER w END AS g3
                FROM (SELECT lexeme AS l, unnest(positions) AS p FROM unnest(doc)) AS t
                WINDOW w AS (ORDER BY p)
            ) AS s, LATERAL (VALUES (g2), (g3)) AS v (g)
            WHERE g IS NOT NULL
        )
    ),
    doc = ts_delete(doc, ARRAY(SELECT lexeme FROM unnest(doc) WHERE strpos(lexeme, ' ') > 0));
DROP INDEX report_fts_doc;
ALTER TABLE report_fts ALTER COLUMN doc SET STATISTICS -1;
ALTER TABLE report_fts ALTER COLUMN keys SET STATISTICS 1000;
CREATE INDEX report_fts_keys ON report_fts USING gin (keys);
ANALYZE report_fts;
"""

PG_SENDER_TAILS_DDL = pg_ddl(SENDER_TAILS_DDL.replace(" REAL ", " DOUBLE PRECISION "))

PG_MIGRATIONS: list[str] = [
    pg_ddl(V1_DDL), PG_V2_DDL, "", pg_ddl(V4_DDL), pg_ddl(V5_DDL), pg_ddl(V6_DDL), pg_ddl(V7_DDL),
    pg_ddl(REPLY_ATTEMPTS_DDL), PG_REPLICAS_DDL, PG_SEARCH_KEYS_DDL, PG_SENDER_TAILS_DDL,
]
if len(PG_MIGRATIONS) != len(MIGRATIONS):
    raise RuntimeError("storage.schema: every migration needs its PostgreSQL twin in PG_MIGRATIONS")
PG_MIGRATE_LOCK = 0x6869_6E67_0002  # advisory lock: replicas starting together migrate once


async def migrate_pg(conn: Any) -> int:
    """`migrate` on PostgreSQL (an asyncpg connection): each step in its own transaction, under
    an advisory lock so that replicas starting at once migrate once; returns the version found."""
    await conn.execute("SELECT pg_advisory_lock($1)", PG_MIGRATE_LOCK)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        found = await conn.fetchval("SELECT max(version) FROM schema_version") or 0
        if found > SCHEMA_VERSION:
            raise RuntimeError(f"database schema v{found} is newer than this code (v{SCHEMA_VERSION})")
        for version, script in enumerate(PG_MIGRATIONS, start=1):
            if version <= found:
                continue
            async with conn.transaction():
                for statement in _statements(script):
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
        return int(found)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", PG_MIGRATE_LOCK)


async def register_functions(conn: aiosqlite.Connection) -> None:
    """SQL functions the delete trigger (and the v2 backfill) call; every connection that writes
    reports needs them."""
    await conn.create_function("fold", 1, fold_cached, deterministic=True)


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version found before migrating."""
    (found,) = (await conn.execute_fetchall("PRAGMA user_version"))[0]
    if found > SCHEMA_VERSION:
        raise RuntimeError(f"database schema v{found} is newer than this code (v{SCHEMA_VERSION})")
    for version, step in enumerate(MIGRATIONS, start=1):
        if version <= found:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            (current,) = (await conn.execute_fetchall("PRAGMA user_version"))[0]
            if current < version:
                await step(conn)
                await conn.execute(f"PRAGMA user_version = {version}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
    return found
