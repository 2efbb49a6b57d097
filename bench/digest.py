"""Digest fan-out speed against the Bot API emulator, and the time to build one big digest.

1. Fan-out: N subscribers (default 10,000) all due at the same weekly slot; most have an empty
   period (one short message), every tenth shares a scope holding the five seed reports (the
   digest text and its chart: two messages, the chart uploaded once and then sent by file_id).
   The digest service sends through the paced sender (<= 30 msg/s overall, <= 1 msg/s per chat)
   and the app's bot (ChatRateLimiter()), over HTTP to the emulator, with the claims
   and deliveries written to a SQLite repository on disk. Prints messages, total time, achieved
   messages/s against the 30 msg/s cap (target >= 95%), and the most messages seen in any
   1-second window (must be <= 30).
2. Build: 1,000 summarised reports from 200 units in one scope for one week; prints the time to
   query them, build the Digest, render the messages and draw the chart (target < 1 s to build).

    .venv/bin/python bench/digest.py [--subscribers 10000] [--reports 1000] [--skip-fanout]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram.ext import ApplicationBuilder  # noqa: E402

from bot.digests.chart import render_chart  # noqa: E402
from bot.digests.content import build_digest  # noqa: E402
from bot.digests.delivery import PacedSender  # noqa: E402
from bot.digests.messages import render_digest  # noqa: E402
from bot.digests.schedule import Slot  # noqa: E402
from bot.digests.service import DigestService  # noqa: E402
from bot.emulator import BotAPIEmulator  # noqa: E402
from bot.ratelimit import ChatRateLimiter  # noqa: E402
from storage import NewReport, Repository, Subscription  # noqa: E402
from summariser import clean_text, summarise  # noqa: E402
from summariser.models import Item  # noqa: E402

SEEDS = [clean_text(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "seeds").glob("*.txt"))]
OCCURRENCE = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # Monday 07:30 Asia/Ho_Chi_Minh
RATE = 30.0


class StampingBot:
    """The app's bot, noting when each successful send started and when its answer came."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.starts: list[float] = []
        self.stamps: list[float] = []

    async def _send(self, method: str, **kw: Any) -> Any:
        started = time.monotonic()
        message = await getattr(self.bot, method)(**kw)
        self.starts.append(started)
        self.stamps.append(time.monotonic())
        return message

    async def send_message(self, **kw: Any) -> Any:
        return await self._send("send_message", **kw)

    async def send_photo(self, **kw: Any) -> Any:
        return await self._send("send_photo", **kw)


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    stamps = sorted(stamps)
    return max((bisect.bisect_left(stamps, t + window) - i for i, t in enumerate(stamps)), default=0)


async def fan_out(n: int, tmp: Path) -> None:
    repo = await Repository.open(tmp / "fanout.sqlite3")
    t0 = time.perf_counter()
    shared_scope = 10**9
    for i, text in enumerate(SEEDS):
        stored, _ = await repo.add_report(
            NewReport(
                scope=shared_scope,
                chat_id=shared_scope,
                text=text,
                received_at=OCCURRENCE - timedelta(days=1 + i / 10),
            )
        )
        await repo.save_summary(stored.id, summarise(text))
    chats = list(range(1_000_001, 1_000_001 + n))
    for chat in chats:
        await repo.upsert_subscription(Subscription(chat_id=chat, created_at=OCCURRENCE - timedelta(days=30)))
        if chat % 10 == 0:
            await repo.join_scope(chat, shared_scope)
    print(f"setup: {n} subscriptions in {time.perf_counter() - t0:.1f} s")

    async with BotAPIEmulator() as emu:
        app = (
            ApplicationBuilder()
            .token(emu.token)
            .base_url(emu.base_url)
            .base_file_url(emu.base_file_url)
            .rate_limiter(ChatRateLimiter())
            .build()
        )
        await app.bot.initialize()
        stamped = StampingBot(app.bot)
        service = DigestService(repo, PacedSender(stamped), now=lambda: OCCURRENCE + timedelta(seconds=1))
        start = time.monotonic()
        report = await service.run_slot(Slot.of(Subscription(chat_id=0)))
        total = time.monotonic() - start
        await app.bot.shutdown()
        sends = sum(1 for m, _ in emu.calls if m in ("sendMessage", "sendPhoto"))
        delivered = len(emu.messages())
    stamps = stamped.stamps
    messages = len(stamps)
    rate = messages / total
    steady = (messages - 1) / (stamps[-1] - stamps[0]) if messages > 1 else 0.0
    print(f"fan-out outcomes: {dict(report.outcomes)}, not started {report.not_started}")
    print(f"messages delivered: {messages} (emulator saw {sends} send calls, stored {delivered} messages)")
    print(f"total time: {total:.1f} s")
    print(f"achieved: {rate:.2f} msg/s overall = {100 * rate / RATE:.1f}% of the {RATE:.0f} msg/s limit")
    print(f"first to last message: {steady:.2f} msg/s = {100 * steady / RATE:.1f}% of the limit")
    print(
        f"most messages in any 1 s window: {max_in_window(stamped.starts)} by request start, "
        f"{max_in_window(stamps)} by answer time"
    )
    await repo.close()


async def build_bench(n_reports: int, tmp: Path) -> None:
    repo = await Repository.open(tmp / "build.sqlite3")
    summaries = [summarise(text) for text in SEEDS]
    scope = 7
    batch = []
    for i in range(n_reports):
        seed = i % len(SEEDS)
        batch.append(
            NewReport(
                scope=scope,
                chat_id=scope,
                text=SEEDS[seed] + f"\nBản số {i}.",
                received_at=OCCURRENCE
                - timedelta(days=7)
                + timedelta(seconds=(i + 1) * 7 * 86400 / (n_reports + 1)),
            )
        )
    stored = await repo.add_reports(batch)
    for i, (report, _) in enumerate(stored):
        base = summaries[i % len(SEEDS)]
        unit = f"{base.unit or 'huyện Không Tên'} {i % 200}"
        place = f" ở xã số {i % 37}"  # vary the wording so grouping has real work to do
        varied = base.model_copy(
            update={
                "unit": unit,
                "shortcomings": [Item(text=it.text + place) for it in base.shortcomings],
                "tasks": [Item(text=it.text + place) for it in base.tasks],
            }
        )
        await repo.save_summary(report.id, varied)
    start, end = OCCURRENCE - timedelta(days=7), OCCURRENCE
    t0 = time.perf_counter()
    reports = await repo.received_between(scope, start, end)
    t1 = time.perf_counter()
    digest = build_digest(reports, start=start, end=end, scope=scope)
    t2 = time.perf_counter()
    messages = render_digest(digest, ZoneInfo("Asia/Ho_Chi_Minh"), "weekly")
    t3 = time.perf_counter()
    png = render_chart(digest.chart) if digest.chart else b""
    t4 = time.perf_counter()
    png = render_chart(digest.chart) if digest.chart else b""
    t5 = time.perf_counter()
    print(
        f"digest of {len(reports)} reports from {digest.unit_count} units: "
        f"{len(digest.issues)} recurring shortcomings, {len(digest.tasks)} tasks shown, "
        f"{len(messages)} message(s), chart {len(png)} bytes"
    )
    print(f"query (received_between): {1000 * (t1 - t0):.0f} ms")
    print(f"build_digest: {1000 * (t2 - t1):.0f} ms")
    print(f"render messages: {1000 * (t3 - t2):.0f} ms")
    print(f"build + render: {1000 * (t3 - t1):.0f} ms (target < 1000 ms)")
    print(f"chart: {1000 * (t4 - t3):.0f} ms first (imports matplotlib), {1000 * (t5 - t4):.0f} ms next")
    await repo.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--reports", type=int, default=1_000)
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_build:
            print(f"== build one digest from {args.reports} stored reports")
            await build_bench(args.reports, Path(tmp))
        if not args.skip_fanout:
            print(f"== fan-out to {args.subscribers} subscribers, paced at {RATE:.0f} msg/s")
            await fan_out(args.subscribers, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
