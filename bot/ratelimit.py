"""Flood control for every Bot API request the bot makes: our own `BaseRateLimiter` (issue 13).

PTB's `AIORateLimiter` paces groups and the overall rate, not private chats, and a 429 pauses
*every* request of the bot: one chat's `retry_after` of 60 s made another chat's /help wait 59 s.
Here each chat has its own queue and its own pause.

What counts, and against what (Telegram's Bot FAQ limits):
- A request with a `chat_id` (sends, edits, deletes, chat actions) takes one slot of the overall
  budget, <= 30 per second across all chats. Slots go to interactive requests before bulk ones
  (`SendOptions.priority`: digests are BULK), so a digest fan-out does not queue replies behind it.
- Requests that create a message in a chat (`send*`, `copyMessage(s)`, `forwardMessage(s)`; not
  `sendChatAction`) also wait for that chat's turn, queued in order per chat, never dropped:
  a private chat gets one message per second sustained, as a token bucket of `chat_burst` (10):
  Telegram "may allow short bursts" in a chat, and a user who sends five reports at once should
  not wait five seconds for the fifth reply; groups, supergroups and channels (negative ids,
  `@username`) get <= 20 per minute (a sliding window). BULK messages (digests) take no burst:
  they go at least `chat_interval` after the chat's previous message. Edits and deletes are not
  held to the per-chat cap (an edit turns a first reply into a summary and must not queue
  behind it).
- Requests without a `chat_id` (answerCallbackQuery, getFile, getMe, setMyCommands, ...) and
  `get*` methods are not counted (getUpdates never reaches a rate limiter).

429 (RetryAfter), decided here:
- with a `chat_id`: only that chat is paused for `retry_after`; the request is then sent again
  (at most `max_retries` times, and only if `retry_after <= max_retry_after`; else raised).
- without a `chat_id`: only that *method* is paused. Those methods have their own limits; a
  429 on, say, setMyCommands says nothing about sending messages.
- a global flood: Telegram answers an overall excess with 429s on sends to whichever chats come
  next, so when `flood_chats` (3) different chats get a 429 within `flood_window` (1 s), all
  chats are paused for the longest `retry_after` seen.

Other failures:
- an answer with a 5xx status (Internal Server Error, Bad Gateway, Service Unavailable, Gateway
  Timeout; PTB keeps only the message) or a connection that was never made (connect error or
  timeout, pool timeout): Telegram did not act on the request, so it is sent again after an
  exponential backoff, at most `server_retries` times.
- a request that may have reached Telegram without our seeing the answer (read/write timeout,
  connection dropped after sending): raised at once, never sent again here; a blind retry is how
  12 of 190 chats got a digest twice. `may_have_been_sent` tells callers which case they have.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import itertools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum
from typing import Any

import httpx
from telegram._utils.types import JSONDict
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Callback = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]
# (grants per window, window seconds) -> 0.0 once a slot is taken, else seconds to wait
SharedBudget = Callable[[int, float], Awaitable[float]]

# A 5xx answer: PTB keeps the description, or "<phrase> (<code>)" when there is none.
_SERVER_ERROR = re.compile(
    r"\(5[0-9][0-9]\)|internal server error|bad gateway|service unavailable|gateway time-?out", re.IGNORECASE
)
_MESSAGE_METHODS = re.compile(r"^(send(?!chataction)\w+|copymessages?|forwardmessages?)$", re.IGNORECASE)


class Priority(IntEnum):
    INTERACTIVE = 0  # a reply to someone waiting for it
    BULK = 1  # digests: may wait behind replies


@dataclass(frozen=True)
class SendOptions:
    """`rate_limit_args` of a request: its priority, its own retry budget (None: the limiter's;
    0: the caller handles 429 and 5xx itself), and a coroutine awaited right before the request
    is written (each attempt), once every wait is over: the digest service and the replies
    record 'sending' there, so a crash before that moment leaves the send marked 'not started'.
    `refused` is awaited when Telegram refused an attempt without acting on it (a 429, a 5xx, no
    connection) and the limiter is about to wait and try again: a crash during that wait then
    finds the send 'not started' again instead of 'may have gone out'."""

    priority: Priority = Priority.INTERACTIVE
    retries: int | None = None
    before_send: Callable[[], Awaitable[None]] | None = field(default=None, compare=False)
    refused: Callable[[], Awaitable[None]] | None = field(default=None, compare=False)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def not_processed(exc: BaseException) -> bool:
    """Telegram certainly did not act on the request (a 5xx answer, no connection made): sending
    it again cannot duplicate anything."""
    if isinstance(exc, (BadRequest, Forbidden, InvalidToken, Conflict, ChatMigrated, RetryAfter)):
        return False
    cause = exc.__cause__
    if isinstance(exc, TimedOut):
        return isinstance(cause, (httpx.ConnectTimeout, httpx.PoolTimeout)) or str(exc).startswith("Pool timeout")
    if isinstance(exc, NetworkError):
        if isinstance(cause, httpx.HTTPError):
            return isinstance(cause, httpx.ConnectError)
        if cause is not None and not isinstance(cause, TelegramError):
            return False  # "Unknown error in HTTP implementation": anything may have happened
        return bool(_SERVER_ERROR.search(str(exc)))
    return False


def may_have_been_sent(exc: BaseException) -> bool:
    """The request may have reached Telegram and been acted on, but its answer was lost (a read
    or write timeout, a connection dropped after the request went out): do not send it again."""
    if isinstance(exc, TimedOut):
        return not not_processed(exc)
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        cause = exc.__cause__
        if isinstance(cause, httpx.HTTPError):
            return not isinstance(cause, httpx.ConnectError)
        return cause is not None and not isinstance(cause, TelegramError)
    return False


class _Slots:
    """The overall budget: at most `rate` grants in any `period` + `margin`, at least
    `period / rate / 2` apart (a backlog drains smoothly), lower `Priority` first, FIFO within a
    priority. One pump task hands out the grants; a waiter that gives up (cancelled) is skipped.
    The margin absorbs the jitter between a grant and the request's arrival (a `before_send`
    write, scheduling), so arrivals too stay within `rate` per `period`."""

    def __init__(self, rate: float, period: float, clock: Clock, sleep: Sleep, margin: float = 0.0) -> None:
        if rate <= 0 or period <= 0:
            raise ValueError("rate and period must be positive")
        self.period = period + margin
        self.shared: SharedBudget | None = None
        self._min_gap = period / rate / 2
        self._grants: collections.deque[float] = collections.deque(maxlen=max(1, int(rate * period)))
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._clock = clock
        self._sleep = sleep
        self._pump: asyncio.Task[None] | None = None

    def _wait(self) -> float:
        now = self._clock()
        wait = 0.0
        if len(self._grants) == self._grants.maxlen:
            wait = self._grants[0] + self.period - now
        if self._grants:
            wait = max(wait, self._grants[-1] + self._min_gap - now)
        return wait

    async def acquire(self, priority: Priority) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (int(priority), next(self._seq), future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.ensure_future(self._run())
        await future

    async def _run(self) -> None:
        while self._waiters:
            if (wait := self._wait()) > 0:
                await self._sleep(wait)
                continue
            if self._waiters[0][2].done():  # its caller gave up
                heapq.heappop(self._waiters)
                continue
            if self.shared is not None and (wait := await self._shared_wait()) > 0:
                await self._sleep(wait)
                continue
            if not self._waiters:  # (every waiter gave up while the shared slot was taken)
                continue
            _, _, future = heapq.heappop(self._waiters)
            if future.done():  # gave up while the shared slot was taken: the slot goes unused
                continue
            self._grants.append(self._clock())
            future.set_result(None)

    async def _shared_wait(self) -> float:
        """0 once a slot of the budget shared with other replicas is taken, else how long to wait."""
        assert self.shared is not None
        try:
            return await self.shared(self._grants.maxlen or 1, self.period)
        except Exception:
            log.exception("the shared send budget failed: this process's own budget only")
            return 0.0

    async def retake(self) -> None:
        """Another shared slot, for a request whose slot was granted before a slow `before_send`
        (the digest's 'sending' write waits for the database's write lock): the replicas' budget
        counts when requests leave, not when they queued. The earlier slot stays spent."""
        if self.shared is None:
            return
        while (wait := await self._shared_wait()) > 0:
            await self._sleep(wait)

    async def close(self) -> None:
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for _, _, future in self._waiters:
            future.cancel()
        self._waiters.clear()


@dataclass
class _Chat:
    group: bool
    tokens: float  # private chats: the burst left
    updated: float  # when `tokens` was computed
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # FIFO: messages keep their order
    paused_until: float = 0.0  # a 429 for this chat
    last: float = float("-inf")  # when the answer to the last message came
    recent: collections.deque[float] = field(default_factory=collections.deque)  # groups: last minute
    users: int = 0  # requests for this chat inside the limiter


class ChatRateLimiter(BaseRateLimiter[SendOptions | int]):
    """See the module docstring. `rate_limit_args` is a `SendOptions` or, as with PTB's own
    limiter, an int: the number of 429 retries for that request."""

    def __init__(
        self,
        *,
        overall_rate: float = 30.0,
        overall_period: float = 1.0,
        overall_margin: float = 0.03,
        chat_interval: float = 1.0,
        chat_burst: int = 10,
        group_rate: int = 20,
        group_period: float = 60.0,
        max_retries: int = 3,
        max_retry_after: float = 300.0,
        server_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        flood_chats: int = 3,
        flood_window: float = 1.0,
        max_chats: int = 10_000,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.chat_interval = chat_interval
        self.chat_burst = max(1, chat_burst)
        self.group_rate = group_rate
        self.group_period = group_period
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.server_retries = server_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.flood_chats = flood_chats
        self.flood_window = flood_window
        self._clock = clock
        self._sleep = sleep
        self._slots = _Slots(overall_rate, overall_period, clock, sleep, overall_margin)
        self._chats: dict[int | str, _Chat] = {}
        self._prune_at = max_chats
        self._max_chats = max_chats
        self._method_paused: dict[str, float] = {}
        self._global_until = 0.0
        self._recent_429: collections.deque[tuple[float, int | str, float]] = collections.deque(maxlen=256)

    late_grant = 0.05  # seconds: a shared slot older than this when the request goes is taken again

    def share_budget(self, take: SharedBudget, margin: float = 0.05) -> None:
        """Replicas on one database: every overall slot is also taken from `take`
        (`Repository.take_send_slot`), so the replicas together stay within the overall rate; in
        the order this limiter grants its own (priorities kept within a process). `margin` is
        added to the period: the grant is on the database's clock and the request reaches
        Telegram a few milliseconds after it."""
        self._slots.period += margin
        self._slots.shared = take

    async def initialize(self) -> None:
        """Nothing to set up: the pump task starts with the first request."""

    async def shutdown(self) -> None:
        await self._slots.close()

    # --- what a request is ---------------------------------------------------------------------
    @staticmethod
    def _chat_key(data: dict[str, Any]) -> int | str | None:
        chat_id = data.get("chat_id")
        if chat_id is None or isinstance(chat_id, bool):
            return None
        if isinstance(chat_id, int):
            return chat_id
        text = str(chat_id).strip()
        if re.fullmatch(r"-?[0-9]{1,20}", text):
            return int(text)
        return text.lower()  # @channelusername

    def _chat(self, key: int | str) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            if len(self._chats) >= self._prune_at:
                self._prune()
            group = isinstance(key, str) or key < 0
            chat = self._chats[key] = _Chat(group=group, tokens=float(self.chat_burst), updated=self._clock())
        return chat

    def _prune(self) -> None:
        """Forget chats with nothing queued, no pause and no recent message (memory bound)."""
        now = self._clock()
        self._chats = {
            k: c
            for k, c in self._chats.items()
            if c.users
            or c.paused_until > now
            or c.last + (self.group_period if c.group else self.chat_interval * self.chat_burst) > now
        }
        self._prune_at = max(self._max_chats, 2 * len(self._chats))

    def paused_for(self, chat_id: int | str) -> float:
        """Seconds the chat is still paused by a 429 (or a global flood); for logs and tests."""
        chat = self._chats.get(chat_id)
        until = max(self._global_until, chat.paused_until if chat else 0.0)
        return max(0.0, until - self._clock())

    # --- waiting ---------------------------------------------------------------------------------
    def _tokens(self, chat: _Chat, now: float) -> float:
        return min(float(self.chat_burst), chat.tokens + (now - chat.updated) / self.chat_interval)

    def _turn_at(self, chat: _Chat, capped: bool, strict: bool) -> float:
        """When the request may go: after any 429 pause and, for a new message, the chat's cap."""
        now = self._clock()
        until = max(chat.paused_until, self._global_until)
        if not capped:
            return until
        if strict:
            until = max(until, chat.last + self.chat_interval)
        if chat.group:
            while chat.recent and chat.recent[0] + self.group_period <= now:
                chat.recent.popleft()
            if len(chat.recent) >= self.group_rate:
                until = max(until, chat.recent[0] + self.group_period)
        elif (tokens := self._tokens(chat, now)) < 1.0:
            until = max(until, now + (1.0 - tokens) * self.chat_interval)
        return until

    def _take(self, chat: _Chat) -> None:
        now = self._clock()
        if chat.group:
            chat.recent.append(now)
        else:
            chat.tokens, chat.updated = self._tokens(chat, now) - 1.0, now

    async def _wait_turn(self, chat: _Chat, capped: bool, strict: bool) -> None:
        while (wait := self._turn_at(chat, capped, strict) - self._clock()) > 0:
            await self._sleep(wait)

    def _note_429(self, key: int | str, chat: _Chat, retry_after: float) -> None:
        now = self._clock()
        chat.paused_until = max(chat.paused_until, now + retry_after)
        while self._recent_429 and self._recent_429[0][0] + self.flood_window < now:
            self._recent_429.popleft()
        self._recent_429.append((now, key, retry_after))
        chats = {k for _, k, _ in self._recent_429}
        if len(chats) >= self.flood_chats:
            longest = max(r for _, _, r in self._recent_429)
            if now + longest > self._global_until:
                log.warning("429 from %d chats within %.1f s: global flood, all chats paused %.1f s",
                            len(chats), self.flood_window, longest)
                self._global_until = now + longest

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))

    # --- the request -----------------------------------------------------------------------------
    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: SendOptions | int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if isinstance(rate_limit_args, SendOptions):
            options = rate_limit_args
        elif isinstance(rate_limit_args, int) and not isinstance(rate_limit_args, bool):
            options = SendOptions(retries=rate_limit_args)
        else:
            options = SendOptions()
        key = self._chat_key(data)
        if key is None or endpoint.lower().startswith("get"):
            return await self._uncounted(callback, args, kwargs, endpoint, options)
        chat = self._chat(key)
        capped = bool(_MESSAGE_METHODS.match(endpoint))
        chat.users += 1
        try:
            async with chat.lock if capped else contextlib.nullcontext():
                return await self._counted(key, chat, capped, callback, args, kwargs, endpoint, options)
        finally:
            chat.users -= 1

    async def _counted(
        self,
        key: int | str,
        chat: _Chat,
        capped: bool,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        options: SendOptions,
    ) -> bool | JSONDict | list[JSONDict]:
        retries = self.max_retries if options.retries is None else options.retries
        server_retries = self.server_retries if options.retries is None else options.retries
        strict = options.priority is Priority.BULK
        limited = failed = 0
        while True:
            await self._wait_turn(chat, capped, strict)
            await self._slots.acquire(options.priority)
            granted = self._clock()
            if self._turn_at(chat, capped, strict) > self._clock():
                continue  # a 429 for this chat (or a flood) came while we queued for the slot
            if capped:
                self._take(chat)
            if options.before_send is not None:
                await options.before_send()
                if self._clock() - granted > self.late_grant:
                    await self._slots.retake()  # (a shared slot taken long before the request is sent)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                self._note_429(key, chat, wait)
                limited += 1
                if limited > retries or wait > self.max_retry_after:
                    raise
                log.info("%s to chat %s: 429, this chat waits %.1f s", endpoint, key, wait)
                await self._refused(options)
            except TelegramError as exc:
                if not not_processed(exc) or failed >= server_retries:
                    raise
                failed += 1
                delay = self._backoff(failed)
                log.info("%s to chat %s: %s, retry %d in %.1f s", endpoint, key, exc, failed, delay)
                await self._refused(options)
                await self._sleep(delay)
            finally:
                if capped:
                    chat.last = self._clock()

    @staticmethod
    async def _refused(options: SendOptions) -> None:
        if options.refused is not None:
            await options.refused()

    async def _uncounted(
        self, callback: Callback, args: Any, kwargs: dict[str, Any], endpoint: str, options: SendOptions
    ) -> bool | JSONDict | list[JSONDict]:
        retries = self.max_retries if options.retries is None else options.retries
        server_retries = self.server_retries if options.retries is None else options.retries
        limited = failed = 0
        method = endpoint.lower()
        while True:
            while (wait := self._method_paused.get(method, 0.0) - self._clock()) > 0:
                await self._sleep(wait)
            if options.before_send is not None:
                await options.before_send()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                self._method_paused[method] = max(self._method_paused.get(method, 0.0), self._clock() + wait)
                limited += 1
                if limited > retries or wait > self.max_retry_after:
                    raise
                log.info("%s: 429, this method waits %.1f s", endpoint, wait)
                await self._refused(options)
            except TelegramError as exc:
                if not not_processed(exc) or failed >= server_retries:
                    raise
                failed += 1
                delay = self._backoff(failed)
                log.info("%s: %s, retry %d in %.1f s", endpoint, exc, failed, delay)
                await self._refused(options)
                await self._sleep(delay)
