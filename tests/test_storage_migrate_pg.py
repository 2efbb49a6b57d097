"""storage.migrate_to_pg: a SQLite database (from an old schema version) moved into PostgreSQL
without loss: every row, the same search hits, ids that go on where they stopped."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from storage import NewReport, Repository, Subscription
from storage.migrate_to_pg import migrate
from storage.repository import InboxEntry
from summariser import summarise
from tests.pg_support import fresh_database, server_url
from tests.test_storage_migrations import make_v1_database

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
QUERIES = ["gia loc", '"nông thôn mới"', "GPMB", "Đảng bộ", "huyen", "kinh tế xã hội", "t"]


async def _fill(path: Path) -> dict[str, int]:
    """A v1 file (as v1 wrote it), upgraded by opening it, then everything the bot stores."""
    ids = make_v1_database(path)
    async with await Repository.open(path) as repo:
        stored = await repo.add_reports(
            NewReport(scope=-10, chat_id=-10, user_id=5, text=p.read_text(encoding="utf-8"), title=f"Seed {i}")
            for i, p in enumerate(SEEDS)
        )
        new_ids = [r.id for r, created in stored if created]
        await repo.save_summaries([(rid, summarise((await repo.get_report(-10, rid)).text)) for rid in new_ids[:3]])
        await repo.add_correction(new_ids[0], -10, 5, "set_unit", value="xã Tân Lập")
        await repo.set_feedback(new_ids[0], -10, 5, 1)
        await repo.set_feedback(new_ids[0], -10, 6, -1)
        # merged into a later report: the import must set merged_into after both exist
        await repo.merge_reports(new_ids[-1], new_ids[-2], -10, 5)
        await repo.ensure_user(5, "Chị Lan", "admin")
        await repo.ensure_user(6, "Anh Minh", "member")
        await repo.join_scope(-20, -10)
        await repo.upsert_subscription(Subscription(chat_id=-10, cadence="daily", skip_empty=True))
        assert await repo.claim_delivery(-10, "2024-W01")
        await repo.mark_delivered(-10, "2024-W01")
        await repo.inbox_add([InboxEntry(
            update_id=1, chat_id=-10, message_id=7, user_id=5, kind="text", text="Báo cáo nhanh",
            file_id=None, file_name=None, file_size=None, forward_origin=None,
            sent_at=datetime(2024, 1, 1, tzinfo=UTC), update_json="{}",
        )])
    return {"v1": len(ids), "merged": new_ids[-2], "into": new_ids[-1]}


async def test_sqlite_moves_to_postgres_without_loss(tmp_path: Path) -> None:
    server_url()
    path = tmp_path / "bot.sqlite3"
    info = await _fill(path)
    async with fresh_database() as url:
        out = io.StringIO()
        assert await migrate(str(path), url, out)
        report = out.getvalue()
        assert "OK: nothing lost" in report
        lines = {line.split()[0]: line.split()[1:] for line in report.splitlines() if line.split()}
        for table in ("reports", "summaries", "corrections", "feedback", "users", "inbox", "deliveries"):
            assert lines[table][0] == lines[table][1] and int(lines[table][0]) > 0, table
        sums = [line.split()[4] for line in report.splitlines() if line.startswith("report texts sha256")]
        assert len(sums) == 2 and sums[0] == sums[1]

        async with await Repository.open(path) as lite, await Repository.open(url) as pg:
            for rid in range(1, 20):
                assert await lite.get_report(-10, rid) == await pg.get_report(-10, rid)
                assert await lite.corrections(rid, -10) == await pg.corrections(rid, -10)
                assert await lite.feedback(rid, -10) == await pg.feedback(rid, -10)
            kept = await pg.get_report(-10, info["merged"])
            assert kept is not None
            assert await pg._rows("SELECT merged_into FROM reports WHERE id = ?", (info["merged"],)) == [(info["into"],)]
            assert await lite.list_users() == await pg.list_users()
            assert await lite.scope_of_chat(-20) == await pg.scope_of_chat(-20) == -10
            assert await lite.get_subscription(-10) == await pg.get_subscription(-10)
            assert await lite.deliveries() == await pg.deliveries()
            assert await lite.inbox_pending() == await pg.inbox_pending()
            assert await lite.unit_counts(-10) == await pg.unit_counts(-10)
            for query in QUERIES:
                a, b = await lite.search(-10, query, limit=50), await pg.search(-10, query, limit=50)
                assert {h.report_id for h in a.hits} == {h.report_id for h in b.hits}, query
                assert a.total == b.total
            # ids go on after the copied ones
            top = (await pg._rows("SELECT MAX(id) FROM reports"))[0][0]
            fresh, created = await pg.add_report(NewReport(scope=-10, chat_id=-10, text="Báo cáo mới sau khi chuyển"))
            assert created and fresh.id == top + 1
            fix = await pg.add_correction(fresh.id, -10, 5, "set_unit", value="xã Mới")
            assert fix.id is not None and fix.id > max(c.id or 0 for c in await lite.corrections(info["into"], -10))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "storage.migrate_to_pg", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


async def test_command_line_refuses_a_missing_file_and_a_full_target(tmp_path: Path) -> None:
    server_url()
    async with fresh_database() as url:
        missing = await asyncio.to_thread(_cli, str(tmp_path / "none.sqlite3"), url)
        assert missing.returncode == 2 and "no SQLite database" in missing.stderr
        assert not (tmp_path / "none.sqlite3").exists()
        path = tmp_path / "bot.sqlite3"
        await _fill(path)
        done = await asyncio.to_thread(_cli, str(path), url)
        assert done.returncode == 0, done.stderr
        assert "OK: nothing lost" in done.stdout and "report texts sha256 postgresql" in done.stdout
        again = await asyncio.to_thread(_cli, str(path), url)
        assert again.returncode == 2 and "already holds data" in again.stderr
        assert again.stderr.strip().count("\n") == 0
    bad = await asyncio.to_thread(_cli, str(tmp_path / "bot.sqlite3"), "mysql://x@h/db")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
