"""Sender tails and the per-sender order across replicas (issue 14, continuations joined by any
replica): the tail table on both backends, the sender lock and the inbox look-up on PostgreSQL
(the PostgreSQL half skips, saying why, when no server can start)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import Repository
from storage.models import SenderTail
from storage.repository import InboxEntry
from storage.schema import SCHEMA_VERSION
from tests.pg_support import fresh_database

CHAT = 5151


def tail(report_id: int | None, message_id: int, **kw: object) -> SenderTail:
    fields: dict[str, object] = {"report_id": report_id, "origin": None, "texts": ["đạt 95% kế hoạch và"],
                                 "message_id": message_id, "date": 1_700_000_000.0, "chars": 4100,
                                 "reply": [11, 12], "pieces": 1}
    fields.update(kw)
    return SenderTail.model_validate(fields)


def entry(message_id: int, user_id: int = CHAT, kind: str = "text") -> InboxEntry:
    return InboxEntry(update_id=message_id, chat_id=CHAT, message_id=message_id, user_id=user_id, kind=kind,
                      text=f"tin {message_id}", file_id=None, file_name=None, file_size=None, forward_origin=None,
                      sent_at=datetime.now(UTC), update_json="{}")


async def test_a_tail_saved_by_one_repository_is_read_by_another(db_url: str) -> None:
    one, two = await Repository.open(db_url), await Repository.open(db_url)
    try:
        assert await two.get_tail("sender:1:2") is None
        await one.put_tail("sender:1:2", tail(7, 100, origin="Huyện ủy Gia Lộc", texts=["a", "bé"]),
                           keep=timedelta(minutes=1))
        got = await two.get_tail("sender:1:2")
        assert got == tail(7, 100, origin="Huyện ủy Gia Lộc", texts=["a", "bé"])
        # replaced, not added: one row per sender
        await two.put_tail("sender:1:2", tail(None, 101, reply=[], pieces=2), keep=timedelta(minutes=1))
        assert await one.get_tail("sender:1:2") == tail(None, 101, reply=[], pieces=2)
        assert (await one._rows("SELECT COUNT(*) FROM sender_tails"))[0][0] == 1
        await one.drop_tail("sender:1:2")
        assert await two.get_tail("sender:1:2") is None
    finally:
        await one.close()
        await two.close()


async def test_old_tails_are_pruned_when_a_tail_is_saved(db_url: str) -> None:
    repo = await Repository.open(db_url)
    try:
        await repo.put_tail("sender:1:1", tail(1, 1), keep=timedelta(seconds=0.2))
        await repo.put_tail("sender:1:2", tail(2, 2), keep=timedelta(seconds=0.2))
        await asyncio.sleep(0.3)
        await repo.put_tail("sender:1:3", tail(3, 3), keep=timedelta(seconds=0.2))
        rows = await repo._rows("SELECT sender FROM sender_tails ORDER BY sender")
        assert [r[0] for r in rows] == ["sender:1:3"]
    finally:
        await repo.close()


async def test_the_tail_table_comes_with_the_schema(tmp_path: Path) -> None:
    repo = await Repository.open(tmp_path / "bot.sqlite3")
    try:
        (version,) = (await repo._rows("PRAGMA user_version"))[0]
        assert version == SCHEMA_VERSION
        names = {r[0] for r in await repo._rows("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
        assert {"sender_tails", "sender_tails_saved", "inbox_new_sender"} <= names
    finally:
        await repo.close()


async def test_on_sqlite_the_sender_lock_and_the_inbox_look_up_cost_nothing(tmp_path: Path) -> None:
    repo = await Repository.open(tmp_path / "bot.sqlite3")
    try:
        await repo.join_replicas(lease=60)
        assert await repo.lock_sender("sender:1:2") and await repo.lock_sender("sender:1:2")
        await repo.unlock_sender("sender:1:2")
        await repo.inbox_add([entry(1)])
        assert not await repo.inbox_waiting_before(CHAT, CHAT, 2)  # one process: its own order holds
    finally:
        await repo.close()


async def test_the_sender_lock_holds_across_replicas_and_frees_when_its_holder_dies() -> None:
    async with fresh_database() as url:
        one, two = await Repository.open(url), await Repository.open(url)
        try:
            assert await one.lock_sender("sender:1:2")
            started = time.monotonic()
            assert not await two.lock_sender("sender:1:2", timeout=0.3)  # held by the other replica
            assert time.monotonic() - started >= 0.3
            assert await two.lock_sender("sender:1:3", timeout=0.3)  # another sender: free
            waiter = asyncio.create_task(two.lock_sender("sender:1:2", timeout=5))
            await asyncio.sleep(0.1)
            assert not waiter.done()
            await one.unlock_sender("sender:1:2")
            assert await asyncio.wait_for(waiter, 2)
            # the holder's connection dies (a SIGKILLed replica): the lock is free at once
            assert one._order_conn is not None
            await two.unlock_sender("sender:1:2")
            assert await one.lock_sender("sender:1:2")
            one._order_conn.terminate()
            assert await two.lock_sender("sender:1:2", timeout=2)
        finally:
            await one.close()
            await two.close()


async def test_an_earlier_piece_is_waited_for_only_while_a_live_replica_holds_it() -> None:
    async with fresh_database() as url:
        one, two = await Repository.open(url), await Repository.open(url)
        try:
            await one.join_replicas(lease=60)
            await two.join_replicas(lease=60)
            await one.inbox_add([entry(10), entry(20, user_id=999), entry(21, kind="document")])
            assert await two.inbox_waiting_before(CHAT, CHAT, 11)
            assert not await two.inbox_waiting_before(CHAT, CHAT, 10)  # only earlier messages
            assert not await one.inbox_waiting_before(CHAT, CHAT, 11)  # its own: ordered in its process
            assert not await two.inbox_waiting_before(CHAT, 998, 30)  # another sender's, a file's
            await one.inbox_done(CHAT, [10])
            assert not await two.inbox_waiting_before(CHAT, CHAT, 11)  # handled
            await one.inbox_add([entry(12)])
            assert await two.inbox_waiting_before(CHAT, CHAT, 13)
            await one.leave_replicas()  # dead: taken over later, not waited for
            assert not await two.inbox_waiting_before(CHAT, CHAT, 13)
        finally:
            await one.close()
            await two.close()
