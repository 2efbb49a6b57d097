"""Paced sending of digests: <= `rate` messages/s overall, one message per `per_chat_interval` per
chat, each chat with its own retries, so a chat that is slow, rate-limited or failing only delays
itself.

When the bot's rate limiter is `bot.ratelimit.ChatRateLimiter` (the app's), the pacing is left to
it (one budget shared with the replies, digests at BULK priority so replies go first) and this
sender only owns the retries; with any other bot it paces by itself (a sliding window shared by
all chats).

At most once: a message whose request may have reached Telegram without our seeing the answer
(read timeout, connection dropped after sending; `bot.ratelimit.may_have_been_sent`) is never sent
again: the result is Status.UNCERTAIN. Only refusals Telegram did not act on (429, 5xx, no
connection) are retried. `SendHooks.started` runs right before each request is written, after
every wait, and `SendHooks.refused` when Telegram refused it: the digest service records there
whether a chat's digest may have gone out.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from telegram import LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.ratelimit import ChatRateLimiter, Priority, SendOptions, may_have_been_sent, not_processed

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class Outgoing:
    """One message: HTML text, or a photo (PNG bytes or a Telegram file_id) with a caption."""

    text: str | None = None
    photo: bytes | str | None = None
    caption: str | None = None


class Status(StrEnum):
    DELIVERED = "delivered"  # every part sent
    FORBIDDEN = "forbidden"  # the chat blocked the bot / the bot left / the chat is gone
    FAILED = "failed"  # gave up after retries (or a permanent error): the part was not sent
    UNCERTAIN = "uncertain"  # the part's request may have reached Telegram; its answer was lost


@dataclass
class SendResult:
    status: Status
    sent: int = 0  # parts that reached Telegram
    error: str | None = None
    messages: list[Message] = field(default_factory=list)
    in_doubt: bool = False  # a part may have gone out unconfirmed (lost answer, stopped in flight)


@dataclass
class SendHooks:
    """Coroutines the sender awaits: `started` right before a request is written (after every
    wait), `refused` when Telegram refused it without acting on it (429, 5xx) before a retry."""

    started: Callable[[], Awaitable[None]] | None = None
    refused: Callable[[], Awaitable[None]] | None = None


class SlidingWindowLimiter:
    """At most `rate` grants in any `period`-second window, and grants at least
    `period / rate / 2` apart so a backlog drains smoothly instead of in bursts.

    Grants are FIFO (asyncio.Lock wakes waiters in order). Lateness of one grant is absorbed by the
    window rather than passed on, so the achieved rate stays at the cap under load.
    """

    def __init__(
        self,
        rate: float = 30.0,
        period: float = 1.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or period <= 0:
            raise ValueError("rate and period must be positive")
        self.rate = rate
        self.period = period
        self._slots = max(1, int(rate * period))
        self._min_gap = period / rate / 2
        self._grants: collections.deque[float] = collections.deque(maxlen=self._slots)
        self._lock = asyncio.Lock()
        self._clock = clock
        self._sleep = sleep

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                wait = 0.0
                if len(self._grants) == self._slots:
                    wait = self._grants[0] + self.period - now
                if self._grants:
                    wait = max(wait, self._grants[-1] + self._min_gap - now)
                if wait <= 0:
                    break
                await self._sleep(wait)
            self._grants.append(self._clock())


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PacedSender:
    """Sends a chat's messages in order under the global and per-chat caps, with retries.

    - 429 (RetryAfter): that chat waits `retry_after`, then the part is sent again.
    - 403 Forbidden or "chat not found": Status.FORBIDDEN at once (the caller deactivates).
    - 5xx, no connection made: retried with exponential backoff, then Status.FAILED.
    - a lost answer (read timeout, connection dropped after sending): Status.UNCERTAIN at once,
      not retried (it may have been delivered).
    - other 400s and errors: permanent, Status.FAILED without retrying.
    """

    def __init__(
        self,
        bot: Any,
        *,
        rate: float = 30.0,
        per_chat_interval: float = 1.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        max_retry_after: float = 600.0,
        max_rate_limited: int = 5,
        settle_timeout: float = 10.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.limiter = SlidingWindowLimiter(rate, 1.0, clock=clock, sleep=sleep)
        self.per_chat_interval = per_chat_interval
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.max_rate_limited = max_rate_limited
        self.settle_timeout = settle_timeout
        self._clock = clock
        self._sleep = sleep
        self._chat_next: dict[int, float] = {}
        self.sent_total = 0
        # The app's limiter paces everything the bot sends; pacing here too would only slow down.
        self.bot_paces = isinstance(getattr(bot, "rate_limiter", None), ChatRateLimiter)

    def _hold(self, chat_id: int, seconds: float) -> None:
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), self._clock() + seconds)
        if len(self._chat_next) > 50_000:  # forget chats whose turn has long come
            now = self._clock()
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}

    async def _turn(self, chat_id: int) -> None:
        """Wait for this chat's next slot first (holding nothing), then for a global grant
        (unless the bot's limiter grants them)."""
        while (wait := self._chat_next.get(chat_id, 0.0) - self._clock()) > 0:
            await self._sleep(wait)
        if self.bot_paces:
            return
        await self.limiter.acquire()
        # Claim the chat's slot now, so a concurrent sender to the same chat queues behind us.
        self._hold(chat_id, self.per_chat_interval)

    async def _call(
        self, chat_id: int, part: Outgoing, before: Callable[[], Awaitable[None]], bulk: bool
    ) -> Message:
        extra: dict[str, Any] = {}
        if self.bot_paces:  # the limiter calls `before` once its waits are over
            priority = Priority.BULK if bulk else Priority.INTERACTIVE
            extra["rate_limit_args"] = SendOptions(priority=priority, retries=0, before_send=before)
        else:
            await before()
        if part.photo is not None:
            return await self.bot.send_photo(
                chat_id=chat_id, photo=part.photo, caption=part.caption, parse_mode=ParseMode.HTML, **extra
            )
        return await self.bot.send_message(
            chat_id=chat_id,
            text=part.text or "",
            parse_mode=ParseMode.HTML,
            link_preview_options=_NO_PREVIEW,
            **extra,
        )

    async def _paced_call(
        self, chat_id: int, part: Outgoing, state: dict[str, bool], hooks: SendHooks | None, bulk: bool
    ) -> Message:
        """Wait for the turn, then call at once in the same task: no scheduling gap between the
        grant and the request, so the pace the limiter grants is the pace on the wire."""
        await self._turn(chat_id)

        async def before() -> None:
            if hooks is not None and hooks.started is not None:
                await hooks.started()
            state["started"] = True

        return await self._call(chat_id, part, before, bulk)

    async def _call_accounted(
        self, chat_id: int, part: Outgoing, result: SendResult, hooks: SendHooks | None, bulk: bool
    ) -> Message:
        """The paced call, shielded: if we are cancelled while a request is in flight, wait
        (briefly) for its answer and count the part as sent if it arrived, or as in doubt if no
        answer came, then let the cancellation go on; a request still waiting for its turn is
        simply dropped. Otherwise a stop at the wrong moment would release a claim for a
        message already sent."""
        state = {"started": False}
        call = asyncio.ensure_future(self._paced_call(chat_id, part, state, hooks, bulk))
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            if state["started"] and not call.done():
                await asyncio.wait({call}, timeout=self.settle_timeout)
            if call.done() and not call.cancelled() and call.exception() is None:
                result.sent += 1
                result.messages.append(call.result())
                self.sent_total += 1
            else:
                refused = call.done() and not call.cancelled() and not may_have_been_sent(call.exception())
                if state["started"] and not refused:
                    result.in_doubt = True
                    result.error = result.error or "stopped while the request was in flight"
                call.cancel()
            raise

    @staticmethod
    async def _refused(result: SendResult, hooks: SendHooks | None) -> None:
        if result.sent == 0 and hooks is not None and hooks.refused is not None:
            await hooks.refused()

    async def send(
        self,
        chat_id: int,
        parts: Sequence[Outgoing],
        result: SendResult | None = None,
        *,
        hooks: SendHooks | None = None,
        bulk: bool = True,
    ) -> SendResult:
        """Send `parts` in order; stops at the first part that cannot be sent. Pass `result` to
        see progress (`result.sent`) even if the task is cancelled half-way. `bulk` (digests)
        lets replies to users go first under the app's limiter."""
        result = result if result is not None else SendResult(status=Status.DELIVERED)
        for part in parts:
            attempts = limited = 0
            while True:
                try:
                    message = await self._call_accounted(chat_id, part, result, hooks, bulk)
                except RetryAfter as exc:
                    wait = _seconds(exc.retry_after)
                    limited += 1
                    if limited > self.max_rate_limited or wait > self.max_retry_after:
                        result.status, result.error = Status.FAILED, f"rate limited: {exc}"
                        break
                    log.info("chat %s: 429, retrying in %.1f s", chat_id, wait)
                    self._hold(chat_id, wait)
                    await self._refused(result, hooks)
                    continue
                except Forbidden as exc:
                    result.status, result.error = Status.FORBIDDEN, str(exc)
                    break
                except BadRequest as exc:  # before NetworkError: BadRequest subclasses it
                    gone = "chat not found" in str(exc).lower()
                    result.status, result.error = (Status.FORBIDDEN if gone else Status.FAILED), str(exc)
                    break
                except NetworkError as exc:  # includes TimedOut and 5xx answers
                    if may_have_been_sent(exc):
                        result.status, result.error = Status.UNCERTAIN, f"answer lost: {type(exc).__name__}: {exc}"
                        result.in_doubt = True
                        break
                    attempts += 1
                    if not not_processed(exc) or attempts >= self.max_attempts:
                        result.status, result.error = Status.FAILED, f"{type(exc).__name__}: {exc}"
                        break
                    delay = min(self.max_backoff, self.backoff * 2 ** (attempts - 1))
                    log.info("chat %s: %s, retry %d in %.1f s", chat_id, exc, attempts, delay)
                    self._hold(chat_id, delay)
                    await self._refused(result, hooks)
                    continue
                except TelegramError as exc:
                    result.status, result.error = Status.FAILED, f"{type(exc).__name__}: {exc}"
                    break
                result.sent += 1
                result.messages.append(message)
                self.sent_total += 1
                # Count the per-chat interval from the answer, so the next message arrives at least
                # `per_chat_interval` after this one did, whatever the round-trip time.
                self._hold(chat_id, self.per_chat_interval)
                break
            if result.status is not Status.DELIVERED:
                log.warning(
                    "chat %s: %s after %d part(s): %s", chat_id, result.status, result.sent, result.error
                )
                return result
        return result
