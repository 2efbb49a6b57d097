"""Schema versions: a database made by schema v1 is upgraded on open with its data intact."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from storage import NewReport, Repository
from storage.folding import lookup_key, text_sha256
from storage.repository import InboxEntry
from storage.schema import SCHEMA_VERSION, V1_DDL
from summariser.models import Item, Summary
from tests.test_storage_search import index_instances

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))

# v1 shipped: its DDL must never change (append a migration instead).
V1_DDL_SHA256 = "71aba4f50dd29cedbc2fec4ef2f1c302f5361e6740811a21899308609b0af39b"


def test_v1_ddl_is_frozen() -> None:
    assert hashlib.sha256(V1_DDL.encode()).hexdigest() == V1_DDL_SHA256


def make_v1_database(path: Path) -> dict[str, int]:
    """A database exactly as schema v1 wrote it, with a summarised and a pending report."""
    raw = sqlite3.connect(path)
    raw.executescript(V1_DDL)
    raw.execute("PRAGMA user_version = 1")
    text0 = SEEDS[0].read_text(encoding="utf-8")
    text1 = SEEDS[1].read_text(encoding="utf-8")
    insert = (
        "INSERT INTO reports (scope, chat_id, user_id, sha256, received_at, source_kind, title, text, state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    done = raw.execute(
        insert,
        (-10, -10, 5, text_sha256(text0), "2024-01-02T03:04:05.000000Z", "text", None, text0, "summarised"),
    ).lastrowid
    pending = raw.execute(
        insert,
        (
            -10,
            -10,
            5,
            text_sha256(text1),
            "2024-01-03T03:04:05.000000Z",
            "url",
            "Bình Gia",
            text1,
            "received",
        ),
    ).lastrowid
    old_summary = {
        "unit": "huyện Gia Lộc",
        "date": "2023-10-05",
        "period": "9 tháng năm 2023",
        "title": "Hội nghị lần thứ 24",
        "tasks": [{"text": "Cấp nước sạch cho bản Khuổi Luông"}],
        "shortcomings": [{"text": "Tiến độ xây dựng nông thôn mới chậm"}],
        "engine": "extractive",
        "engine_version": "0.1",
    }
    summary_id = raw.execute(
        "INSERT INTO summaries (report_id, engine, engine_version, summary_json, created_at) VALUES (?,?,?,?,?)",
        (
            done,
            "extractive",
            "0.1",
            json.dumps(old_summary, ensure_ascii=False),
            "2024-01-02T03:05:00.000000Z",
        ),
    ).lastrowid
    raw.execute(
        "UPDATE reports SET summary_id = ?, unit = ?, unit_key = ?, meeting_date = ?, period = ?, period_key = ? "
        "WHERE id = ?",
        (
            summary_id,
            "huyện Gia Lộc",
            lookup_key("huyện Gia Lộc"),
            "2023-10-05",
            "9 tháng năm 2023",
            lookup_key("9 tháng năm 2023"),
            done,
        ),
    )
    raw.execute(
        "INSERT INTO users VALUES (5, 'admin', 'Chị Lan', 'huyện Gia Lộc', 'vi', '2024-01-01T00:00:00.000000Z')"
    )
    raw.execute("INSERT INTO chat_scopes VALUES (-11, -10)")
    raw.execute(
        "INSERT INTO subscriptions VALUES (-10, 'weekly', 0, '07:30', 'Asia/Ho_Chi_Minh', 1, '2024-01-01T00:00:00.000000Z')"
    )
    raw.commit()
    raw.close()
    return {"done": done, "pending": pending}


async def test_v1_database_upgrades_with_data_intact(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    ids = make_v1_database(path)

    async with await Repository.open(path) as repo:
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            # v3: the repository writes index rows itself; only deletions go through a trigger
            triggers = raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
            assert triggers == [("reports_fts_delete",)]
        done = await repo.get_report(-10, ids["done"])
        assert done is not None and done.summary is not None
        assert done.text == SEEDS[0].read_text(encoding="utf-8")
        assert done.unit == "huyện Gia Lộc" and done.meeting_date == date(2023, 10, 5)
        assert done.title == "Hội nghị lần thứ 24"  # summary title, backfilled
        assert [t.text for t in done.summary.tasks] == ["Cấp nước sạch cho bản Khuổi Luông"]
        assert [r.id for r in await repo.pending_reports()] == [ids["pending"]]
        assert [r.id for r in await repo.by_unit(-10, "gia loc")] == [ids["done"]]
        # the index was backfilled: report text, summary items and titles are searchable
        assert [h.report_id for h in (await repo.search(-10, "giai phong mat bang")).hits]
        assert [h.report_id for h in (await repo.search(-10, "khuoi luong")).hits] == [ids["done"]]
        assert (await repo.search(-10, "binh gia")).hits[0].report_id == ids["pending"]
        assert (await repo.search(-11, "khuoi luong")).total == 0
        # other tables
        user = await repo.get_user(5)
        assert user is not None and user.role == "admin" and user.default_unit == "huyện Gia Lộc"
        assert await repo.scope_of_chat(-11) == -10
        sub = await repo.get_subscription(-10)
        assert sub is not None and sub.active and not sub.skip_empty and sub.time_of_day == "07:30"
        # what v2 added works, and the old sha256 still detects duplicates
        assert await repo.claim_delivery(-10, "weekly:2024-01-08")
        _, created = await repo.add_report(
            NewReport(scope=-10, chat_id=-10, text=SEEDS[0].read_text(encoding="utf-8"))
        )
        assert not created
        new, created = await repo.add_report(
            NewReport(scope=-10, chat_id=-10, text=SEEDS[2].read_text(encoding="utf-8"))
        )
        assert created and (await repo.search(-10, "Chi Lăng")).hits[0].report_id == new.id
        assert await repo.delete_report(-10, ids["done"])
        assert (await repo.search(-10, "khuoi luong")).total == 0
        # v3 writes index rows itself: a summary replaces the row the v2 backfill wrote
        await repo.save_summary(ids["pending"], Summary(tasks=[Item(text="Nạo vét kênh Nà Pàn")]))
        assert [h.report_id for h in (await repo.search(-10, "na pan")).hits] == [ids["pending"]]
    kept, rebuilt = index_instances(path)
    assert kept and kept == rebuilt

    # reopening an up-to-date database changes nothing
    async with await Repository.open(path) as repo:
        assert len(await repo.latest(-10, 10)) == 2


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        await Repository.open(path)


async def test_failed_migration_leaves_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite3"
    make_v1_database(path)
    with sqlite3.connect(path) as raw:  # a column v2 wants to add already exists: v2 fails
        raw.execute("ALTER TABLE reports ADD COLUMN items_text TEXT")
    with pytest.raises(sqlite3.OperationalError):
        await Repository.open(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
        assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'deliveries'").fetchone()[0] == 0


async def test_two_openers_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "race.sqlite3"
    a, b = await asyncio.gather(Repository.open(path), Repository.open(path))
    try:
        stored, _ = await a.add_report(NewReport(scope=1, chat_id=1, text="Hội nghị giao ban"))
        assert (await b.get_report(1, stored.id)) is not None
        assert (await b.search(1, "giao ban")).total == 1
    finally:
        await a.close()
        await b.close()


async def test_v6_keeps_deliveries_and_treats_old_claims_as_possibly_sent(tmp_path: Path) -> None:
    """Before v6 a claim was taken right before sending, so a row left 'claimed' may have gone
    out: it becomes 'sending' (never resent). 'sent' rows stay; the refusals table is new."""
    import aiosqlite

    from storage.schema import MIGRATIONS, register_functions

    path = tmp_path / "v5.sqlite3"
    async with aiosqlite.connect(path) as conn:
        await register_functions(conn)
        for version, step in enumerate(MIGRATIONS[:5], start=1):
            await step(conn)
            await conn.execute(f"PRAGMA user_version = {version}")
        await conn.execute(
            "INSERT INTO deliveries VALUES (1, 'weekly:2026-11-23', 'claimed', '2026-11-23T00:30:01.000000Z', NULL)"
        )
        await conn.execute(
            "INSERT INTO deliveries VALUES (2, 'weekly:2026-11-23', 'sent', '2026-11-23T00:30:01.000000Z', "
            "'2026-11-23T00:30:02.000000Z')"
        )
        await conn.commit()

    async with await Repository.open(path) as repo:
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 6
        old_claim = await repo.get_delivery(1, "weekly:2026-11-23")
        assert old_claim is not None and old_claim.state == "sending" and "may have been sent" in (old_claim.note or "")
        sent = await repo.get_delivery(2, "weekly:2026-11-23")
        assert sent is not None and sent.state == "sent" and sent.sent_at is not None
        assert not await repo.claim_delivery(1, "weekly:2026-11-23", owner="new process")
        # the new states work
        assert await repo.claim_delivery(3, "weekly:2026-11-23", owner="a")
        await repo.mark_sending(3, "weekly:2026-11-23")
        delivery = await repo.get_delivery(3, "weekly:2026-11-23")
        assert delivery is not None and delivery.state == "sending"
        await repo.unmark_sending(3, "weekly:2026-11-23")
        delivery = await repo.get_delivery(3, "weekly:2026-11-23")
        assert delivery is not None and delivery.state == "claimed"
        assert await repo.refusal_due(42, datetime(2026, 11, 23, tzinfo=UTC), 600)


async def test_v7_counts_every_report_summarised_before_it_as_answered(tmp_path: Path) -> None:
    """A database from before v7 knows nothing of replies: its summarised reports were answered
    (or long ago) and must not be sent again at start-up; a report summarised after the upgrade
    without a reply is what start-up sends."""
    path = tmp_path / "v1.sqlite3"
    ids = make_v1_database(path)
    async with await Repository.open(path) as repo:
        assert await repo.unreplied_reports(within=timedelta(days=100_000)) == []
        pending = await repo.get_report(-10, ids["pending"])
        assert pending is not None
        await repo.save_summary(pending.id, Summary(results=[Item(text="Thu ngân sách đạt 81,2% dự toán")]))
        assert await repo.unreplied_reports(within=timedelta(days=100_000)) == []  # not from a chat: nobody waits
        await repo.inbox_add([InboxEntry(1, -10, 7, 5, "text", "…", None, None, None, None, datetime.now(UTC), "{}")])
        await repo.inbox_done(-10, [7], pending.id)
        assert [r.id for r in await repo.unreplied_reports(within=timedelta(days=100_000))] == [pending.id]
        await repo.mark_replied(pending.id)
        await repo.mark_replied(pending.id)  # twice is harmless
        assert await repo.unreplied_reports(within=timedelta(days=100_000)) == []


async def _database_before_reply_attempts(backend: str, url: str) -> int:
    """A database at the step before reply attempts, with one report answered under the old
    replies table (report_id, replied_at)."""
    from storage.schema import MIGRATIONS, PG_MIGRATIONS, _reply_attempts, _statements, register_functions

    steps = MIGRATIONS.index(_reply_attempts)
    report = ("INSERT INTO reports (scope, chat_id, user_id, sha256, received_at, source_kind, text, state) "
              "VALUES (5, 5, 5, 'x', '2026-12-01T00:00:00.000000Z', 'text', 'Hội nghị', 'summarised')")
    reply = "INSERT INTO replies (report_id, replied_at) VALUES ({}, '2026-12-01T00:00:01.000000Z')"
    if backend == "sqlite":
        import aiosqlite

        async with aiosqlite.connect(url) as conn:
            await register_functions(conn)
            for version, step in enumerate(MIGRATIONS[:steps], start=1):
                await step(conn)
                await conn.execute(f"PRAGMA user_version = {version}")
            report_id = (await conn.execute(report)).lastrowid
            await conn.execute(reply.format(report_id))
            await conn.commit()
        assert report_id is not None
        return report_id
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version, script in enumerate(PG_MIGRATIONS[:steps], start=1):
            for statement in _statements(script):
                await conn.execute(statement)
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
        report_id = int(await conn.fetchval(report + " RETURNING id"))
        await conn.execute(reply.format(report_id))
    finally:
        await conn.close()
    return report_id


async def test_replies_answered_before_attempts_were_recorded_stay_sent(backend: str, tmp_path: Path) -> None:
    """Rows of the old replies table are replies that went out: 'sent' (no message id known),
    never resent nor in doubt; the new states work on the upgraded table."""
    from tests.pg_support import database

    async with database(backend, tmp_path) as url:
        report_id = await _database_before_reply_attempts(backend, url)
        async with await Repository.open(url) as repo:
            old = await repo.get_reply(report_id)
            assert old is not None and (old.state, old.message_id, old.chat_id) == ("sent", None, 5)
            assert old.replied_at == old.attempted_at == datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
            assert await repo.replies_in_doubt(within=timedelta(days=100_000)) == []
            stored, _ = await repo.add_report(NewReport(scope=5, chat_id=5, user_id=5, text="Hội nghị tổng kết"))
            await repo.reply_sending(stored.id)
            assert [a.report_id for a in await repo.replies_in_doubt()] == [stored.id]
