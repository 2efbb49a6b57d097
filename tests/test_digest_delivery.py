"""The paced sender against the Bot API emulator (real PTB HTTP path) and against a fake clock."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.digests.delivery import Outgoing, PacedSender, SendHooks, SendResult, SlidingWindowLimiter, Status
from bot.emulator import BotAPIEmulator
from bot.ratelimit import ChatRateLimiter

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ.setdefault("PTB_TIMEDELTA", "1")


class TimedBot:
    """Wraps a Bot and records (chat_id, call start, answer received) for every send."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.log: list[tuple[int, float, float]] = []

    async def _timed(self, method: str, **kw: Any) -> Any:
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            return await getattr(self.bot, method)(**kw)
        finally:
            self.log.append((kw["chat_id"], start, loop.time()))

    async def send_message(self, **kw: Any) -> Any:
        return await self._timed("send_message", **kw)

    async def send_photo(self, **kw: Any) -> Any:
        return await self._timed("send_photo", **kw)


def sends_to(emu: BotAPIEmulator, chat_id: int, method: str = "sendMessage") -> int:
    return sum(1 for m, p in emu.calls if m == method and str(p.get("chat_id")) == str(chat_id))


async def test_429_retry_after_is_honoured_and_the_message_arrives_once(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    emu.fail_next("sendMessage", 429, retry_after=1, chat_id=10)
    sender = PacedSender(bot)
    loop = asyncio.get_running_loop()
    done: dict[int, float] = {}

    async def one(chat: int) -> Any:
        result = await sender.send(chat, [Outgoing(text=f"<b>tin</b> cho {chat}")])
        done[chat] = loop.time()
        return result

    start = loop.time()
    r10, r11 = await asyncio.gather(one(10), one(11))
    assert r10.status is Status.DELIVERED and r10.sent == 1
    assert r11.status is Status.DELIVERED
    assert len(emu.messages(10)) == 1 and len(emu.messages(11)) == 1
    assert sends_to(emu, 10) == 2  # the 429, then the retry
    assert done[10] - start >= 1.0  # waited retry_after
    assert done[11] - start < 0.8  # the other chat was not held up by chat 10's 429


async def test_forbidden_stops_at_once_without_retrying(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.forbid_chat(12)
    sender = PacedSender(bot, backoff=0.01)
    result = await sender.send(12, [Outgoing(text="một"), Outgoing(text="hai")])
    assert result.status is Status.FORBIDDEN and result.sent == 0
    assert "blocked" in (result.error or "")
    assert sends_to(emu, 12) == 1
    assert emu.messages(12) == []


async def test_chat_not_found_counts_as_gone_and_other_400s_are_not_retried(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    emu.fail_next("sendMessage", 400, description="Bad Request: chat not found", chat_id=13)
    emu.fail_next("sendMessage", 400, description="Bad Request: can't parse entities", chat_id=14)
    sender = PacedSender(bot, backoff=0.01)
    gone = await sender.send(13, [Outgoing(text="a")])
    bad = await sender.send(14, [Outgoing(text="b")])
    assert gone.status is Status.FORBIDDEN
    assert bad.status is Status.FAILED and sends_to(emu, 14) == 1


async def test_server_errors_are_retried_with_backoff_then_given_up(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.fail_next("sendMessage", 500, times=2, chat_id=15)
    emu.fail_next("sendMessage", 502, times=10, chat_id=16)
    sender = PacedSender(bot, backoff=0.05, max_attempts=3, per_chat_interval=0.05)
    ok, failed = await asyncio.gather(
        sender.send(15, [Outgoing(text="vẫn đến nơi")]), sender.send(16, [Outgoing(text="không đến")])
    )
    assert ok.status is Status.DELIVERED and ok.sent == 1 and sends_to(emu, 15) == 3
    assert len(emu.messages(15)) == 1
    assert failed.status is Status.FAILED and failed.sent == 0 and sends_to(emu, 16) == 3
    assert emu.messages(16) == []


async def test_a_failing_chat_does_not_hold_up_the_others(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.fail_next("sendMessage", 500, times=3, chat_id=17)
    sender = PacedSender(bot, backoff=0.2, max_attempts=4, per_chat_interval=0.1)
    loop = asyncio.get_running_loop()
    finished: dict[int, float] = {}

    async def one(chat: int) -> None:
        await sender.send(chat, [Outgoing(text="x")])
        finished[chat] = loop.time()

    start = loop.time()
    await asyncio.gather(one(17), *(one(c) for c in range(100, 110)))
    assert finished[17] - start >= 0.2 + 0.4 + 0.8 - 0.05  # three backoffs
    assert max(finished[c] for c in range(100, 110)) - start < 0.6
    assert all(len(emu.messages(c)) == 1 for c in (17, *range(100, 110)))


async def test_per_chat_spacing_is_at_least_one_second_on_the_wire(emu: BotAPIEmulator, bot: Bot) -> None:
    """Each message to a chat starts >= 1 s after the previous answer from that chat, so arrivals
    at the API are >= 1 s apart whatever the round trip; two chats are served side by side."""
    timed = TimedBot(bot)
    sender = PacedSender(timed)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.gather(
        sender.send(21, [Outgoing(text=f"A{i}") for i in range(3)]),
        sender.send(22, [Outgoing(text=f"B{i}") for i in range(3)]),
    )
    total = loop.time() - start
    for chat in (21, 22):
        calls = [(s, e) for c, s, e in timed.log if c == chat]
        assert len(calls) == 3
        for (_, prev_end), (next_start, _) in itertools.pairwise(calls):
            assert next_start - prev_end >= 1.0
        assert [m["text"] for m in emu.messages(chat)] == [
            f"{'A' if chat == 21 else 'B'}{i}" for i in range(3)
        ]
    assert total < 3.5  # the chats interleave: ~2 s, not ~5 s


async def test_photo_parts_are_sent_with_caption(emu: BotAPIEmulator, bot: Bot) -> None:
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
        b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    sender = PacedSender(bot, per_chat_interval=0.01)
    result = await sender.send(30, [Outgoing(text="chữ"), Outgoing(photo=png, caption="<b>biểu đồ</b>")])
    assert result.status is Status.DELIVERED and result.sent == 2
    assert emu.photos(30) == [png]
    file_id = result.messages[1].photo[-1].file_id
    again = await sender.send(31, [Outgoing(photo=file_id, caption="lại")])
    assert again.status is Status.DELIVERED and emu.photos(31) == [png]


# --- fake clock ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


async def test_global_limiter_never_exceeds_the_rate_in_any_window() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(30, 1.0, clock=clock, sleep=clock.sleep)
    grants: list[float] = []

    async def take() -> None:
        await limiter.acquire()
        grants.append(clock())

    start = clock()
    await asyncio.gather(*(take() for _ in range(300)))
    assert len(grants) == 300
    grants.sort()
    for i in range(len(grants) - 30):
        assert grants[i + 30] - grants[i] >= 1.0 - 1e-9  # any 31 grants span at least a second
    elapsed = grants[-1] - start
    assert 9.0 <= elapsed <= 10.2  # 300 at 30/s: the cap is also reached, not just respected


class FakeBot:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[int, float]] = []

    async def send_message(self, chat_id: int, **_: Any) -> None:
        self.sent.append((chat_id, self.clock()))
        await self.clock.sleep(0.02)  # round trip


async def test_sender_paces_each_chat_and_all_chats_together_on_a_fake_clock() -> None:
    clock = FakeClock()
    fake = FakeBot(clock)
    sender = PacedSender(fake, clock=clock, sleep=clock.sleep)
    chats = list(range(1, 41))
    await asyncio.gather(*(sender.send(c, [Outgoing(text="1"), Outgoing(text="2")]) for c in chats))
    assert len(fake.sent) == 80
    for chat in chats:
        times = [t for c, t in fake.sent if c == chat]
        assert len(times) == 2 and times[1] - times[0] >= 1.0
    stamps = sorted(t for _, t in fake.sent)
    for i in range(len(stamps) - 30):
        assert stamps[i + 30] - stamps[i] >= 1.0 - 1e-9


# --- at most once, hooks, and the app's rate limiter ----------------------------------------------


@pytest.fixture
async def limited_bot(emu: BotAPIEmulator) -> AsyncIterator[ExtBot[Any]]:
    """The bot as the app builds it: PTB's ExtBot with our ChatRateLimiter."""
    async with ExtBot(
        emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url, rate_limiter=ChatRateLimiter()
    ) as b:
        yield b


class LosesAnswer:
    """Sends for real, then loses the answer for the chats in `chats` (once each): as when
    Telegram delivered the message but the connection dropped or the read timed out."""

    def __init__(self, bot: Any, chats: dict[int, Exception]) -> None:
        self.bot = bot
        self.chats = chats

    async def send_message(self, **kw: Any) -> Any:
        message = await self.bot.send_message(**kw)
        error = self.chats.pop(kw["chat_id"], None)
        if error is not None:
            raise error
        return message


def _caused(error: Exception, cause: Exception) -> Exception:
    error.__cause__ = cause
    return error


async def test_a_lost_answer_is_not_resent(emu: BotAPIEmulator, bot: Bot) -> None:
    lossy = LosesAnswer(
        bot,
        {
            40: _caused(TimedOut(), httpx.ReadTimeout("read")),
            41: _caused(NetworkError("httpx.RemoteProtocolError: Server disconnected"), httpx.RemoteProtocolError("x")),
        },
    )
    sender = PacedSender(lossy, backoff=0.01)
    for chat in (40, 41):
        result = await sender.send(chat, [Outgoing(text="một"), Outgoing(text="hai")])
        assert result.status is Status.UNCERTAIN and result.in_doubt and result.sent == 0
        assert "answer lost" in (result.error or "")
        assert [m["text"] for m in emu.messages(chat)] == ["một"]  # once, and the rest not sent after it


async def test_hooks_say_when_a_request_starts_and_when_telegram_refused_it(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    emu.fail_next("sendMessage", 502, chat_id=42)
    events: list[str] = []

    async def started() -> None:
        events.append(f"started:{sends_to(emu, 42)}")

    async def refused() -> None:
        events.append("refused")

    sender = PacedSender(bot, backoff=0.01, per_chat_interval=0.01)
    result = await sender.send(42, [Outgoing(text="a"), Outgoing(text="b")], hooks=SendHooks(started, refused))
    assert result.status is Status.DELIVERED and result.sent == 2
    # before each request (none of them written yet), and "refused" only after the 502
    assert events == ["started:0", "refused", "started:1", "started:2"]


async def test_with_the_apps_limiter_a_429_holds_only_its_chat(
    emu: BotAPIEmulator, limited_bot: ExtBot[Any]
) -> None:
    emu.fail_next("sendMessage", 429, retry_after=2, chat_id=50)
    sender = PacedSender(limited_bot)
    assert sender.bot_paces
    slow = asyncio.ensure_future(sender.send(50, [Outgoing(text="chậm")]))
    others = await asyncio.gather(*(sender.send(c, [Outgoing(text="nhanh")]) for c in range(51, 71)))
    assert all(r.status is Status.DELIVERED for r in others)
    assert not slow.done() and emu.messages(50) == []  # the 20 others were not held up by chat 50
    result = await asyncio.wait_for(slow, timeout=30)
    assert result.status is Status.DELIVERED and len(emu.messages(50)) == 1
    assert sends_to(emu, 50) == 2


async def test_with_the_apps_limiter_a_lost_answer_is_not_resent(
    emu: BotAPIEmulator, limited_bot: ExtBot[Any]
) -> None:
    if not hasattr(emu, "lose_answers"):
        pytest.skip("this emulator cannot lose answers")
    emu.lose_answers("sendMessage", chat_id=60, times=1, mode="drop")
    started: list[int] = []

    async def mark() -> None:
        started.append(1)

    result = await PacedSender(limited_bot, backoff=0.01).send(
        60, [Outgoing(text="một lần")], hooks=SendHooks(started=mark)
    )
    assert result.status is Status.UNCERTAIN and result.in_doubt
    assert len(emu.messages(60)) == 1 and sends_to(emu, 60) == 1 and started == [1]


async def test_cancelled_while_the_request_is_unanswered_counts_as_in_doubt() -> None:
    class Hangs:
        def __init__(self) -> None:
            self.reached = asyncio.Event()

        async def send_message(self, **_: Any) -> Any:
            self.reached.set()
            await asyncio.sleep(3600)

    hangs = Hangs()
    sender = PacedSender(hangs, settle_timeout=0.05)
    result = SendResult(status=Status.DELIVERED)
    task = asyncio.ensure_future(sender.send(70, [Outgoing(text="x")], result))
    await hangs.reached.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert result.in_doubt and result.sent == 0
