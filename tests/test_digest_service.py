"""Digest fan-out over the emulator with a real repository and a controllable clock:
exactly once across restarts, catch-up within the grace window, Forbidden, 429, skip-empty."""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Bot
from telegram.error import TimedOut
from telegram.ext import ExtBot

from bot.digests.delivery import PacedSender
from bot.digests.schedule import Slot
from bot.digests.service import DigestService
from bot.emulator import BotAPIEmulator
from bot.ratelimit import ChatRateLimiter
from storage import NewReport, Repository, Subscription
from summariser.models import Figure, Item, Summary

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Monday 2026-11-23 07:30 in Asia/Ho_Chi_Minh (the default schedule) is 00:30 UTC.
OCCURRENCE = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
KEY = "weekly:2026-11-23"
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[Repository]:
    r = await Repository.open(tmp_path / "digests.sqlite3")
    yield r
    await r.close()


def service(repo: Repository, bot: Any, clock: Clock, **kw: Any) -> DigestService:
    sender = PacedSender(bot, backoff=0.05, max_attempts=2)
    return DigestService(repo, sender, now=clock, **kw)


async def subscribe(repo: Repository, chat_id: int, **kw: Any) -> Subscription:
    return await repo.upsert_subscription(Subscription(chat_id=chat_id, created_at=LONG_AGO, **kw))


async def add_summarised(
    repo: Repository, scope: int, unit: str | None, text: str, *, received: datetime, **summary: Any
) -> int:
    stored, _ = await repo.add_report(
        NewReport(scope=scope, chat_id=scope, user_id=scope, text=text, received_at=received)
    )
    await repo.save_summary(stored.id, Summary(unit=unit, **summary))
    return stored.id


def sent_to(emu: BotAPIEmulator, chat_id: int) -> list[dict[str, Any]]:
    return emu.messages(chat_id)


class StopAfter:
    """A bot wrapper that runs `action` once `k` messages have gone out (a crash or a stop)."""

    def __init__(self, bot: Bot, k: int) -> None:
        self.bot, self.k, self.count = bot, k, 0
        self.action: Any = None

    async def send_message(self, **kw: Any) -> Any:
        message = await self.bot.send_message(**kw)
        self.count += 1
        if self.count == self.k and self.action is not None:
            self.action()
        return message

    async def send_photo(self, **kw: Any) -> Any:
        return await self.bot.send_photo(**kw)


@pytest.mark.parametrize("how", ["stop", "crash"])
async def test_restart_in_the_middle_of_a_fan_out_sends_each_chat_exactly_once(
    emu: BotAPIEmulator, bot: Bot, repo: Repository, how: str
) -> None:
    chats = list(range(5001, 5025))
    for chat in chats:
        await subscribe(repo, chat)
    await add_summarised(
        repo,
        5003,
        "huyện Gia Lộc",
        "Tổng giá trị sản xuất đạt 8.458.730 triệu đồng.",
        received=OCCURRENCE - timedelta(days=2),
        results=[Item(text="Tổng giá trị sản xuất đạt 8.458.730 triệu đồng")],
    )
    clock = Clock(OCCURRENCE + timedelta(seconds=2))
    wrapper = StopAfter(bot, k=7)
    first = service(repo, wrapper, clock, workers=4)
    run = asyncio.ensure_future(first.run_slot(Slot.of(Subscription(chat_id=0))))
    wrapper.action = first.stop if how == "stop" else run.cancel
    if how == "stop":
        report = await run
        assert report.not_started > 0
    else:
        with pytest.raises(asyncio.CancelledError):
            await run
    delivered_first = {c for c in chats if sent_to(emu, c)}
    assert 7 <= len(delivered_first) < len(chats)

    # "Restart": a new service over the same database a minute later catches up.
    clock.t += timedelta(minutes=1)
    second = service(repo, bot, clock)
    report = await second.catch_up()
    assert report["sent"] == len(chats) - len(delivered_first)
    for chat in chats:
        assert len(sent_to(emu, chat)) == 1, chat
        delivery = await repo.get_delivery(chat, KEY)
        assert delivery is not None and delivery.state == "sent"
    assert "Gia Lộc" in sent_to(emu, 5003)[0]["text"]
    # And a third start changes nothing.
    again = await service(repo, bot, clock).catch_up()
    assert again["sent"] == 0 and sum(len(sent_to(emu, c)) for c in chats) == len(chats)


async def test_catch_up_inside_the_grace_window_sends_once(
    emu: BotAPIEmulator, bot: Bot, repo: Repository
) -> None:
    await subscribe(repo, 7001)
    clock = Clock(OCCURRENCE + timedelta(hours=5))  # the bot was down at 07:30, back at 12:30
    report = await service(repo, bot, clock).catch_up()
    assert report["sent"] == 1
    assert len(sent_to(emu, 7001)) == 1
    assert "Không có báo cáo mới" in sent_to(emu, 7001)[0]["text"]
    clock.t += timedelta(hours=1)
    assert (await service(repo, bot, clock).catch_up())["sent"] == 0
    assert len(sent_to(emu, 7001)) == 1


async def test_catch_up_outside_the_grace_window_skips_and_logs(
    emu: BotAPIEmulator, bot: Bot, repo: Repository, caplog: pytest.LogCaptureFixture
) -> None:
    await subscribe(repo, 7002)
    clock = Clock(OCCURRENCE + timedelta(hours=26))  # down for more than a day
    with caplog.at_level(logging.INFO, logger="bot.digests.service"):
        report = await service(repo, bot, clock).catch_up()
    assert report["sent"] == 0 and report["skipped_grace"] == 1
    assert sent_to(emu, 7002) == []
    assert await repo.get_delivery(7002, KEY) is None
    assert any("7002" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    # The grace window is configurable: 48 h covers the same outage.
    report = await service(repo, bot, clock, grace=timedelta(hours=48)).catch_up()
    assert report["sent"] == 1 and len(sent_to(emu, 7002)) == 1


async def test_forbidden_deactivates_the_subscription_and_others_still_get_theirs(
    emu: BotAPIEmulator, bot: Bot, repo: Repository
) -> None:
    for chat in (8001, 8002, 8003):
        await subscribe(repo, chat)
    emu.forbid_chat(8002)
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    report = await service(repo, bot, clock).run_slot(Slot.of(Subscription(chat_id=0)))
    assert report["sent"] == 2 and report["forbidden"] == 1
    sub = await repo.get_subscription(8002)
    assert sub is not None and not sub.active
    assert await repo.get_delivery(8002, KEY) is None  # nothing reached the chat
    assert [s.chat_id for s in await repo.active_subscriptions()] == [8001, 8003]
    assert len(sent_to(emu, 8001)) == 1 and len(sent_to(emu, 8003)) == 1


async def test_a_429_during_the_fan_out_is_retried_and_delivered_once(
    emu: BotAPIEmulator, bot: Bot, repo: Repository
) -> None:
    for chat in (8101, 8102):
        await subscribe(repo, chat)
    emu.fail_next("sendMessage", 429, retry_after=1, chat_id=8101)
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    report = await service(repo, bot, clock).run_slot(Slot.of(Subscription(chat_id=0)))
    assert report["sent"] == 2
    assert len(sent_to(emu, 8101)) == 1 and len(sent_to(emu, 8102)) == 1
    assert sum(1 for m, p in emu.calls if m == "sendMessage" and str(p.get("chat_id")) == "8101") == 2


async def test_failed_send_releases_the_claim_for_a_later_run(
    emu: BotAPIEmulator, bot: Bot, repo: Repository
) -> None:
    await subscribe(repo, 8201)
    emu.fail_next("sendMessage", 500, times=2, chat_id=8201)  # max_attempts=2 in these tests
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    report = await service(repo, bot, clock).run_slot(Slot.of(Subscription(chat_id=0)))
    assert report["failed"] == 1
    assert await repo.get_delivery(8201, KEY) is None
    clock.t += timedelta(minutes=15)  # the periodic sweep
    assert (await service(repo, bot, clock).catch_up())["sent"] == 1
    assert len(sent_to(emu, 8201)) == 1


async def test_skip_empty_sends_nothing_but_records_the_period(
    emu: BotAPIEmulator, bot: Bot, repo: Repository
) -> None:
    await subscribe(repo, 8301, skip_empty=True)
    await subscribe(repo, 8302)
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    report = await service(repo, bot, clock).run_slot(Slot.of(Subscription(chat_id=0)))
    assert report["empty_skipped"] == 1 and report["sent"] == 1
    assert sent_to(emu, 8301) == []
    delivery = await repo.get_delivery(8301, KEY)
    assert delivery is not None and delivery.state == "sent"
    assert sent_to(emu, 8302)[0]["text"].count("\n") == 1  # header + one short line


async def test_a_slot_job_only_serves_its_own_subscribers(
    emu: BotAPIEmulator, bot: Bot, repo: Repository
) -> None:
    await subscribe(repo, 8401)  # Monday 07:30
    await subscribe(repo, 8402, weekday=1)  # Tuesday
    await subscribe(repo, 8403, time_of_day="09:00")
    await repo.upsert_subscription(Subscription(chat_id=8404, created_at=OCCURRENCE + timedelta(minutes=1)))
    await subscribe(repo, 8405)
    await repo.deactivate_subscription(8405)
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    report = await service(repo, bot, clock).run_slot(Slot.of(Subscription(chat_id=0)))
    assert report["sent"] == 1
    assert [c for c in (8401, 8402, 8403, 8404, 8405) if sent_to(emu, c)] == [8401]


async def test_blocked_chat_gets_nothing(emu: BotAPIEmulator, bot: Bot, repo: Repository) -> None:
    await subscribe(repo, 8501)
    await repo.ensure_user(8501, "x", "member")
    await repo.set_role(8501, "blocked")
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    report = await service(repo, bot, clock).run_slot(Slot.of(Subscription(chat_id=0)))
    assert report["not_allowed"] == 1 and sent_to(emu, 8501) == []
    assert await repo.get_delivery(8501, KEY) is None


NINE_MONTHS = "9 tháng đầu năm 2023"  # a chart compares one period only: both shares are of it


async def test_digest_with_chart_is_built_once_per_scope_and_the_photo_reused(
    emu: BotAPIEmulator, bot: Bot, repo: Repository
) -> None:
    scope = 9001
    received = OCCURRENCE - timedelta(days=1)
    await add_summarised(
        repo,
        scope,
        "huyện Bình Gia",
        "Thu ngân sách được gần 20 tỷ đồng, đạt 107% dự toán tỉnh giao; công tác giải phóng mặt bằng chậm tiến độ.",
        received=received,
        figures=[Figure(text="107%", value=107, unit="%", section="results", kind="share", period=NINE_MONTHS)],
        shortcomings=[Item(text="công tác giải phóng mặt bằng chậm tiến độ")],
    )
    await add_summarised(
        repo,
        scope,
        "huyện Chi Lăng",
        "Tổng thu ngân sách đạt trên 56,3 tỷ đồng, đạt 121,5% dự toán; giải phóng mặt bằng còn chậm tiến độ.",
        received=received,
        figures=[Figure(text="121,5%", value=121.5, unit="%", section="results", kind="share", period=NINE_MONTHS)],
        shortcomings=[Item(text="giải phóng mặt bằng còn chậm tiến độ")],
    )
    await add_summarised(  # another scope: must not appear
        repo, 9999, "huyện Lạng Giang", "Kết nạp 142 quần chúng, đạt 52,6% kế hoạch năm.", received=received
    )
    await subscribe(repo, scope)
    await subscribe(repo, 9002)
    await repo.join_scope(9002, scope)
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    report = await service(repo, bot, clock, workers=1).run_slot(Slot.of(Subscription(chat_id=0)))
    assert report["sent"] == 2
    for chat in (scope, 9002):
        texts = [m.get("text") or "" for m in sent_to(emu, chat)]
        body = "\n".join(texts)
        assert "Bình Gia" in body and "Chi Lăng" in body and "Lạng Giang" not in body
        assert "Vấn đề nổi cộm" in body and "2 đơn vị" in body
        assert len(emu.photos(chat)) == 1
    uploads = [p for m, p in emu.calls if m == "sendPhoto"]
    assert not isinstance(uploads[0]["photo"], str)  # first chat: the PNG is uploaded
    assert isinstance(uploads[1]["photo"], str)  # second chat: the same file by file_id
    assert emu.photos(scope) == emu.photos(9002)


async def test_stopping_does_not_wait_for_a_long_retry_after(
    emu: BotAPIEmulator, bot: Bot, repo: Repository
) -> None:
    """A chat told to retry in 30 s does not hold up shutdown: after the drain timeout it is
    cancelled, its claim released (nothing reached it), and the next start delivers it once."""
    for chat in (8601, 8602, 8603):
        await subscribe(repo, chat)
    emu.fail_next("sendMessage", 429, retry_after=30, chat_id=8601)
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    first = service(repo, bot, clock, drain_timeout=0.3)
    loop = asyncio.get_running_loop()
    run = asyncio.ensure_future(first.run_slot(Slot.of(Subscription(chat_id=0))))
    while not (sent_to(emu, 8602) and sent_to(emu, 8603)):
        await asyncio.sleep(0.02)
    started = loop.time()
    first.stop()
    report = await asyncio.wait_for(run, timeout=5)
    assert loop.time() - started < 2.0
    assert report["sent"] == 2
    assert sent_to(emu, 8601) == [] and await repo.get_delivery(8601, KEY) is None
    again = await service(repo, bot, clock).catch_up()
    assert again["sent"] == 1 and len(sent_to(emu, 8601)) == 1


# --- crashes, lost answers, and the app's rate limiter (issue 13, defects 4, 5 and 7) -------------


@pytest.fixture
async def limited_bot(emu: BotAPIEmulator) -> AsyncIterator[ExtBot[Any]]:
    """The bot as the app builds it: PTB's ExtBot with our ChatRateLimiter."""
    async with ExtBot(
        emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url, rate_limiter=ChatRateLimiter()
    ) as b:
        yield b


class Dead(Exception):
    """What a process that was killed "does" from then on: nothing."""


class Crash:
    def __init__(self) -> None:
        self.dead = False
        self.at_crash: list[Any] = []  # the deliveries log as the crash left it


class DyingRepo:
    """The repository as the killed process sees it: after the crash no call reaches the file."""

    def __init__(self, repo: Repository, crash: Crash) -> None:
        self._repo, self._crash = repo, crash

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._repo, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kw: Any) -> Any:
            if self._crash.dead:
                raise Dead(name)
            return await attr(*args, **kw)

        return call


class DyingBot:
    """Forwards sends; the `k`-th one is delivered but the process dies before its answer is
    read (and cancels the run, as a SIGKILL ends everything); later sends never leave."""

    def __init__(self, bot: Any, crash: Crash, k: int) -> None:
        self.bot, self.crash, self.k, self.count = bot, crash, k, 0
        self.run: asyncio.Future[Any] | None = None
        self.rate_limiter = getattr(bot, "rate_limiter", None)

    async def send_message(self, **kw: Any) -> Any:
        if self.crash.dead:
            raise Dead("send")
        message = await self.bot.send_message(**kw)
        if self.crash.dead:
            raise Dead("answer lost")
        self.count += 1
        if self.count == self.k:
            self.crash.dead = True
            assert self.run is not None
            self.run.cancel()
            raise Dead("answer lost")
        return message

    async def send_photo(self, **kw: Any) -> Any:
        raise AssertionError("no chart in this test")


@pytest.mark.parametrize("paced_by", ["sender", "limiter"])
async def test_a_crash_mid_fan_out_leaves_only_in_flight_chats_unsent_and_none_twice(
    emu: BotAPIEmulator,
    bot: Bot,
    limited_bot: ExtBot[Any],
    repo: Repository,
    caplog: pytest.LogCaptureFixture,
    paced_by: str,
) -> None:
    """Defect 4: workers used to claim chats, then wait for the pacer; after a SIGKILL every
    claimed chat was lost for good. Now a claim whose send had not started is resent."""
    chats = list(range(6001, 6041))
    for chat in chats:
        await subscribe(repo, chat)
    clock = Clock(OCCURRENCE + timedelta(seconds=2))
    crash = Crash()
    dying_bot = DyingBot(bot if paced_by == "sender" else limited_bot, crash, k=10)
    first = DigestService(
        DyingRepo(repo, crash),  # type: ignore[arg-type]
        PacedSender(dying_bot, backoff=0.05, max_attempts=2),
        now=clock,
        workers=16,
    )
    assert first.sender.bot_paces == (paced_by == "limiter")
    run = asyncio.ensure_future(first.run_slot(Slot.of(Subscription(chat_id=0))))
    dying_bot.run = run
    with pytest.raises(BaseException):  # noqa: B017  cancelled, or Dead from a worker
        await run
    crash.at_crash = await repo.deliveries()
    states = Counter(d.state for d in crash.at_crash)
    assert states["claimed"] >= 3  # workers holding chats they had not started sending to
    written = {d.chat_id for d in crash.at_crash if d.state == "sending"}  # requests in flight
    assert 1 <= len(written) <= 4
    delivered_first = {c for c in chats if sent_to(emu, c)}
    assert 10 <= len(delivered_first) < len(chats)

    # Restart: a new service (a new process) on the same database, a minute later.
    clock.t += timedelta(minutes=1)
    second = service(repo, limited_bot if paced_by == "limiter" else bot, clock)
    with caplog.at_level(logging.WARNING, logger="bot.digests.service"):
        report = await second.catch_up()
    counts = {c: len(sent_to(emu, c)) for c in chats}
    assert max(counts.values()) == 1  # nobody got it twice
    unsent = {c for c, n in counts.items() if n == 0}
    assert unsent <= written  # only requests in flight at the crash may be missing
    in_doubt = {d.chat_id for d in await repo.deliveries() if d.state == "sending"}
    assert in_doubt == written  # and those are left as they were: may have gone out
    assert any(counts[c] == 1 for c in written)  # the one delivered whose answer the crash lost
    warned = [r.getMessage() for r in caplog.records if "may have been sent" in r.getMessage()]
    for chat in in_doubt:
        assert any(str(chat) in w and KEY in w for w in warned), chat
    assert report["sent"] == len(chats) - len(delivered_first) - len(unsent)
    # a third start sends nothing more and warns no more
    caplog.clear()
    again = await service(repo, bot, clock).catch_up()
    assert again["sent"] == 0 and sum(len(sent_to(emu, c)) for c in chats) == len(chats) - len(unsent)


async def test_a_lost_answer_is_recorded_not_resent_and_logged(
    emu: BotAPIEmulator, bot: Bot, repo: Repository, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 7: the answer to a delivered digest was lost and the sender retried: twice."""

    class LosesOne:
        def __init__(self) -> None:
            self.lost = False

        async def send_message(self, **kw: Any) -> Any:
            message = await bot.send_message(**kw)
            if kw["chat_id"] == 8701 and not self.lost:
                self.lost = True
                error = TimedOut()
                error.__cause__ = httpx.ReadTimeout("read")
                raise error
            return message

    for chat in (8701, 8702):
        await subscribe(repo, chat)
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    with caplog.at_level(logging.WARNING, logger="bot.digests.service"):
        report = await service(repo, LosesOne(), clock).run_slot(Slot.of(Subscription(chat_id=0)))
    assert report["uncertain"] == 1 and report["sent"] == 1
    assert len(sent_to(emu, 8701)) == 1 and len(sent_to(emu, 8702)) == 1
    delivery = await repo.get_delivery(8701, KEY)
    assert delivery is not None and delivery.state == "sending" and "answer lost" in (delivery.note or "")
    assert any("8701" in r.getMessage() and KEY in r.getMessage() for r in caplog.records)
    clock.t += timedelta(minutes=15)
    assert (await service(repo, bot, clock).catch_up())["sent"] == 0
    assert len(sent_to(emu, 8701)) == 1


async def test_with_the_apps_limiter_one_subscribers_429_delays_only_that_subscriber(
    emu: BotAPIEmulator, limited_bot: ExtBot[Any], repo: Repository
) -> None:
    """Defect 5: one subscriber's 429 held up the whole fan-out for 20 s."""
    chats = list(range(8801, 8831))
    for chat in chats:
        await subscribe(repo, chat)
    emu.fail_next("sendMessage", 429, retry_after=3, chat_id=8801)
    clock = Clock(OCCURRENCE + timedelta(seconds=1))
    run = asyncio.ensure_future(
        service(repo, limited_bot, clock, workers=4).run_slot(Slot.of(Subscription(chat_id=0)))
    )
    for _ in range(3000):
        if all(sent_to(emu, c) for c in chats[1:]):
            break
        await asyncio.sleep(0.01)
    assert all(sent_to(emu, c) for c in chats[1:])
    assert sent_to(emu, 8801) == [] and not run.done()  # the others went while 8801 waits its 3 s
    report = await asyncio.wait_for(run, timeout=30)
    assert report["sent"] == len(chats) and all(len(sent_to(emu, c)) == 1 for c in chats)


async def test_a_claim_left_by_a_dead_process_is_taken_over_and_a_possibly_sent_one_is_not(
    emu: BotAPIEmulator, bot: Bot, repo: Repository
) -> None:
    for chat in (8901, 8902, 8903):
        await subscribe(repo, chat)
    assert await repo.claim_delivery(8901, KEY, owner="dead-process")  # taken, never started
    assert await repo.claim_delivery(8902, KEY, owner="dead-process")
    await repo.mark_sending(8902, KEY)  # its request went out
    clock = Clock(OCCURRENCE + timedelta(hours=1))
    report = await service(repo, bot, clock).catch_up()
    assert report["sent"] == 2  # 8901 and 8903
    assert len(sent_to(emu, 8901)) == 1 and len(sent_to(emu, 8903)) == 1 and sent_to(emu, 8902) == []
    # a live service's own claim is never taken over by itself, nor by a plain claim
    assert not await repo.claim_delivery(8902, KEY, owner="someone")
    assert await repo.claim_delivery(8904, KEY, owner="a")
    assert not await repo.claim_delivery(8904, KEY, owner="a")
    assert not await repo.claim_delivery(8904, KEY)
