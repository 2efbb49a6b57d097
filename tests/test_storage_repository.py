"""Repository: reports, summaries, recovery, users, scopes, subscriptions, deliveries."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from storage import NewReport, Repository, Subscription, User
from storage.repository import InboxEntry
from summariser import summarise
from summariser.models import Item, Summary

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def seed(i: int) -> str:
    return SEEDS[i].read_text(encoding="utf-8")


@pytest.fixture
async def repo(any_repo: Repository) -> AsyncIterator[Repository]:
    """Every test taking `repo` runs on SQLite and on PostgreSQL (tests/pg_support.py)."""
    yield any_repo


def summary(
    unit: str, day: date | None = None, *, tasks: list[str] | None = None, engine: str = "x"
) -> Summary:
    return Summary(
        unit=unit,
        date=day,
        period="9 tháng năm 2023",
        tasks=[Item(text=t) for t in tasks or []],
        engine=engine,
        engine_version="1.0",
    )


async def test_open_creates_folder_and_sets_wal(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "bot.sqlite3"
    repo = await Repository.open(path)
    await repo.close()
    assert path.exists()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] >= 2


async def test_memory_database_works() -> None:
    async with await Repository.open(":memory:") as repo:
        stored, created = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(0)))
        assert created
        assert (await repo.get_report(1, stored.id)) is not None


async def test_add_report_round_trip(repo: Repository) -> None:
    received = datetime(2024, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=7)))
    new = NewReport(
        scope=-100,
        chat_id=-100,
        user_id=7,
        source_kind="document",
        file_name="bao-cao.docx",
        title="Hội nghị BCH",
        text=seed(1),
        received_at=received,
    )
    stored, created = await repo.add_report(new)
    assert created
    assert stored.state == "received"
    assert stored.received_at == received
    got = await repo.get_report(-100, stored.id)
    assert got is not None
    assert got.model_dump() == stored.model_dump()
    assert got.received_at.tzinfo is not None
    assert got.text == seed(1)
    assert got.file_name == "bao-cao.docx" and got.source_kind == "document" and got.user_id == 7


async def test_naive_received_at_is_taken_as_utc(repo: Repository) -> None:
    stored, _ = await repo.add_report(
        NewReport(scope=1, chat_id=1, text=seed(0), received_at=datetime(2024, 1, 2, 3, 4, 5))
    )
    assert stored.received_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_duplicate_in_same_scope_returns_existing(repo: Repository) -> None:
    first, created = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(0)))
    assert created
    again, created_again = await repo.add_report(
        NewReport(scope=1, chat_id=2, source_kind="forward", text="  " + seed(0).replace("\n", "\n\n"))
    )
    assert not created_again
    assert again.id == first.id
    assert again.chat_id == 1  # the existing report, not the new one
    other, created_other = await repo.add_report(NewReport(scope=2, chat_id=2, text=seed(0)))
    assert created_other and other.id != first.id
    assert len(await repo.latest(1, 10)) == 1


async def test_add_reports_batch_keeps_order_and_flags_duplicates(repo: Repository) -> None:
    batch = [NewReport(scope=1, chat_id=1, text=seed(i)) for i in (0, 1, 0, 2)]
    results = await repo.add_reports(batch)
    assert [created for _, created in results] == [True, True, False, True]
    assert results[2][0].id == results[0][0].id
    assert len({r.id for r, _ in results}) == 3
    assert len(await repo.latest(1, 10)) == 3


async def test_save_summary_keeps_history_newest_wins(repo: Repository, tmp_path: Path) -> None:
    stored, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(0)))
    await repo.save_summary(stored.id, summary("huyện Gia Lộc", date(2023, 10, 5), engine="old"))
    await repo.save_summary(stored.id, summary("huyện Bình Giang", date(2023, 10, 6), engine="new"))
    got = await repo.get_report(1, stored.id)
    assert got is not None and got.summary is not None
    assert got.state == "summarised"
    assert got.unit == "huyện Bình Giang"
    assert got.meeting_date == date(2023, 10, 6)
    assert got.engine == "new" and got.engine_version == "1.0"
    assert got.summarised_at is not None
    engines = [r[0] for r in await repo._rows("SELECT engine FROM summaries ORDER BY id")]
    assert engines == ["old", "new"]
    assert [r.id for r in await repo.by_unit(1, "binh giang")] == [stored.id]
    assert await repo.by_unit(1, "gia loc") == []


async def test_save_summary_of_real_summariser_output_round_trips(repo: Repository) -> None:
    text = seed(3)
    stored, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=text))
    result = summarise(text)
    await repo.save_summary(stored.id, result)
    got = await repo.get_report(1, stored.id)
    assert got is not None and got.summary == result


async def test_save_summary_of_missing_report_raises(repo: Repository) -> None:
    with pytest.raises(KeyError):
        await repo.save_summary(12345, summary("x"))


async def test_mark_failed_and_retry(repo: Repository) -> None:
    stored, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(0)))
    await repo.mark_failed(stored.id, "engine crashed")
    got = await repo.get_report(1, stored.id)
    assert got is not None and got.state == "failed" and got.error == "engine crashed"
    assert await repo.pending_reports() == []
    await repo.save_summary(stored.id, summary("xã A"))
    got = await repo.get_report(1, stored.id)
    assert got is not None and got.state == "summarised" and got.error is None


async def test_get_and_delete_respect_scope(repo: Repository) -> None:
    stored, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(0)))
    await repo.save_summary(stored.id, summary("xã A", tasks=["Làm đường"]))
    assert await repo.get_report(2, stored.id) is None
    assert not await repo.delete_report(2, stored.id)
    assert await repo.get_report(1, stored.id) is not None
    assert await repo.delete_report(1, stored.id)
    assert await repo.get_report(1, stored.id) is None
    assert not await repo.delete_report(1, stored.id)
    assert (await repo.search(1, "Gia Lộc")).total == 0
    # the same text can come again after deletion
    _, created = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(0)))
    assert created


async def test_latest_newest_first_and_limited(repo: Repository) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    ids = []
    for i in range(5):
        stored, _ = await repo.add_report(
            NewReport(scope=1, chat_id=1, text=seed(i), received_at=base + timedelta(days=i))
        )
        ids.append(stored.id)
    assert [r.id for r in await repo.latest(1, 3)] == ids[::-1][:3]
    assert [r.id for r in await repo.latest(1)] == ids[::-1]


async def test_crash_recovery_lists_unsummarised_reports_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    repo = await Repository.open(path)
    done, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(0)))
    await repo.save_summary(done.id, summary("xã A"))
    pending_a, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(1)))
    pending_b, _ = await repo.add_report(NewReport(scope=-5, chat_id=-5, text=seed(2)))
    await repo.close()  # "crash" between writing and summarising

    repo = await Repository.open(path)
    pending = await repo.pending_reports()
    assert [r.id for r in pending] == [pending_a.id, pending_b.id]
    assert {r.scope for r in pending} == {1, -5}
    assert pending[0].text == seed(1)
    await repo.save_summary(pending_a.id, summary("xã B"))
    assert [r.id for r in await repo.pending_reports()] == [pending_b.id]
    await repo.close()


# --- users -----------------------------------------------------------------------------------


async def test_ensure_user_creates_once_and_never_changes_role(repo: Repository) -> None:
    user, created = await repo.ensure_user(10, "Nguyễn Văn A", "admin")
    assert created and user.role == "admin" and user.created_at is not None
    again, created_again = await repo.ensure_user(10, "Nguyễn Văn An", "pending")
    assert not created_again
    assert again.role == "admin"
    assert again.display_name == "Nguyễn Văn An"
    kept, _ = await repo.ensure_user(10, None, "blocked")
    assert kept.display_name == "Nguyễn Văn An" and kept.role == "admin"
    assert await repo.get_user(11) is None


async def test_set_role_and_list_users(repo: Repository) -> None:
    await repo.ensure_user(1, "A", "admin")
    await repo.ensure_user(2, "B", "pending")
    await repo.ensure_user(3, "C", "pending")
    updated = await repo.set_role(2, "member")
    assert updated is not None and updated.role == "member"
    assert await repo.set_role(99, "member") is None
    assert [u.id for u in await repo.list_users()] == [1, 2, 3]
    assert [u.id for u in await repo.list_users("pending")] == [3]
    assert [u.id for u in await repo.list_users("blocked")] == []


async def test_update_user_keeps_role(repo: Repository) -> None:
    await repo.ensure_user(5, "A", "member")
    await repo.update_user(
        User(id=5, role="admin", display_name="B", default_unit="xã Tân Lập", language="en")
    )
    user = await repo.get_user(5)
    assert user is not None
    assert (user.role, user.display_name, user.default_unit, user.language) == (
        "member",
        "B",
        "xã Tân Lập",
        "en",
    )
    await repo.update_user(User(id=6, role="pending", display_name="New"))
    created = await repo.get_user(6)
    assert created is not None and created.role == "pending" and created.display_name == "New"


# --- scopes ----------------------------------------------------------------------------------


async def test_scope_of_chat_and_join(repo: Repository) -> None:
    assert await repo.scope_of_chat(-200) == -200
    await repo.join_scope(-200, -1000)
    await repo.join_scope(-300, -1000)
    assert await repo.scope_of_chat(-200) == -1000
    assert await repo.scope_of_chat(-300) == -1000
    assert await repo.scope_of_chat(-1000) == -1000
    # joining to a chat that is itself joined lands in that chat's scope
    await repo.join_scope(-400, -200)
    assert await repo.scope_of_chat(-400) == -1000
    # undo
    await repo.join_scope(-200, -200)
    assert await repo.scope_of_chat(-200) == -200
    assert await repo.scope_of_chat(-300) == -1000


async def test_join_scope_moves_chats_that_followed(repo: Repository) -> None:
    await repo.join_scope(-2, -1)
    await repo.join_scope(-1, -9)  # -1 joins an organisation: -2 (which shared -1) follows
    assert await repo.scope_of_chat(-2) == -9
    assert await repo.scope_of_chat(-1) == -9
    await repo.join_scope(-9, -1)  # no cycles: -9 becomes the scope's root again
    assert {await repo.scope_of_chat(c) for c in (-1, -2, -9)} == {await repo.scope_of_chat(-9)}


# --- subscriptions ----------------------------------------------------------------------------


async def test_subscriptions_upsert_get_active_deactivate(repo: Repository) -> None:
    assert await repo.get_subscription(1) is None
    first = await repo.upsert_subscription(Subscription(chat_id=1, weekday=4, time_of_day="08:00"))
    assert first.created_at is not None and first.weekday == 4 and first.active
    changed = await repo.upsert_subscription(
        Subscription(chat_id=1, cadence="daily", time_of_day="17:15", skip_empty=True)
    )
    assert changed.cadence == "daily" and changed.time_of_day == "17:15" and changed.skip_empty
    assert changed.created_at == first.created_at
    await repo.upsert_subscription(Subscription(chat_id=-2, timezone="UTC"))
    assert [s.chat_id for s in await repo.active_subscriptions()] == [-2, 1]
    await repo.deactivate_subscription(1)
    assert [s.chat_id for s in await repo.active_subscriptions()] == [-2]
    got = await repo.get_subscription(1)
    assert got is not None and not got.active and got.cadence == "daily"


async def test_subscription_weekday_is_checked(repo: Repository) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await repo.upsert_subscription(Subscription(chat_id=1, weekday=7))
    assert await repo.get_subscription(1) is None
    # the failed transaction was rolled back: the next write works
    assert (await repo.upsert_subscription(Subscription(chat_id=1, weekday=6))).weekday == 6


# --- deliveries -----------------------------------------------------------------------------


async def test_claim_delivery_is_exactly_once(repo: Repository) -> None:
    assert await repo.claim_delivery(1, "weekly:2026-11-23")
    assert not await repo.claim_delivery(1, "weekly:2026-11-23")
    assert await repo.claim_delivery(2, "weekly:2026-11-23")
    assert await repo.claim_delivery(1, "weekly:2026-11-30")
    claimed = await repo.get_delivery(1, "weekly:2026-11-23")
    assert claimed is not None and claimed.state == "claimed" and claimed.sent_at is None
    await repo.mark_delivered(1, "weekly:2026-11-23")
    sent = await repo.get_delivery(1, "weekly:2026-11-23")
    assert sent is not None and sent.state == "sent" and sent.sent_at is not None
    # a sent delivery is never released nor claimed again
    await repo.release_delivery(1, "weekly:2026-11-23")
    assert not await repo.claim_delivery(1, "weekly:2026-11-23")
    assert [d.period_key for d in await repo.deliveries(1)] == ["weekly:2026-11-23", "weekly:2026-11-30"]
    assert len(await repo.deliveries()) == 3


async def test_release_delivery_lets_a_later_run_claim(repo: Repository) -> None:
    assert await repo.claim_delivery(1, "daily:2026-11-23")
    await repo.release_delivery(1, "daily:2026-11-23")
    assert await repo.get_delivery(1, "daily:2026-11-23") is None
    assert await repo.claim_delivery(1, "daily:2026-11-23")


async def test_concurrent_claims_only_one_wins(repo: Repository) -> None:
    import asyncio

    results = await asyncio.gather(*(repo.claim_delivery(7, "weekly:x") for _ in range(20)))
    assert sum(results) == 1


async def test_save_summaries_batch_is_all_or_nothing(repo: Repository) -> None:
    a, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(0)))
    b, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(1)))
    with pytest.raises(KeyError):
        await repo.save_summaries([(a.id, summary("xã A")), (999, summary("xã Z"))])
    assert [r.id for r in await repo.pending_reports()] == [a.id, b.id]
    await repo.save_summaries([(a.id, summary("xã A")), (b.id, summary("xã B"))])
    assert await repo.pending_reports() == []
    assert [c.unit for c in await repo.unit_counts(1)] == ["xã A", "xã B"]


async def test_mark_delivered_without_claim_records_the_send(repo: Repository) -> None:
    await repo.mark_delivered(3, "weekly:2026-11-23")
    sent = await repo.get_delivery(3, "weekly:2026-11-23")
    assert sent is not None and sent.state == "sent" and sent.sent_at is not None
    assert not await repo.claim_delivery(3, "weekly:2026-11-23")


async def _answered_report(repo: Repository, chat_id: int, i: int) -> int:
    """A summarised report that came from a chat (its inbox row points at it): one waiting for a reply."""
    stored, _ = await repo.add_report(NewReport(scope=chat_id, chat_id=chat_id, user_id=chat_id, text=seed(i)))
    await repo.save_summary(stored.id, summary(f"xã {i}"))
    await repo.inbox_add([InboxEntry(100 + i, chat_id, 10 + i, chat_id, "text", seed(i)[:50], None, None, None,
                                     None, datetime.now(UTC), "{}")])
    await repo.inbox_done(chat_id, [10 + i], stored.id)
    return stored.id


async def test_a_reply_in_sending_is_never_resent_and_its_doubt_is_recorded(repo: Repository) -> None:
    """'sending' is written before the request: from then on the reply may have reached the chat.
    Start-up sends it no more (not in unreplied_reports), finds it once in replies_in_doubt and,
    once noted, not again; a later 'sent' (the answer came after all) closes it."""
    report_id = await _answered_report(repo, 41, 0)
    assert [r.id for r in await repo.unreplied_reports()] == [report_id]
    assert await repo.get_reply(report_id) is None
    before = datetime.now(UTC)
    await repo.reply_sending(report_id)
    attempt = await repo.get_reply(report_id)
    assert attempt is not None and attempt.state == "sending" and attempt.chat_id == 41
    assert attempt.attempted_at >= before - timedelta(seconds=1) and attempt.message_id is None
    assert await repo.unreplied_reports() == []
    assert [(a.report_id, a.chat_id) for a in await repo.replies_in_doubt()] == [(report_id, 41)]
    assert await repo.replies_in_doubt(within=timedelta(0)) == []  # only attempts of the window
    await repo.reply_in_doubt(report_id, "the bot stopped during the send")
    noted = await repo.get_reply(report_id)
    assert noted is not None and noted.state == "sending" and noted.note == "the bot stopped during the send"
    assert await repo.replies_in_doubt() == [] and await repo.unreplied_reports() == []
    await repo.mark_replied(report_id, 901)
    sent = await repo.get_reply(report_id)
    assert sent is not None and (sent.state, sent.message_id, sent.note) == ("sent", 901, None)
    assert sent.replied_at is not None


async def test_a_refused_reply_goes_back_to_unsent_and_is_sent_again(repo: Repository) -> None:
    """A refusal Telegram did not act on: 'unsent', with why, and start-up sends it again; the
    next attempt is 'sending' again. 'sent' is final: neither a new attempt (a joined report's
    edit) nor a refusal nor a second brief changes it."""
    report_id = await _answered_report(repo, 42, 1)
    await repo.reply_sending(report_id)
    await repo.reply_refused(report_id, "BadRequest: can't parse entities")
    refused = await repo.get_reply(report_id)
    assert refused is not None and (refused.state, refused.note) == ("unsent", "BadRequest: can't parse entities")
    assert [r.id for r in await repo.unreplied_reports()] == [report_id]
    assert await repo.replies_in_doubt() == []
    await repo.reply_in_doubt(report_id, "ignored")  # only a 'sending' row can be in doubt
    assert (await repo.get_reply(report_id)).note == "BadRequest: can't parse entities"  # type: ignore[union-attr]
    await repo.reply_sending(report_id)
    again = await repo.get_reply(report_id)
    assert again is not None and (again.state, again.note) == ("sending", None)
    await repo.mark_replied(report_id, 7)
    for later in (repo.reply_sending(report_id), repo.reply_refused(report_id, "x"), repo.mark_replied(report_id, 8)):
        await later
        kept = await repo.get_reply(report_id)
        assert kept is not None and (kept.state, kept.message_id) == ("sent", 7)
    assert await repo.unreplied_reports() == [] and await repo.replies_in_doubt() == []


async def test_a_reply_recorded_without_an_attempt_is_sent(repo: Repository) -> None:
    """mark_replied alone (a path that did not record the attempt) still counts as answered."""
    report_id = await _answered_report(repo, 43, 2)
    await repo.mark_replied(report_id)
    recorded = await repo.get_reply(report_id)
    assert recorded is not None and recorded.state == "sent" and recorded.message_id is None
    assert await repo.unreplied_reports() == []


async def test_inbox_arrived_before_tells_a_report_s_own_message_from_a_later_copy(repo: Repository) -> None:
    """A message written to the inbox before the report was stored is the report's own (replayed);
    one written after it is the report sent again. Every message asked about must be in and before."""
    entry = InboxEntry(1, 44, 30, 44, "text", "…", None, None, None, None, datetime.now(UTC), "{}")
    await repo.inbox_add([entry])
    stored, _ = await repo.add_report(NewReport(scope=44, chat_id=44, user_id=44, text=seed(3)))
    await repo.inbox_add([InboxEntry(2, 44, 31, 44, "text", "…", None, None, None, None, datetime.now(UTC), "{}")])
    assert await repo.inbox_arrived_before(44, [30], stored.received_at)
    assert not await repo.inbox_arrived_before(44, [31], stored.received_at)
    assert not await repo.inbox_arrived_before(44, [30, 31], stored.received_at)
    assert not await repo.inbox_arrived_before(44, [30, 99], stored.received_at)  # 99 never came in
    assert not await repo.inbox_arrived_before(45, [30], stored.received_at)  # another chat's
    assert not await repo.inbox_arrived_before(44, [], stored.received_at)


async def test_optimize_index_keeps_results(repo: Repository) -> None:
    for i in range(5):
        stored, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=seed(i)))
        await repo.save_summary(stored.id, summary(f"xã {i}", tasks=[f"Nhiệm vụ riêng {i}"]))
    queries = ["giai phong mat b", "GPMB", "nhiem vu rieng 3", "Gia Lộc"]
    before = [await repo.search(1, q, limit=10) for q in queries]
    await repo.optimize_index()
    after = [await repo.search(1, q, limit=10) for q in queries]
    assert before == after
    assert all(page.total for page in after)
