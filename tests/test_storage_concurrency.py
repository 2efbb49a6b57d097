"""Concurrent writers and readers never see "database is locked"."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from storage import NewReport, Repository
from summariser.models import Item, Summary

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def report(i: int, scope: int = 1) -> NewReport:
    text = SEEDS[i % len(SEEDS)].read_text(encoding="utf-8")
    return NewReport(scope=scope, chat_id=scope, text=f"Báo cáo số {i} của xã Tân Lập.\n{text}")


async def test_fifty_gathered_inserts_with_concurrent_readers(tmp_path: Path) -> None:
    async with await Repository.open(tmp_path / "db.sqlite3") as repo:
        writes = [repo.add_report(report(i)) for i in range(50)]
        reads = [repo.search(1, "tan lap") for _ in range(10)] + [repo.latest(1, 50) for _ in range(10)]
        results = await asyncio.gather(*writes, *reads)
        added = results[:50]
        assert all(created for _, created in added)
        assert len({stored.id for stored, _ in added}) == 50
        assert len(await repo.latest(1, 100)) == 50
        assert (await repo.search(1, "tan lap", limit=100)).total == 50
        # and summarising them all at once, with readers
        summaries = [
            repo.save_summary(stored.id, Summary(unit=f"xã {i}", tasks=[Item(text=f"Việc {i}")]))
            for i, (stored, _) in enumerate(added)
        ]
        await asyncio.gather(*summaries, *(repo.pending_reports() for _ in range(10)))
        assert await repo.pending_reports() == []
        assert len(await repo.section_items(1, "tasks")) == 50


async def test_gathered_duplicates_make_one_row(tmp_path: Path) -> None:
    async with await Repository.open(tmp_path / "db.sqlite3") as repo:
        results = await asyncio.gather(*(repo.add_report(report(7)) for _ in range(30)))
        assert sum(created for _, created in results) == 1
        assert len({stored.id for stored, _ in results}) == 1


async def test_two_repositories_on_one_file_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    a = await Repository.open(path)
    b = await Repository.open(path)
    try:
        await asyncio.gather(
            *(a.add_report(report(i)) for i in range(25)),
            *(b.add_report(report(i, scope=2)) for i in range(25)),
            *(a.search(2, "tan lap") for _ in range(5)),
            *(b.latest(1) for _ in range(5)),
        )
        assert len(await a.latest(2, 100)) == 25
        assert len(await b.latest(1, 100)) == 25
    finally:
        await a.close()
        await b.close()


async def test_writer_waits_for_another_process_lock(tmp_path: Path) -> None:
    """A writer holding the lock elsewhere makes us wait (busy_timeout), not fail."""
    path = tmp_path / "db.sqlite3"
    async with await Repository.open(path) as repo:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO users (id, role, created_at) VALUES (1, 'member', '2024-01-01T00:00:00.000000Z')"
        )
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, other.execute, "COMMIT")
        stored, created = await repo.add_report(report(1))
        user = await repo.get_user(1)
        other.close()
        assert created and (await repo.get_report(1, stored.id)) is not None
        assert user is not None  # the other writer's transaction committed first
