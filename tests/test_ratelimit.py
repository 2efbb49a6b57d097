"""bot.ratelimit: per-chat flood control, on a virtual clock with fake Bot API callbacks (fast and
deterministic), plus one pass through PTB's real HTTP path against the emulator."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.emulator import BotAPIEmulator
from bot.ratelimit import ChatRateLimiter, Priority, SendOptions, may_have_been_sent, not_processed

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ.setdefault("PTB_TIMEDELTA", "1")

T = TypeVar("T")


class VirtualClock:
    """Time stands still while anything can run; when every task waits on `sleep`, it jumps to
    the earliest wake-up. `run` drives a coroutine to completion that way."""

    def __init__(self) -> None:
        self.t = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.t + seconds, next(self._seq), future))
        await future

    async def _settle(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(10_000):
            await asyncio.sleep(0)
            if not getattr(loop, "_ready", None):
                return

    async def run(self, aw: Awaitable[T], *, max_steps: int = 200_000) -> T:
        task = asyncio.ensure_future(aw)
        for _ in range(max_steps):
            await self._settle()
            if task.done():
                return task.result()
            while self._timers and self._timers[0][2].done():
                heapq.heappop(self._timers)
            if not self._timers:
                raise AssertionError("deadlock: every task waits and no timer is set")
            self.t = max(self.t, self._timers[0][0])
            while self._timers and self._timers[0][0] <= self.t:
                _, _, future = heapq.heappop(self._timers)
                if not future.done():
                    future.set_result(None)
        raise AssertionError("did not finish")


class FakeAPI:
    """Callbacks that record (endpoint, chat, virtual time) and take `rtt` to answer; `script`
    holds exceptions to raise for a chat's next calls."""

    def __init__(self, clock: VirtualClock, rtt: float = 0.02) -> None:
        self.clock = clock
        self.rtt = rtt
        self.calls: list[tuple[str, Any, float]] = []
        self.answers: list[tuple[str, Any, float]] = []
        self.script: dict[Any, list[BaseException]] = {}

    def callback(self, endpoint: str, chat: Any) -> Callable[..., Awaitable[Any]]:
        async def call(*_: Any, **__: Any) -> Any:
            self.calls.append((endpoint, chat, self.clock()))
            await self.clock.sleep(self.rtt)
            pending = self.script.get(chat)
            if pending:
                raise pending.pop(0)
            self.answers.append((endpoint, chat, self.clock()))
            return {"ok": chat}

        return call

    def times(self, chat: Any, endpoint: str | None = None) -> list[float]:
        return [t for e, c, t in self.calls if c == chat and (endpoint is None or e == endpoint)]

    def answered(self, chat: Any) -> list[float]:
        return [t for _, c, t in self.answers if c == chat]


def limiter(clock: VirtualClock, **kw: Any) -> ChatRateLimiter:
    return ChatRateLimiter(clock=clock, sleep=clock.sleep, **kw)


async def send(
    rl: ChatRateLimiter,
    api: FakeAPI,
    chat: Any,
    endpoint: str = "sendMessage",
    options: SendOptions | int | None = None,
) -> Any:
    data = {} if chat is None else {"chat_id": chat, "text": "x"}
    return await rl.process_request(api.callback(endpoint, chat), (), {}, endpoint, data, options)


def most_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best = 0
    for i, start in enumerate(times):
        j = i
        while j < len(times) and times[j] < start + window - 1e-9:
            j += 1
        best = max(best, j - i)
    return best


async def test_a_429_pauses_only_the_chat_it_names() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    api.script[1] = [RetryAfter(60)]
    done: dict[Any, float] = {}

    async def one(chat: int, tag: str) -> None:
        await send(rl, api, chat)
        done[tag] = clock()

    async def scenario() -> None:
        first = asyncio.ensure_future(one(1, "a1"))
        await clock.sleep(0.5)  # chat 1's 429 has come back; now other traffic arrives
        await asyncio.gather(first, one(2, "b"), one(1, "a2"), *(one(c, f"c{c}") for c in range(10, 20)))

    await clock.run(scenario())
    assert done["b"] < 1.0 and max(done[f"c{c}"] for c in range(10, 20)) < 1.0  # nobody else waited
    assert done["a1"] >= 60.0  # the retry came after retry_after
    assert done["a2"] > done["a1"]  # the chat's next message kept its place behind the retry
    assert len(api.times(1)) == 3 and len(api.answered(1)) == 2  # 429, retry, then the second message
    assert rl.paused_for(2) == 0.0


async def test_private_chat_gets_a_short_burst_then_one_message_per_second_in_order() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock, chat_burst=5)
    order: list[int] = []

    async def one(i: int) -> None:
        await send(rl, api, 7)
        order.append(i)

    async def scenario() -> None:
        await asyncio.gather(*(one(i) for i in range(15)), send(rl, api, 8), send(rl, api, 9))

    await clock.run(scenario())
    starts = api.times(7)
    assert len(starts) == 15 and order == list(range(15))  # queued in order, nothing dropped
    assert starts[4] < 0.5  # the burst goes at once
    assert all(b - a >= 0.999 for a, b in itertools.pairwise(starts[5:]))  # then one per second
    for i, start in enumerate(starts):  # over any stretch: at most the burst plus one per second
        assert sum(1 for t in starts[i:] if t < start + 3.0) <= 5 + 3
    assert starts[-1] < 11.0  # not slower than the cap
    assert max(api.times(8) + api.times(9)) < 0.5  # other chats in parallel


async def test_digest_messages_to_a_chat_are_a_second_apart_with_no_burst() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    bulk = SendOptions(priority=Priority.BULK)
    await clock.run(asyncio.gather(*(send(rl, api, 77, options=bulk) for _ in range(4))))
    starts = api.times(77)
    assert len(starts) == 4 and all(b - a >= 1.0 for a, b in itertools.pairwise(starts))


async def test_group_is_held_to_twenty_per_minute() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    await clock.run(asyncio.gather(*(send(rl, api, -100123) for _ in range(25)), send(rl, api, "@kenh")))
    starts = api.times(-100123)
    assert len(starts) == 25
    assert most_in_window(starts, 60.0) <= 20
    assert starts[19] < 1.0  # twenty at once is within the group's limit
    assert 60.0 <= starts[20] < 62.0  # the 21st waits for the first to leave the window
    assert api.times("@kenh")  # a channel by @username is a chat too


async def test_overall_cap_of_thirty_per_second_is_kept_and_reached() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    await clock.run(asyncio.gather(*(send(rl, api, 1000 + i) for i in range(300))))
    starts = [t for _, _, t in api.calls]
    assert len(starts) == 300
    assert most_in_window(starts, 1.0) <= 30
    assert 9.0 <= max(starts) <= 10.5  # 300 at 30/s


async def test_replies_go_before_a_queued_digest() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    bulk = SendOptions(priority=Priority.BULK)

    async def scenario() -> None:
        digest = [asyncio.ensure_future(send(rl, api, 2000 + i, options=bulk)) for i in range(90)]
        await clock.sleep(0.1)
        await send(rl, api, 42)  # a user's /help while 90 digest messages are queued
        await asyncio.gather(*digest)

    await clock.run(scenario())
    (reply,) = api.times(42)
    assert reply < 0.3  # the next slot or two, not after the 90 queued (3 s)
    assert max(t for _, c, t in api.calls if c != 42) >= 2.9


async def test_calls_without_a_chat_are_not_counted_and_their_429_pauses_only_that_method() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    api.script[None] = [RetryAfter(30)]
    done: dict[str, float] = {}

    async def answer() -> None:
        await send(rl, api, None, "answerCallbackQuery")
        done["answer"] = clock()

    async def get_file() -> None:
        await clock.sleep(0.2)
        await send(rl, api, None, "getFile")
        done["getFile"] = clock()

    async def scenario() -> None:
        chats = [asyncio.ensure_future(send(rl, api, 3000 + i)) for i in range(90)]  # 3 s of budget
        await asyncio.gather(answer(), get_file())
        await asyncio.gather(*chats)

    await clock.run(scenario())
    assert done["getFile"] < 0.5  # not behind the 90 sends, not behind answerCallbackQuery's 429
    assert done["answer"] >= 30.0
    assert max(t for _, c, t in api.calls if c is not None) < 3.5  # sends were not paused


async def test_429s_from_several_chats_at_once_are_a_global_flood() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    for chat in (1, 2, 3):
        api.script[chat] = [RetryAfter(5)]

    async def scenario() -> None:
        await asyncio.gather(*(send(rl, api, c) for c in (1, 2, 3)))

    late: list[float] = []

    async def bystander() -> None:
        await clock.sleep(0.5)
        await send(rl, api, 4)
        late.append(clock())

    await clock.run(asyncio.gather(scenario(), bystander()))
    assert late[0] >= 5.0  # chat 4 got no 429 itself but waited for the flood to pass
    assert all(len(api.answered(c)) == 1 for c in (1, 2, 3, 4))


@pytest.mark.parametrize(
    "error",
    [NetworkError("Bad Gateway"), NetworkError("Internal Server Error"), NetworkError("Service Unavailable (503)")],
)
async def test_server_errors_are_retried_with_backoff_then_succeed(error: TelegramError) -> None:
    clock = VirtualClock()
    api = FakeAPI(clock, rtt=0.01)
    rl = limiter(clock, backoff=0.5)
    api.script[5] = [error, error]
    result = await clock.run(send(rl, api, 5))
    assert result == {"ok": 5}
    starts = api.times(5)
    assert len(starts) == 3
    assert starts[1] - starts[0] >= 0.5 and starts[2] - starts[1] >= 1.0  # 0.5 s, then 1 s


async def test_server_errors_are_retried_a_bounded_number_of_times() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock, rtt=0.01)
    rl = limiter(clock, server_retries=2)
    api.script[6] = [NetworkError("Bad Gateway")] * 10
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await clock.run(send(rl, api, 6))
    assert len(api.times(6)) == 3


def _timed_out(cause: Exception) -> TimedOut:
    try:
        raise TimedOut from cause
    except TimedOut as exc:
        return exc


def _network(cause: Exception) -> NetworkError:
    try:
        raise NetworkError(f"httpx.{type(cause).__name__}: {cause}") from cause
    except NetworkError as exc:
        return exc


@pytest.mark.parametrize(
    "error",
    [
        _timed_out(httpx.ReadTimeout("read")),
        _timed_out(httpx.WriteTimeout("write")),
        TimedOut(),
        _network(httpx.RemoteProtocolError("Server disconnected without sending a response.")),
        _network(httpx.ReadError("reset")),
    ],
)
async def test_a_send_that_may_have_reached_telegram_is_not_retried(error: TelegramError) -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    api.script[9] = [error]
    with pytest.raises(type(error)):
        await clock.run(send(rl, api, 9))
    assert len(api.times(9)) == 1
    assert may_have_been_sent(error) and not not_processed(error)


@pytest.mark.parametrize(
    "error", [_network(httpx.ConnectError("refused")), _timed_out(httpx.ConnectTimeout("connect"))]
)
async def test_a_connection_never_made_is_retried(error: TelegramError) -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    api.script[10] = [error]
    assert await clock.run(send(rl, api, 10)) == {"ok": 10}
    assert len(api.times(10)) == 2
    assert not_processed(error) and not may_have_been_sent(error)


def test_permanent_errors_are_neither_retried_nor_in_doubt() -> None:
    for error in (BadRequest("Bad Request: chat not found"), NetworkError("Request Entity Too Large (413)")):
        assert not not_processed(error) and not may_have_been_sent(error)


async def test_retries_zero_leaves_429_and_5xx_to_the_caller_but_keeps_the_chat_paused() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    api.script[11] = [RetryAfter(10), NetworkError("Bad Gateway")]
    calls: list[float] = []

    async def before() -> None:
        calls.append(clock())

    options = SendOptions(priority=Priority.BULK, retries=0, before_send=before)
    with pytest.raises(RetryAfter):
        await clock.run(send(rl, api, 11, options=options))
    assert 9.9 < rl.paused_for(11) <= 10.0
    with pytest.raises(NetworkError):
        await clock.run(send(rl, api, 11, options=options))
    assert api.times(11)[1] >= 10.0  # the caller's next try still waited for the pause
    assert len(calls) == 2 and calls[1] >= 10.0  # before_send: right before each request, after the waits


async def test_refused_runs_between_a_refusal_and_the_next_try() -> None:
    """A 429 and a 5xx the limiter retries itself: `refused` is awaited after each (Telegram did
    not act: a crash while waiting must find the send 'not started'), `before_send` before each
    try; a success calls no `refused`, nor does an error the limiter raises to the caller."""
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)
    api.script[12] = [RetryAfter(2), NetworkError("Bad Gateway")]
    events: list[str] = []

    async def before() -> None:
        events.append("before")

    async def refused() -> None:
        events.append("refused")

    options = SendOptions(before_send=before, refused=refused)
    assert await clock.run(send(rl, api, 12, options=options)) == {"ok": 12}
    assert events == ["before", "refused", "before", "refused", "before"]
    events.clear()
    api.script[13] = [BadRequest("Bad Request: chat not found")]
    with pytest.raises(BadRequest):
        await clock.run(send(rl, api, 13, options=options))
    assert events == ["before"]


async def test_idle_chats_are_forgotten() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock, rtt=0.001)
    rl = limiter(clock, max_chats=100)

    async def one_by_one() -> None:
        for chat in range(1, 301):
            await send(rl, api, chat)
            await clock.sleep(0.2)

    await clock.run(one_by_one())
    assert len(api.answers) == 300
    assert len(rl._chats) <= 100  # chats idle for longer than their cap's horizon are dropped


async def test_through_ptb_against_the_emulator_a_chat_in_flood_control_holds_up_nobody(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    """The real HTTP path: chat 501 is under Telegram's flood control for 2 s (429 with
    retry_after); chat 502's messages go out meanwhile, chat 501's message arrives once after."""
    rl = ChatRateLimiter()
    async with ExtBot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url, rate_limiter=rl) as bot:
        emu.fail_next("sendMessage", 429, retry_after=2, chat_id=501)
        emu.fail_next("sendMessage", 502, chat_id=502)
        slow = asyncio.ensure_future(bot.send_message(501, "tin nhắn bị giới hạn"))
        while not emu.calls or emu.calls[-1][0] != "sendMessage":
            await asyncio.sleep(0.01)
        await bot.send_message(502, "một")  # after one 502, retried
        await bot.send_message(503, "hai")
        assert not slow.done()  # chat 501 still waits its 2 s; the others were answered
        assert len(emu.messages(502)) == 1 and len(emu.messages(503)) == 1
        await asyncio.wait_for(slow, timeout=30)
        assert [m["text"] for m in emu.messages(501)] == ["tin nhắn bị giới hạn"]
        tries_501 = [p for m, p in emu.calls if m == "sendMessage" and str(p.get("chat_id")) == "501"]
        assert len(tries_501) == 2


def test_the_application_uses_it() -> None:
    from bot.app import build_application
    from bot.config import Settings

    app = build_application(Settings(bot_token="123:ABC", database=":memory:"))
    assert isinstance(app.bot.rate_limiter, ChatRateLimiter)


class SharedRing:
    """`Repository.take_send_slot` on the virtual clock: `rate` slots, each granted at most once
    per `period` whichever limiter (replica) asks."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.slots: list[float] = []
        self.asked = 0

    async def take(self, rate: int, period: float) -> float:
        self.asked += 1
        await self.clock.sleep(0.001)  # a round trip to the database
        now = self.clock()
        if len(self.slots) < rate:
            self.slots += [float("-inf")] * (rate - len(self.slots))
        oldest = min(range(rate), key=lambda i: self.slots[i])
        if self.slots[oldest] <= now - period:
            self.slots[oldest] = now
            return 0.0
        return self.slots[oldest] + period - now


async def test_replicas_sharing_the_budget_keep_thirty_a_second_together() -> None:
    """Two replicas' limiters, 60 messages each to chats of their own: alone each may send 30 a
    second (60 together); sharing the budget, no second holds more than 30 of them."""
    clock = VirtualClock()
    ring = SharedRing(clock)
    api = FakeAPI(clock)
    replicas = [limiter(clock), limiter(clock)]
    for rl in replicas:
        rl.share_budget(ring.take)

    async def fan_out(rl: ChatRateLimiter, base: int) -> None:
        await asyncio.gather(*(send(rl, api, base + i) for i in range(60)))

    await clock.run(asyncio.gather(fan_out(replicas[0], 1_000), fan_out(replicas[1], 2_000)))
    times = [t for _, _, t in api.calls]
    assert len(times) == 120
    assert most_in_window(times, 1.0) <= 30
    assert max(times) >= 3.0  # 120 at 30/s: four seconds, not two
    assert ring.asked >= 120


async def test_without_the_shared_budget_two_replicas_would_send_sixty_a_second() -> None:
    """(The check above can fail: the same two limiters unshared go over 30 a second together.)"""
    clock = VirtualClock()
    api = FakeAPI(clock)
    replicas = [limiter(clock), limiter(clock)]
    await clock.run(asyncio.gather(*(send(rl, api, base + i) for rl, base in zip(replicas, (1_000, 2_000), strict=True)
                                     for i in range(60))))
    assert most_in_window([t for _, _, t in api.calls], 1.0) > 30


async def test_a_failing_shared_budget_leaves_the_replicas_own() -> None:
    clock = VirtualClock()
    api = FakeAPI(clock)
    rl = limiter(clock)

    async def broken(rate: int, period: float) -> float:
        raise OSError("database gone")

    rl.share_budget(broken)
    await clock.run(asyncio.gather(*(send(rl, api, 3_000 + i) for i in range(40))))
    times = [t for _, _, t in api.calls]
    assert len(times) == 40 and most_in_window(times, 1.0) <= 30
