"""A report's reply at most once across crashes (bot.replies.reply_once): 'sending' is recorded
before the request reaches Telegram, 'sent' after; a reply a crash (or a lost answer) left
'sending' may have gone out and is never sent again, but logged and recorded; a refused one is
sent again at start-up. Against the emulator, through PTB's real request path and our limiter."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import NewReport, Repository
from storage.repository import InboxEntry
from summariser import clean_text
from summariser import summarise as summarise_text
from tests.bot_harness import OTHER, USER, BotHarness, seed_text

THIRD = 2003


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[Repository]:
    """One database for both "processes" of a test (a restart), on the backend the bot suites run
    on (TEST_BOT_BACKEND=postgresql: PostgreSQL)."""
    if os.environ.get("TEST_BOT_BACKEND") == "postgresql":
        from tests.pg_support import fresh_database

        async with fresh_database() as url:
            repository = await Repository.open(url)
            yield repository
            await repository.close()
        return
    repository = await Repository.open(tmp_path / "bot.sqlite3")
    yield repository
    await repository.close()


async def summarised_from_chat(repo: Repository, chat_id: int, i: int) -> int:
    """A report a chat sent, stored and summarised: then the crash (its reply is what is tested)."""
    report, _ = await repo.add_report(NewReport(scope=chat_id, chat_id=chat_id, user_id=chat_id,
                                                text=clean_text(seed_text(i))))
    await repo.save_summary(report.id, summarise_text(seed_text(i)))
    await repo.inbox_add([InboxEntry(10 + i, chat_id, 20 + i, chat_id, "text", seed_text(i), None, None, None, None,
                                     datetime.now(UTC), "{}")])
    await repo.inbox_done(chat_id, [20 + i], report.id)
    return report.id


def in_doubt_lines(caplog: pytest.LogCaptureFixture, report_id: int, chat_id: int) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if f"report {report_id} in chat {chat_id}" in r.getMessage() and "may have gone out" in r.getMessage()]


async def test_a_reply_left_sending_is_not_resent_at_start_up_and_is_logged(
        tmp_path: Path, repo: Repository, caplog: pytest.LogCaptureFixture) -> None:
    """Three replies a crash interrupted: one never started (sent at start-up), one refused by
    Telegram ('unsent': sent again), one 'sending' (it may have reached the chat: not resent, named
    in the log with report and chat but no content, its row noted). A second start: nothing."""
    caplog.set_level(logging.INFO)
    async with BotHarness(tmp_path, start=False, repo=repo) as h:
        assert h.repo is not None
        unstarted = await summarised_from_chat(h.repo, USER, 0)
        cut_off = await summarised_from_chat(h.repo, OTHER, 1)
        refused = await summarised_from_chat(h.repo, THIRD, 2)
        await h.repo.reply_sending(cut_off)
        await h.repo.reply_sending(refused)
        await h.repo.reply_refused(refused, "BadRequest: test")
        await h.start_app()
        for chat_id, report_id in ((USER, unstarted), (THIRD, refused)):
            message = await h.summary_message(chat_id)
            assert f"#{report_id}" in message["text"] and "khởi động lại" in message["text"]
        await h.emu.wait_idle(quiet=0.5, timeout=20)
        assert len(h.emu.messages(USER)) == 1 and len(h.emu.messages(THIRD)) == 1
        assert h.emu.messages(OTHER) == []  # may have gone out before the crash: at most once
        lines = in_doubt_lines(caplog, cut_off, OTHER)
        assert len(lines) == 1 and "not resent" in lines[0]
        assert all(seed_text(1)[:30] not in r.getMessage() for r in caplog.records)
        noted = await h.repo.get_reply(cut_off)
        assert noted is not None and noted.state == "sending" and "stopped during the send" in (noted.note or "")
        for chat_id, report_id in ((USER, unstarted), (THIRD, refused)):
            sent = await h.repo.get_reply(report_id)
            assert sent is not None and sent.state == "sent"
            assert sent.message_id == h.emu.messages(chat_id)[0]["message_id"]
        assert await h.repo.unreplied_reports() == [] and await h.repo.replies_in_doubt() == []
    caplog.clear()
    async with BotHarness(tmp_path, start=True, repo=repo) as again:  # the same database, started again
        await again.emu.wait_idle(quiet=0.5, timeout=20)
        assert again.emu.messages(USER) == again.emu.messages(OTHER) == again.emu.messages(THIRD) == []
        assert in_doubt_lines(caplog, cut_off, OTHER) == []  # recorded once, not logged at every start


async def test_sending_is_recorded_before_the_request_reaches_telegram(tmp_path: Path, repo: Repository) -> None:
    """The brief's request is held at the emulator (a slow Telegram): when it has arrived and
    nothing is performed yet, the reply is already 'sending'; once answered, 'sent' with the id
    Telegram gave it."""
    async with BotHarness(tmp_path, repo=repo) as h:
        assert h.repo is not None
        h.emu.delay_calls("sendMessage", 1.5, chat_id=USER, times=1)
        h.emu.send_text(USER, USER, seed_text(0))
        for _ in range(400):
            if any(m == "sendMessage" for m, _ in h.emu.calls):
                break
            await asyncio.sleep(0.025)
        assert h.emu.messages(USER) == []  # arrived, not performed yet
        [report] = await h.repo.latest(USER)
        attempt = await h.repo.get_reply(report.id)
        assert attempt is not None and attempt.state == "sending"
        message = await h.summary_message(USER)
        await h.emu.wait_idle(quiet=0.3, timeout=20)
        sent = await h.repo.get_reply(report.id)
        assert sent is not None and (sent.state, sent.message_id) == ("sent", message["message_id"])


async def test_a_lost_answer_to_a_brief_is_recorded_and_neither_resent_nor_followed_by_an_error(
        tmp_path: Path, repo: Repository, caplog: pytest.LogCaptureFixture) -> None:
    """Telegram performs the send but the connection drops before its answer: the brief reached
    the chat; the bot must not say "Có lỗi" nor send it again, now or after a restart, and it says
    in the log and the row that this reply may have gone out."""
    caplog.set_level(logging.INFO)
    async with BotHarness(tmp_path, repo=repo) as h:
        assert h.repo is not None
        h.emu.lose_answers("sendMessage", times=1, chat_id=USER)
        h.emu.send_text(USER, USER, seed_text(0))
        await h.summary_message(USER)
        await h.emu.wait_idle(quiet=1.0, timeout=20)
        assert len(h.emu.lost_answers) == 1
        assert len(h.emu.messages(USER)) == 1 and "Có lỗi" not in h.all_text(USER)
        [report] = await h.repo.latest(USER)
        attempt = await h.repo.get_reply(report.id)
        assert attempt is not None and attempt.state == "sending" and "answer lost" in (attempt.note or "")
        assert len(in_doubt_lines(caplog, report.id, USER)) == 1
    async with BotHarness(tmp_path, repo=repo) as again:
        await again.emu.wait_idle(quiet=0.5, timeout=20)
        assert again.emu.messages(USER) == []


async def test_a_brief_telegram_refused_is_sent_again_at_start_up(tmp_path: Path, repo: Repository) -> None:
    """A definite refusal (400) of the brief: nothing reached the chat, the reply is 'unsent'
    with the reason, and the next start sends it (with the restart notice), once."""
    async with BotHarness(tmp_path, repo=repo) as h:
        assert h.repo is not None
        h.emu.fail_next("sendMessage", 400, description="Bad Request: can't parse entities", chat_id=USER)
        h.emu.send_text(USER, USER, seed_text(0))
        await h.emu.wait_for_messages(USER, 1, timeout=20)
        await h.emu.wait_idle(quiet=0.5, timeout=20)
        assert "Có lỗi" in h.all_text(USER)  # the brief itself never arrived
        [report] = await h.repo.latest(USER)
        attempt = await h.repo.get_reply(report.id)
        assert attempt is not None and attempt.state == "unsent" and "can't parse entities" in (attempt.note or "").lower()
    async with BotHarness(tmp_path, repo=repo) as again:
        assert again.repo is not None
        message = await again.summary_message(USER)
        assert f"#{report.id}" in message["text"] and "khởi động lại" in message["text"]
        await again.emu.wait_idle(quiet=0.5, timeout=20)
        assert len(again.emu.messages(USER)) == 1
        sent = await again.repo.get_reply(report.id)
        assert sent is not None and sent.state == "sent"


async def test_a_report_message_replayed_after_its_reply_went_out_is_not_answered_again(
        tmp_path: Path, repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kill came after the report was stored but before its inbox row was marked done: at
    start-up the report's reply goes out (or went out), and the replay of the same message finds
    the report stored. It is the report's own message (in the inbox before the report was
    stored), so no second brief; the same report sent again later is answered as before."""
    from bot.ingest import Ingestor

    async def never_done(self: Ingestor, chat_id: int, message_ids: list[int], report_id: int | None = None) -> None:
        return None  # the kill: the row stays 'new'

    monkeypatch.setattr(Ingestor, "done", never_done)
    async with BotHarness(tmp_path, repo=repo) as h:
        sent = h.emu.send_text(USER, USER, seed_text(0))
        await h.summary_message(USER)
        await h.emu.wait_idle(quiet=0.3, timeout=20)
    monkeypatch.undo()
    [row] = await repo.inbox_pending()
    assert row.message_id == sent["message"]["message_id"]
    [report] = await repo.latest(USER)
    attempt = await repo.get_reply(report.id)
    assert attempt is not None and attempt.state == "sent"
    async with BotHarness(tmp_path, repo=repo) as again:
        for _ in range(200):
            if not await repo.inbox_pending():
                break
            await asyncio.sleep(0.05)
        await again.emu.wait_idle(quiet=0.5, timeout=20)
        assert await repo.inbox_pending() == []  # replayed
        assert again.emu.messages(USER) == []  # and not answered a second time
        again.emu._message_ids = itertools.count(100)  # a new emulator: ids past the first one's
        again.emu.send_text(USER, USER, seed_text(0))  # the same report, sent again now
        answer = await again.wait_for(USER, lambda t: "đã được gửi trước đây" in t)
        assert len(answer) == 1 and f"#{report.id}" in answer[0]["text"]
