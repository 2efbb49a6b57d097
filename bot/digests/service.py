"""The digest service: who is due, building each digest once, and delivering it.

The guarantee: a chat never gets a period's digest twice (at most once), and every chat whose
send had not started when the bot stopped or crashed gets it at the next start (within the grace
window). Only a chat whose request was in flight at a crash, or whose answer was lost, may end
without it; it is logged with its chat id and period.

It rests on the deliveries log, one row per (chat, period):
- 'claimed' (`claim_delivery`): a worker took the chat; nothing has been sent. Two runs never
  send to a chat side by side. Left by a process that died, it is taken over and sent.
- 'sending' (`mark_sending`): written right before the first request goes out, once every wait
  (the pacer, the rate limiter's per-chat and overall caps) is over: from here the digest may
  have reached the chat, so it is never sent again. Telegram refusing the request without acting
  on it (429, 5xx) sets it back to 'claimed' while we wait to retry. A lost answer (read
  timeout, connection dropped after sending) keeps it, with a note, and is logged: at most once.
- 'sent' (`mark_delivered`): confirmed, also when only some parts went out (never a part twice).
A send that fails for good with nothing sent (403, 400, retries spent) deletes the row, so a
later run (the periodic sweep) may try again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digests.content import build_digest
from bot.digests.delivery import Outgoing, PacedSender, SendHooks, SendResult, Status
from bot.digests.messages import chart_caption, render_digest
from bot.digests.schedule import Due, Slot, latest_due
from storage import Repository, StoredReport, Subscription

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class PreparedDigest:
    """A digest rendered once and sent to every chat that shares its scope and window."""

    messages: list[str]
    chart: bytes | None = None
    caption: str | None = None
    empty: bool = False
    chart_file_id: str | None = None  # after the first upload, later chats reuse the file

    def parts(self) -> list[Outgoing]:
        out = [Outgoing(text=m) for m in self.messages]
        if self.chart is not None:
            out.append(Outgoing(photo=self.chart_file_id or self.chart, caption=self.caption))
        return out


def prepare(
    reports: list[StoredReport],
    *,
    scope: int,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    cadence: str | None,
    with_chart: bool = True,
) -> PreparedDigest:
    """Build and render (CPU work: callers run it in a thread)."""
    digest = build_digest(reports, start=start, end=end, scope=scope)
    prepared = PreparedDigest(messages=render_digest(digest, tz, cadence), empty=digest.empty)
    if with_chart and digest.chart is not None:
        from bot.digests.chart import render_chart

        try:
            prepared.chart = render_chart(digest.chart)
            prepared.caption = chart_caption(digest)
        except Exception:  # a chart is a bonus: never lose the digest over it
            log.exception("chart for scope %s failed", scope)
    return prepared


DigestCache = dict[tuple[int, datetime, datetime, str, str], "asyncio.Future[PreparedDigest]"]


@dataclass
class FanOutReport:
    """What one run did, by outcome ("sent", "already", "empty_skipped", "forbidden", "failed",
    "uncertain" (may have gone out: recorded, not resent), "partial", "cancelled", ...)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    not_started: int = 0

    def __getitem__(self, key: str) -> int:
        return self.outcomes[key]


class DigestService:
    def __init__(
        self,
        repo: Repository,
        sender: PacedSender,
        *,
        now: Callable[[], datetime] = utc_now,
        grace: timedelta = timedelta(hours=24),
        workers: int = 64,
        keep_going: Callable[[], bool] | None = None,
        on_schedule_change: Callable[[set[Slot]], None] | None = None,
        drain_timeout: float = 10.0,
    ) -> None:
        self.repo = repo
        self.sender = sender
        self.now = now
        self.grace = grace
        self.workers = workers
        self._keep_going = keep_going
        self._on_schedule_change = on_schedule_change
        self._stopped = False
        self._executor: ThreadPoolExecutor | None = None
        self._failures: Counter[tuple[int, str]] = Counter()
        self._inflight: set[tuple[int, str]] = set()
        self._told_in_doubt: set[tuple[int, str]] = set()
        self.owner = uuid.uuid4().hex  # whose 'claimed' rows are ours (others' are a dead process's)
        self.max_failed_runs = 3  # a chat that failed this often for one period is left alone
        self.drain_timeout = drain_timeout

    # --- lifecycle ----------------------------------------------------------------------------
    def stop(self) -> None:
        """Finish the digests being sent, start no new ones."""
        self._stopped = True

    def running(self) -> bool:
        return not self._stopped and (self._keep_going is None or self._keep_going())

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def _in_thread(self, func: Callable[[], PreparedDigest]) -> PreparedDigest:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="digest")
        return await asyncio.get_running_loop().run_in_executor(self._executor, func)

    # --- the schedule ---------------------------------------------------------------------------
    async def slots(self) -> set[Slot]:
        return {Slot.of(sub) for sub in await self.repo.active_subscriptions()}

    async def rebuild_schedule(self) -> set[Slot]:
        """One job per distinct (cadence, day, time, zone) among active subscriptions."""
        slots = await self.slots()
        if self._on_schedule_change is not None:
            self._on_schedule_change(slots)
        log.info("digest schedule: %d subscription slot(s)", len(slots))
        return slots

    async def run_slot(self, slot: Slot) -> FanOutReport:
        """A slot's cron job fired: every active subscription in it gets the latest occurrence."""
        now = self.now()
        occurrence = slot.latest(now)
        dues = []
        for sub in await self.repo.active_subscriptions():
            if Slot.of(sub) != slot:
                continue
            due = latest_due(sub, now)
            if due is not None and due.occurrence == occurrence:
                dues.append(due)
        log.info("digest slot %s: %d subscriber(s) due", slot.key, len(dues))
        return await self.fan_out(dues)

    async def catch_up(self) -> FanOutReport:
        """At start-up (and periodically): send the latest digest a subscriber missed if it is
        still within the grace window; log and skip older ones."""
        now = self.now()
        dues: list[Due] = []
        skipped = 0
        for sub in await self.repo.active_subscriptions():
            due = latest_due(sub, now)
            if due is None or self._failures[(sub.chat_id, due.key)] >= self.max_failed_runs:
                continue
            delivery = await self.repo.get_delivery(sub.chat_id, due.key)
            held = (sub.chat_id, due.key)
            if delivery is not None:
                if delivery.state == "sending" and held not in self._inflight and held not in self._told_in_doubt:
                    # Its request went out (or was about to) when the sender stopped or lost the
                    # answer: the digest may have reached the chat. Never risk sending it twice.
                    self._told_in_doubt.add(held)
                    log.warning(
                        "digest %s for chat %s may have been sent (%s): not resent",
                        due.key,
                        sub.chat_id,
                        delivery.note or "the bot stopped while its request was in flight",
                    )
                if delivery.state != "claimed" or held in self._inflight:
                    continue
                # 'claimed' by a process that stopped before its send started: nothing went out.
            if now - due.occurrence > self.grace:
                skipped += 1
                log.info(
                    "digest %s for chat %s missed by %s (grace %s): skipped",
                    due.key,
                    sub.chat_id,
                    now - due.occurrence,
                    self.grace,
                )
                continue
            dues.append(due)
        if dues:
            log.info("digest catch-up: %d missed digest(s) within the grace window", len(dues))
        report = await self.fan_out(dues)
        report.outcomes["skipped_grace"] += skipped
        return report

    # --- fan-out ---------------------------------------------------------------------------------
    async def fan_out(self, dues: list[Due]) -> FanOutReport:
        """Deliver to many chats at once: `workers` chats in flight, each paced on its own."""
        report = FanOutReport()
        queue = list(reversed(dues))
        cache: DigestCache = {}

        async def worker() -> None:
            while queue and self.running():
                due = queue.pop()
                report.outcomes[await self.deliver(due, cache)] += 1

        tasks = [asyncio.ensure_future(worker()) for _ in range(min(self.workers, len(dues)))]
        try:
            while tasks and not all(t.done() for t in tasks):
                await asyncio.wait(tasks, timeout=0.5)
                if not self.running():
                    # Stopping: chats in flight get `drain_timeout` to finish (a 429 may ask for
                    # minutes), then they are cancelled and settle their claims.
                    _, pending = await asyncio.wait(tasks, timeout=self.drain_timeout)
                    for task in pending:
                        task.cancel()
                    if pending:
                        await asyncio.wait(pending)
                    break
        except asyncio.CancelledError:
            # Stopped from outside: every chat in flight settles its claim before we go.
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            raise
        for task in tasks:
            if not task.cancelled():
                task.result()  # a bug in a worker should not pass silently
        report.not_started = len(queue)
        if dues:
            log.info("digest fan-out: %s, not started %d", dict(report.outcomes), report.not_started)
        return report

    async def _prepared(self, scope: int, due: Due, cache: DigestCache) -> PreparedDigest:
        """The digest for (scope, window): built once per run by its own task, which a worker
        being cancelled does not cancel (others may be waiting for it)."""
        start, end = due.window
        key = (scope, start, end, due.sub.timezone, due.sub.cadence)
        task = cache.get(key)
        if task is None:
            tz = ZoneInfo(due.sub.timezone)
            task = cache[key] = asyncio.ensure_future(self.build(scope, start, end, tz, due.sub.cadence))
        return await asyncio.shield(task)

    async def build(
        self, scope: int, start: datetime, end: datetime, tz: ZoneInfo, cadence: str | None
    ) -> PreparedDigest:
        reports = await self.repo.received_between(scope, start, end)
        job = lambda: prepare(reports, scope=scope, start=start, end=end, tz=tz, cadence=cadence)  # noqa: E731
        return job() if not reports else await self._in_thread(job)

    async def _may_receive(self, chat_id: int) -> bool:
        user = await self.repo.get_user(chat_id)
        return user is None or user.role not in ("blocked", "pending")

    async def deliver(
        self,
        due: Due,
        cache: DigestCache | None = None,
    ) -> str:
        """One chat's digest for one period, at most once; returns the outcome's name."""
        chat, key = due.sub.chat_id, due.key
        if (chat, key) in self._inflight:  # another run of ours is at it
            return "already"
        self._inflight.add((chat, key))
        try:
            if not await self._may_receive(chat):
                log.info("digest %s for chat %s: chat no longer allowed, not sent", key, chat)
                return "not_allowed"
            claim = asyncio.ensure_future(self.repo.claim_delivery(chat, key, self.owner))
            try:
                claimed = await asyncio.shield(claim)
            except asyncio.CancelledError:  # stopped mid-claim: undo our claim, nothing was sent
                await asyncio.wait({claim})
                if not claim.cancelled() and claim.exception() is None and claim.result():
                    await self.repo.release_delivery(chat, key)
                raise
            if not claimed:
                return "already"
            return await self._send_claimed(due, cache)
        finally:
            self._inflight.discard((chat, key))

    async def _send_claimed(self, due: Due, cache: DigestCache | None) -> str:
        chat, key = due.sub.chat_id, due.key
        result = SendResult(status=Status.DELIVERED)
        marked = False

        async def started() -> None:  # right before a request is written
            nonlocal marked
            if not marked:
                await self.repo.mark_sending(chat, key)
                marked = True

        async def refused() -> None:  # Telegram did not act on it; we will try again
            nonlocal marked
            if marked:
                await self.repo.unmark_sending(chat, key)
                marked = False

        try:
            scope = await self.repo.scope_of_chat(chat)
            prepared = await self._prepared(scope, due, cache if cache is not None else {})
            if prepared.empty and due.sub.skip_empty:
                await self.repo.mark_delivered(chat, key)
                return "empty_skipped"
            await self.sender.send(chat, prepared.parts(), result, hooks=SendHooks(started, refused))
        except asyncio.CancelledError:
            await self._settle(chat, key, result, cancelled=True)
            raise
        except Exception:
            log.exception("digest %s for chat %s failed", key, chat)
            result.status = Status.FAILED
            if marked:  # a request had gone out: whatever failed after it, it may have arrived
                result.in_doubt, result.error = True, "an error after the request was written"
            return await self._settle(chat, key, result)
        if prepared.chart is not None and prepared.chart_file_id is None:
            for message in result.messages:
                if message.photo:
                    prepared.chart_file_id = message.photo[-1].file_id
        return await self._settle(chat, key, result)

    async def _settle(self, chat: int, key: str, result: SendResult, *, cancelled: bool = False) -> str:
        """Record the outcome: sent (even partly: never send a part twice), in doubt (kept as
        'sending' with a note: never resent), or released (nothing went out)."""
        if result.status is Status.FORBIDDEN:
            log.warning("chat %s refuses messages (%s): subscription deactivated", chat, result.error)
            await self.repo.deactivate_subscription(chat)
        if result.sent > 0:
            await self.repo.mark_delivered(chat, key)
            if cancelled or result.status is not Status.DELIVERED:
                log.warning("digest %s for chat %s sent only in part (%d message(s))", key, chat, result.sent)
            return "sent" if result.status is Status.DELIVERED and not cancelled else "partial"
        if result.in_doubt or result.status is Status.UNCERTAIN:
            note = result.error or "answer lost"
            await self.repo.mark_sending(chat, key, note=note)
            self._told_in_doubt.add((chat, key))
            log.warning("digest %s for chat %s may have been sent (%s): recorded, not resent", key, chat, note)
            return "uncertain"
        await self.repo.release_delivery(chat, key)
        if cancelled:
            return "cancelled"
        if result.status is Status.FAILED:
            self._failures[(chat, key)] += 1
            log.error("digest %s for chat %s not delivered: %s (claim released)", key, chat, result.error)
            return "failed"
        return "forbidden"

    # --- on demand --------------------------------------------------------------------------------
    async def send_now(
        self, chat_id: int, scope: int, *, days: int = 7, tz: ZoneInfo | None = None
    ) -> SendResult:
        """/digest: the last `days` days up to now, sent to the chat (not recorded as a period)."""
        end = self.now()
        start = end - timedelta(days=days)
        prepared = await self.build(scope, start, end, tz or ZoneInfo("Asia/Ho_Chi_Minh"), None)
        return await self.sender.send(chat_id, prepared.parts(), bulk=False)

    def subscription_changed(self, sub: Subscription) -> None:
        """Forget failure counts for the chat (new settings deserve a new try)."""
        for k in [k for k in self._failures if k[0] == sub.chat_id]:
            del self._failures[k]
